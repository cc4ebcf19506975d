// thumbflow serve: the local S3-compatible endpoint over a data folder, until SIGINT/SIGTERM.
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "server/s3_auth.hpp"
#include "server/s3_server.hpp"

namespace thumbflow::cli {
namespace {

struct ServeOptions {
  std::string data;
  std::string s3_listen = "127.0.0.1:9000";
  bool log_requests = false;
};

// One process owns a data folder (LocalStore's per-key locks are in-process).
class FolderLock {
 public:
  explicit FolderLock(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {}
  ~FolderLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  bool acquire() { return fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0; }

 private:
  int fd_;
};

int serve(const ServeOptions& o) {
  const auto colon = o.s3_listen.rfind(':');
  std::string host = colon == std::string::npos ? o.s3_listen : o.s3_listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(o.s3_listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (colon == std::string::npos || host.empty() || port < 0 || port > 65535) {
    std::cerr << "thumbflow serve: --s3-listen must be HOST:PORT, got '" << o.s3_listen << "'\n";
    return 2;
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);

  // Signals are taken by sigwait below; block them before any thread starts so none inherits them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (auto st = server::prepare_data_folder(o.data); !st) {
    std::cerr << "thumbflow serve: " << st.error().describe() << "\n";
    return 1;
  }
  FolderLock lock(o.data + "/.lock");
  if (!lock.acquire()) {
    std::cerr << "thumbflow serve: " << o.data << " is in use by another thumbflow process (" << o.data
              << "/.lock)\n";
    return 1;
  }
  auto env_key = server::access_key_from_environment();
  if (!env_key) {
    std::cerr << "thumbflow serve: " << env_key.error().message << "\n";
    return 2;
  }
  auto creds = server::load_or_create_credentials(o.data, *env_key);
  if (!creds) {
    std::cerr << "thumbflow serve: " << creds.error().describe() << "\n";
    return 1;
  }
  server::S3ServerConfig config;
  config.host = host;
  config.port = port;
  config.log_requests = o.log_requests;
  server::S3Server s3(o.data, server::KeyRing({creds->key}), config);
  if (auto st = s3.start(); !st) {
    std::cerr << "thumbflow serve: " << st.error().describe() << "\n";
    return 1;
  }
  const char* origin = creds->origin == server::LoadedCredentials::Origin::environment
                           ? "from THUMBFLOW_ACCESS_KEY / THUMBFLOW_SECRET_KEY"
                       : creds->origin == server::LoadedCredentials::Origin::generated
                           ? "new, stored in "
                           : "from ";
  const bool file = creds->origin != server::LoadedCredentials::Origin::environment;
  const std::string endpoint = s3.endpoint();
  std::cout << "thumbflow serve: S3 endpoint " << endpoint << " (data in " << o.data << ")\n"
            << "  access key  " << creds->key.access_key_id << "\n"
            << "  secret key  " << creds->key.secret_access_key << "\n"
            << "  keys        " << origin << (file ? creds->file.string() : std::string{}) << "\n"
            << "  bucket      s3://" << server::kDefaultBucket << " (uploads/, thumbnails/)\n\n"
            << "Try it with the AWS CLI:\n"
            << "  export AWS_ACCESS_KEY_ID='" << creds->key.access_key_id << "' AWS_SECRET_ACCESS_KEY='"
            << creds->key.secret_access_key << "' AWS_DEFAULT_REGION=us-east-1\n"
            << "  aws configure set default.s3.addressing_style path\n"
            << "  aws --endpoint-url " << endpoint << " s3 cp test-image.jpg s3://" << server::kDefaultBucket
            << "/uploads/\n\n"
            << "Ctrl-C stops.\n"
            << std::flush;

  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "thumbflow serve: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
            << ", finishing requests in flight\n"
            << std::flush;
  s3.stop();
  std::cout << "thumbflow serve: stopped\n";
  return 0;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve a local S3-compatible endpoint over a data folder");
  cmd->add_option("--data", o->data, "Data folder (created if missing): buckets, objects, keys")->required();
  cmd->add_option("--s3-listen", o->s3_listen, "Address of the S3 endpoint, HOST:PORT")
      ->capture_default_str();
  cmd->add_flag("--log-requests", o->log_requests, "Print one line per request on stderr");
  cmd->footer(
      "Creates the bucket image-processing-local with uploads/ and thumbnails/, generates an access key on first "
      "start (DATA/.thumbflow/credentials.json, mode 0600) unless THUMBFLOW_ACCESS_KEY and THUMBFLOW_SECRET_KEY are "
      "set, and serves path-style S3 with SigV4 until SIGINT or SIGTERM.");
  return {cmd, [o] { return serve(*o); }};
}

}  // namespace thumbflow::cli
