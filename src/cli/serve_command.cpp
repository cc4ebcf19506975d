// thumbflow serve: the local home in one process until SIGINT/SIGTERM: the S3-compatible
// endpoint over a data folder, the durable queue, the self-scaling workers running the
// pipeline, the catalog, and the console port (notification receiver).
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
#include "cli/embedded_runtime.hpp"
#include "cli/home.hpp"
#include "monitoring/monitor.hpp"
#include "server/s3_auth.hpp"
#include "server/s3_server.hpp"

namespace thumbflow::cli {
namespace {

struct ServeOptions {
  std::string data;
  std::string config;
  std::string s3_listen;
  std::string console_listen;
  bool log_requests = false;
};

// "HOST:PORT" (IPv6 hosts in brackets) -> host, port; false when malformed.
bool split_listen(const std::string& text, std::string& host, int& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = text.substr(0, colon);
  try {
    std::size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) return false;
  } catch (const std::exception&) {
    return false;
  }
  if (port < 0 || port > 65535) return false;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return !host.empty();
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

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
  auto cfg = load_config(o.config, o.data);
  if (!cfg) {
    std::cerr << "thumbflow serve: " << cfg.error().message << "\n";
    return 2;
  }
  if (!o.s3_listen.empty()) cfg->server.s3_listen = o.s3_listen;
  if (!o.console_listen.empty()) cfg->server.console_listen = o.console_listen;
  std::string host, console_host;
  int port = 0, console_port = 0;
  if (!split_listen(cfg->server.s3_listen, host, port)) {
    std::cerr << "thumbflow serve: --s3-listen must be HOST:PORT, got '" << cfg->server.s3_listen << "'\n";
    return 2;
  }
  if (!split_listen(cfg->server.console_listen, console_host, console_port)) {
    std::cerr << "thumbflow serve: --console-listen must be HOST:PORT, got '" << cfg->server.console_listen << "'\n";
    return 2;
  }
  const std::string data = cfg->server.data;

  // Signals are taken by sigwait below; block them before any thread starts so none inherits them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (auto st = server::prepare_data_folder(data, cfg->server.bucket); !st) {
    std::cerr << "thumbflow serve: " << st.error().describe() << "\n";
    return 1;
  }
  FolderLock lock(data + "/.lock");
  if (!lock.acquire()) {
    std::cerr << "thumbflow serve: " << data << " is in use by another thumbflow process (" << data
              << "/.lock)\n";
    return 1;
  }
  auto env_key = server::access_key_from_environment();
  if (!env_key) {
    std::cerr << "thumbflow serve: " << env_key.error().message << "\n";
    return 2;
  }
  auto creds = server::load_or_create_credentials(data, *env_key);
  if (!creds) {
    std::cerr << "thumbflow serve: " << creds.error().describe() << "\n";
    return 1;
  }
  server::S3ServerConfig config;
  config.host = host;
  config.port = port;
  config.log_requests = o.log_requests;
  server::S3Server s3(data, server::KeyRing({creds->key}), config);

