// Loopback TCP fault injection for storage tests (127.0.0.1 only, bounded, stops by itself):
// - RawServer: each accepted connection handed to a function (answer, stall, reset).
// - FaultProxy: forwards to a real server (RADOS Gateway) and resets connections in flight on
//   request, so a client's retries and a server's handling of broken uploads are seen together.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace thumbflow::storage::faults {

class RawServer {
 public:
  using Behaviour = std::function<void(int fd, int index)>;
  explicit RawServer(Behaviour behaviour);
  ~RawServer();
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return count_.load(); }

  // Helpers for behaviours.
  static std::string read_head(int fd);                 // up to and including the blank line
  static std::size_t read_bytes(int fd, std::size_t n, std::string* into = nullptr);
  static void write_all(int fd, std::string_view data);
  static void reset(int fd);                            // close with RST
  static std::uint64_t content_length(const std::string& head);

 private:
  void run();
  Behaviour behaviour_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> count_{0};
  std::thread thread_;
};

// A pass-through TCP proxy to host:port that can reset connections mid-transfer.
class FaultProxy {
 public:
  FaultProxy(std::string upstream_host, int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Uploads: once `after_total` client-to-server bytes have passed in all, a connection that
  // sends more than `per_connection` further bytes is reset (both sides, RST). Transient: only
  // the first such connection; permanent: every one, until disarm().
  void arm_upload_fault(std::uint64_t after_total, std::uint64_t per_connection, bool permanent);
  // Downloads: the first connection to carry more than `after_bytes` server-to-client bytes is
  // reset once.
  void arm_download_fault(std::uint64_t after_bytes);
  void disarm();
  int resets() const { return resets_.load(); }

 private:
  void run();
  void pump(int client_fd);

  std::string upstream_host_;
  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex workers_mutex_;
  std::vector<std::thread> workers_;

  std::atomic<bool> upload_armed_{false};
  std::atomic<bool> upload_permanent_{false};
  std::atomic<std::uint64_t> upload_after_total_{0};
  std::atomic<std::uint64_t> upload_per_connection_{0};
  std::atomic<std::uint64_t> total_up_{0};
  std::atomic<bool> download_armed_{false};
  std::atomic<std::uint64_t> download_after_{0};
  std::atomic<int> resets_{0};
};

}  // namespace thumbflow::storage::faults
