#include "tcp_faults.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace thumbflow::storage::faults {
namespace {

// A listening socket on an ephemeral 127.0.0.1 port.
int listen_loopback(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    throw std::runtime_error("bind/listen on 127.0.0.1 failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

int connect_to(const std::string& host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Accepts with a short poll so the loop notices `stop`.
int accept_or_timeout(int listen_fd) {
  pollfd p{listen_fd, POLLIN, 0};
  if (::poll(&p, 1, 20) <= 0) return -1;
  return ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
}

bool send_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t k = ::send(fd, data, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    data += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

}  // namespace

// ---- RawServer ------------------------------------------------------------------------------------

RawServer::RawServer(Behaviour behaviour) : behaviour_(std::move(behaviour)) {
  listen_fd_ = listen_loopback(&port_);
  thread_ = std::thread([this] { run(); });
}

RawServer::~RawServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

void RawServer::run() {
  std::vector<std::thread> workers;
  while (!stop_) {
    const int fd = accept_or_timeout(listen_fd_);
    if (fd < 0) continue;
    const int index = count_++;
    workers.emplace_back([this, fd, index] { behaviour_(fd, index); });
  }
  for (auto& w : workers) w.join();
}

std::string RawServer::read_head(int fd) {
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos && ::read(fd, &c, 1) == 1) head += c;
  return head;
}

std::size_t RawServer::read_bytes(int fd, std::size_t n, std::string* into) {
  char buf[65536];
  std::size_t got = 0;
  while (got < n) {
    const ssize_t k = ::read(fd, buf, std::min(sizeof buf, n - got));
    if (k <= 0) break;
    if (into) into->append(buf, static_cast<std::size_t>(k));
    got += static_cast<std::size_t>(k);
  }
  return got;
}

void RawServer::write_all(int fd, std::string_view data) { send_all(fd, data.data(), data.size()); }

void RawServer::reset(int fd) {
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  ::close(fd);
}

std::uint64_t RawServer::content_length(const std::string& head) {
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto pos = lower.find("\r\ncontent-length:");
  if (pos == std::string::npos) return 0;
  return std::strtoull(lower.c_str() + pos + 17, nullptr, 10);
}

// ---- FaultProxy -------------------------------------------------------------------------------------

FaultProxy::FaultProxy(std::string upstream_host, int upstream_port)
    : upstream_host_(std::move(upstream_host)), upstream_port_(upstream_port) {
  listen_fd_ = listen_loopback(&port_);
  thread_ = std::thread([this] { run(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  thread_.join();
  std::lock_guard lock(workers_mutex_);
  for (auto& w : workers_) w.join();
  ::close(listen_fd_);
}

void FaultProxy::arm_upload_fault(std::uint64_t after_total, std::uint64_t per_connection, bool permanent) {
  upload_after_total_ = total_up_.load() + after_total;
  upload_per_connection_ = per_connection;
  upload_permanent_ = permanent;
  upload_armed_ = true;
}

void FaultProxy::arm_download_fault(std::uint64_t after_bytes) {
  download_after_ = after_bytes;
  download_armed_ = true;
}

void FaultProxy::disarm() {
  upload_armed_ = false;
  download_armed_ = false;
}

void FaultProxy::run() {
  while (!stop_) {
    const int fd = accept_or_timeout(listen_fd_);
    if (fd < 0) continue;
    std::lock_guard lock(workers_mutex_);
    workers_.emplace_back([this, fd] { pump(fd); });
  }
}

void FaultProxy::pump(int client) {
  const int upstream = connect_to(upstream_host_, upstream_port_);
  if (upstream < 0) {
    RawServer::reset(client);
    return;
  }
  std::uint64_t up_since_armed = 0;  // client->server bytes after the global threshold
  std::uint64_t down = 0;            // server->client bytes on this connection
  auto reset_both = [&] {
    ++resets_;
    RawServer::reset(client);
    RawServer::reset(upstream);
  };
  char buf[65536];
  while (!stop_) {
    pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
    const int ready = ::poll(fds, 2, 50);
    if (ready < 0) break;
    if (ready == 0) continue;
    if (fds[0].revents) {
      const ssize_t k = ::recv(client, buf, sizeof buf, 0);
      if (k <= 0) break;
      const auto n = static_cast<std::uint64_t>(k);
      const std::uint64_t total = total_up_ += n;
      if (upload_armed_ && total > upload_after_total_) {
        up_since_armed += n;
        if (up_since_armed > upload_per_connection_) {
          if (!upload_permanent_) upload_armed_ = false;
          reset_both();
          return;
        }
      }
      if (!send_all(upstream, buf, static_cast<std::size_t>(k))) break;
    }
    if (fds[1].revents) {
      const ssize_t k = ::recv(upstream, buf, sizeof buf, 0);
      if (k <= 0) break;
      down += static_cast<std::uint64_t>(k);
      if (download_armed_ && down > download_after_) {
        download_armed_ = false;
        // Deliver what came before the threshold, then break the connection mid-body.
        reset_both();
        return;
      }
      if (!send_all(client, buf, static_cast<std::size_t>(k))) break;
    }
  }
  ::close(client);
  ::close(upstream);
}

}  // namespace thumbflow::storage::faults