  // The processing half. With storage.kind = local the pipeline shares the endpoint's store, so
  // both go through the same per-key locks.
  auto home = open_home(*cfg);
  if (!home) {
    std::cerr << "thumbflow serve: " << home.error().describe() << "\n";
    return 1;
  }
  storage::ObjectStore& store = cfg->storage.kind == "local" ? s3.store() : *home->store;
  auto token = load_or_create_console_token(data);
  if (!token) {
    std::cerr << "thumbflow serve: " << token.error().describe() << "\n";
    return 1;
  }
  // Metrics and alarms (docs/monitoring.md): declared before the runtime, which feeds them.
  auto monitor = monitoring::Monitor::open(*cfg, data);
  if (!monitor) {
    std::cerr << "thumbflow serve: " << monitor.error().message << "\n";
    return 2;
  }
  monitoring::ServiceMetrics& metrics = (*monitor)->metrics();
  s3.on_request([&metrics](std::string_view operation, int status) { metrics.http_request(operation, status); });
  EmbeddedRuntime runtime(*cfg, store, *home->catalog, *home->queue, monitor->get());
  s3.on_object_created([&runtime](const ObjectCreated& ev) { return runtime.on_object_created(ev); });
  if (auto st = runtime.start(console_host, console_port, *token); !st) {
    std::cerr << "thumbflow serve: " << st.error().describe() << "\n";
    return 1;
  }
  if (auto st = s3.start(); !st) {
    std::cerr << "thumbflow serve: " << st.error().describe() << "\n";
    runtime.stop();
    return 1;
  }
  const char* origin = creds->origin == server::LoadedCredentials::Origin::environment
                           ? "from THUMBFLOW_ACCESS_KEY / THUMBFLOW_SECRET_KEY"
                       : creds->origin == server::LoadedCredentials::Origin::generated
                           ? "new, stored in "
                           : "from ";
  const bool file = creds->origin != server::LoadedCredentials::Origin::environment;
  const std::string endpoint = s3.endpoint();
  std::cout << "thumbflow serve: S3 endpoint " << endpoint << " (data in " << data << ")\n"
            << "  access key  " << creds->key.access_key_id << "\n"
            << "  secret key  " << creds->key.secret_access_key << "\n"
            << "  keys        " << origin << (file ? creds->file.string() : std::string{}) << "\n"
            << "  bucket      s3://" << cfg->server.bucket << " (" << cfg->trigger.input_prefix << " -> "
            << cfg->trigger.output_prefix << ")\n"
            << "  console     http://" << console_host << ":" << runtime.console_port() << " (token " << *token
            << "; web page and REST API, docs/api.md; POST /events takes S3 notifications; GET /metrics, no token)\n"
            << "  alarms      " << (cfg->alarms.enabled ? std::to_string(cfg->alarms.rules.size()) + " rule(s), notifying " +
                                                             (cfg->notify.configured().empty() ? std::string("nobody (see [notify])")
                                                                                               : join(cfg->notify.configured()))
                                                       : std::string("off")) << "\n"
            << "  catalog     " << cfg->catalog.kind << " table " << cfg->catalog.table << "; workers "
            << cfg->workers.min << ".." << (cfg->workers.max ? std::to_string(cfg->workers.max) : std::string("cores"))
            << "\n\n"
            << "Try it with the AWS CLI:\n"
            << "  export AWS_ACCESS_KEY_ID='" << creds->key.access_key_id << "' AWS_SECRET_ACCESS_KEY='"
            << creds->key.secret_access_key << "' AWS_DEFAULT_REGION=us-east-1\n"
            << "  aws configure set default.s3.addressing_style path\n"
            << "  aws --endpoint-url " << endpoint << " s3 cp test-image.jpg s3://" << cfg->server.bucket << "/"
            << cfg->trigger.input_prefix << "\n"
            << "  aws --endpoint-url " << endpoint << " s3 ls s3://" << cfg->server.bucket << "/"
            << cfg->trigger.output_prefix << "\n"
            << "  thumbflow images list --data " << data << "\n\n"
            << "Ctrl-C stops.\n"
            << std::flush;

  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "thumbflow serve: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
            << ", finishing requests in flight\n"
            << std::flush;
  s3.stop();       // no new uploads; every acknowledged one has its job
  runtime.stop();  // jobs in progress finish; the rest wait in the queue for the next start
  std::cout << "thumbflow serve: stopped\n";
  return 0;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve a local S3-compatible endpoint over a data folder");
  cmd->add_option("--data", o->data,
                  "Data folder (created if missing): buckets, queue, catalog, keys (default: server.data, "
                  "thumbflow-data)");
  cmd->add_option("--config", o->config, "Configuration file (see thumbflow.example.toml)");
  cmd->add_option("--s3-listen", o->s3_listen, "Address of the S3 endpoint, HOST:PORT (default 127.0.0.1:9000)");
  cmd->add_option("--console-listen", o->console_listen,
                  "Address of the console (POST /events, GET /healthz, GET /metrics), HOST:PORT (default 127.0.0.1:9001)");
  cmd->add_flag("--log-requests", o->log_requests, "Print one line per request on stderr");
  cmd->footer(
      "Creates the bucket image-processing-local with uploads/ and thumbnails/, generates an access key on first "
      "start (DATA/.thumbflow/credentials.json, mode 0600) unless THUMBFLOW_ACCESS_KEY and THUMBFLOW_SECRET_KEY are "
      "set, and serves path-style S3 with SigV4 until SIGINT or SIGTERM. Every upload under trigger.input_prefix "
      "becomes a durable job before it is acknowledged; workers (workers.min..workers.max) write renditions under "
      "trigger.output_prefix and a record in the catalog. Every setting of thumbflow.toml can also be given as "
      "THUMBFLOW_<SECTION>_<FIELD>.");
  return {cmd, [o] { return serve(*o); }};
}

}  // namespace thumbflow::cli
