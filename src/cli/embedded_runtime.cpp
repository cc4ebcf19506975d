#include "cli/embedded_runtime.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <random>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cli/home.hpp"
#include "console/console.hpp"
#include "events/event_decoder.hpp"
#include "pipeline/reconcile.hpp"
#include "pipeline/vips_renderer.hpp"

namespace thumbflow::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;

Result<std::string> load_or_create_console_token(const fs::path& data) {
  if (const char* env = std::getenv("THUMBFLOW_CONSOLE_TOKEN"); env && *env) return std::string(env);
  fs::path file = state_dir(data) / "console-token";
  std::error_code ec;
  if (fs::exists(file, ec)) {
    std::ifstream in(file);
    std::string token;
    std::getline(in, token);
    if (token.size() >= 16) return token;
  }
  std::random_device rd;
  static const char* alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string token;
  for (int i = 0; i < 40; ++i) token += alphabet[rd() % 36];
  fs::create_directories(file.parent_path(), ec);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorKind::io, "cannot write " + file.string());
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::fchmod(fd, 0600);
  ::close(fd);
  if (!ok) return make_error(ErrorKind::io, "cannot write " + file.string());
  return token;
}

namespace {

pipeline::PipelineConfig pipeline_config(const config::Config& c) {
  pipeline::PipelineConfig p;
  p.trigger.input_prefix = c.trigger.input_prefix;
  p.trigger.output_prefix = c.trigger.output_prefix;
  p.trigger.suffixes = c.trigger.suffixes;
  p.renditions = c.renditions;
  p.limits = c.limits;
  p.cache_control = c.cache_control;
  return p;
}

pipeline::WorkerPoolOptions pool_options(const config::Config& c) {
  pipeline::WorkerPoolOptions o;
  o.min_workers = c.workers.min;
  o.max_workers = c.workers.max;
  o.idle_timeout = std::chrono::milliseconds(c.workers.idle_timeout_ms);
  o.scale_up_age = std::chrono::milliseconds(c.workers.scale_up_age_ms);
  o.max_attempts = c.workers.max_attempts;
  return o;
}

// The pipeline's outcomes into the monitor: counters, histograms, and the failed objects the
// next ALARM message names. Runs on worker threads: atomics and one short mutex, no I/O.
class MonitorObserver final : public pipeline::PipelineObserver {
 public:
  explicit MonitorObserver(monitoring::Monitor* m) : monitor_(m) {}
  void on_processed(const ImageRecord& record) override {
    if (monitor_) monitor_->metrics().image_processed(record);
    if (live) live->on_processed(record);
  }
  void on_failed(const ImageRecord& record) override {
    if (monitor_) monitor_->image_failed(record);
    if (live) live->on_failed(record);
  }
  void on_retry(const ObjectCreated& event, const Error& error, int attempt) override {
    if (monitor_) monitor_->metrics().image_retry(to_string(error.kind));
    if (live) live->on_retry(event, error, attempt);
  }
  // The console's live updates; set before the workers start.
  pipeline::PipelineObserver* live = nullptr;

 private:
  monitoring::Monitor* monitor_;
};

}  // namespace

struct EmbeddedRuntime::Impl {
  Impl(const config::Config& c, storage::ObjectStore& s, catalog::Catalog& cat, events::JobQueue& q,
       monitoring::Monitor* m)
      : config(c),
        store(s),
        catalog(cat),
        queue(q),
        monitor(m),
        observer(m),
        pipeline(pipeline_config(c), store, catalog, renderer, &observer),
        pool(q, pipeline, pool_options(c), [](const events::Job& job, const pipeline::ProcessResult& r) {
          const std::string uri = job.event.ref().uri();
          switch (r.outcome) {
            case pipeline::Outcome::processed:
              spdlog::info("processed {} (image {}, attempt {})", uri, r.image_id, job.attempts);
              break;
            case pipeline::Outcome::failed:
              spdlog::warn("failed {}: {}", uri, r.error ? r.error->describe() : std::string("?"));
              break;
            case pipeline::Outcome::retry:
              spdlog::warn("will retry {} (attempt {}): {}", uri, job.attempts,
                           r.error ? r.error->describe() : std::string("?"));
              break;
            case pipeline::Outcome::already_done:
              spdlog::info("duplicate event for {}: already processed", uri);
              break;
            case pipeline::Outcome::superseded:
              spdlog::info("superseded {}: the object changed since the event", uri);
              break;
            case pipeline::Outcome::skipped:
              break;
          }
        }) {}

  // Catch-up at start (see pipeline/reconcile.hpp): uploads stored but never queued (a kill
  // between the two, files copied into the folder while the server was down) are queued now.
  // Every bucket of the data folder when the endpoint is the store (its hook triggers for any
  // bucket); only server.bucket on a shared S3 service, whose other buckets are not ours.
  void catch_up() {
    std::vector<std::string> names;
    if (config.storage.kind == "local") {
      auto buckets = store.list_buckets();
      if (!buckets) {
        spdlog::error("catch-up: cannot list buckets: {}", buckets.error().describe());
        return;
      }
      for (const auto& b : *buckets) names.push_back(b.name);
    } else {
      names.push_back(config.server.bucket);
    }
    auto announce = [this](const ObjectCreated& ev) -> Result<bool> {
      auto outcome = queue.enqueue(ev);
      if (!outcome) return outcome.error();
      if (*outcome == events::EnqueueOutcome::enqueued) pool.notify();
      return *outcome == events::EnqueueOutcome::enqueued;
    };
    for (const auto& name : names) {
      auto report = pipeline::reconcile(store, catalog, pipeline.config().trigger, name, announce, &stopping);
      if (!report) {
        spdlog::error("catch-up of s3://{}: {}", name, report.error().describe());
        continue;
      }
      if (report->queued > 0)
        spdlog::warn("catch-up of s3://{}: {} upload(s) had no record and no job; queued now", name, report->queued);
      else
        spdlog::info("catch-up of s3://{}: {} upload(s), every one recorded or queued", name, report->scanned);
    }
  }

  config::Config config;
  storage::ObjectStore& store;
  catalog::Catalog& catalog;
  events::JobQueue& queue;
  monitoring::Monitor* monitor;
  MonitorObserver observer;
  pipeline::VipsRenderer renderer;
  pipeline::Pipeline pipeline;
  pipeline::WorkerPool pool;
  httplib::Server console;
  std::unique_ptr<console::Console> console_app;  // REST API and web page (src/console)
  std::thread console_thread;
  std::thread catch_up_thread;
  std::atomic<bool> stopping{false};
  int console_port = 0;
  std::string token;
};

EmbeddedRuntime::EmbeddedRuntime(const config::Config& config, storage::ObjectStore& store, catalog::Catalog& catalog,
                                 events::JobQueue& queue, monitoring::Monitor* monitor)
    : impl_(std::make_unique<Impl>(config, store, catalog, queue, monitor)) {
  if (!monitor) return;
  // The queue and the workers are sampled when /metrics is read and at each alarm evaluation.
  monitor->registry().add_collector([this] {
    auto* m = impl_->monitor;
    auto g = impl_->pool.gauges();
    m->metrics().set_workers(g.workers, g.busy);
    if (auto st = impl_->queue.stats(); st)
      m->metrics().set_queue(st->queued, st->leased, st->failed, st->oldest_queued_age_ms);
  });
}

EmbeddedRuntime::~EmbeddedRuntime() { stop(); }

Status EmbeddedRuntime::on_object_created(const ObjectCreated& event) {
  if (!impl_->pipeline.config().trigger.matches(event.key)) return ok_status();
  auto outcome = impl_->queue.enqueue(event);
  if (!outcome) {
    spdlog::error("cannot queue {}: {}", event.ref().uri(), outcome.error().describe());
    return outcome.error();
  }
  if (*outcome == events::EnqueueOutcome::enqueued) impl_->pool.notify();
  return ok_status();
}

Status EmbeddedRuntime::start(const std::string& host, int port, const std::string& token) {
  if (auto n = impl_->queue.recover_leases(); !n) {
    return n.error();
  } else if (*n > 0) {
    spdlog::info("{} job(s) left in progress by the previous run are queued again", *n);
  }
  // The console's limits (THUMBFLOW_CONSOLE_*), checked before anything starts.
  auto console_options = console::options_from_env([](const char* name) { return std::getenv(name); });
  if (!console_options) return console_options.error();
  impl_->console_app = std::make_unique<console::Console>(
      console::ConsoleDeps{impl_->store, impl_->catalog, impl_->queue, impl_->config.server.bucket,
                           impl_->config.trigger.input_prefix, token,
                           [this](const ObjectCreated& ev) { return on_object_created(ev); },
                           [this] { return impl_->pool.gauges(); }, impl_->monitor},
      *console_options);
  impl_->observer.live = &impl_->console_app->hub();
  impl_->pool.start();
  impl_->token = token;
  auto& srv = impl_->console;
  auto authorized = [this](const httplib::Request& req) {
    const std::string bearer = "Bearer " + impl_->token;
    return req.get_header_value("Authorization") == bearer ||
           (req.has_param("token") && req.get_param_value("token") == impl_->token);
  };
  auto send_json = [](httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  };
  srv.set_payload_max_length(events::kMaxEventDocumentBytes);
  srv.Get("/healthz", [this, send_json](const httplib::Request&, httplib::Response& res) {
    auto g = impl_->pool.gauges();
    send_json(res, 200, {{"status", "ok"}, {"workers", g.workers}, {"busy", g.busy}, {"queueDepth", g.queue_depth}});
  });
  // S3-style event notifications pushed by an S3 server (RGW's HTTP push endpoint, SNS-style
  // bridges): decoded, filtered by the trigger, queued durably before the 200.
  srv.Post("/events", [this, authorized, send_json](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req)) return send_json(res, 401, {{"error", "missing or wrong console token"}});
    auto doc = events::decode_event_document(req.body);
    if (!doc) return send_json(res, 400, {{"error", doc.error().message}});
    int queued = 0, ignored = 0;
    std::vector<std::string> errors;
    for (const auto& m : doc->messages) {
      if (m.error) errors.push_back(m.error->message);
      for (const auto& ev : m.objects) {
        if (!impl_->pipeline.config().trigger.matches(ev.key)) {
          ++ignored;
          continue;
        }
        auto st = on_object_created(ev);
        if (!st) return send_json(res, 503, {{"error", st.error().message}});
        ++queued;
      }
    }
    send_json(res, errors.empty() ? 200 : 400, {{"queued", queued}, {"ignored", ignored}, {"errors", errors}});
  });
  // Prometheus scrapes without credentials; the console listens on loopback by default, and
  // the metrics name no object (docs/monitoring.md).
  srv.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    if (!impl_->monitor) {
      res.status = 404;
      return;
    }
    res.set_content(impl_->monitor->registry().prometheus_text(), "text/plain; version=0.0.4; charset=utf-8");
  });
  impl_->console_app->mount(srv);  // after /events: its payload cap is the console's upload cap
  int bound = port == 0 ? srv.bind_to_any_port(host) : (srv.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    impl_->pool.stop();
    return make_error(ErrorKind::unavailable, "cannot listen on " + host + ":" + std::to_string(port) + " (console)");
  }
  impl_->console_port = bound;
  impl_->console_thread = std::thread([this] { impl_->console.listen_after_bind(); });
  impl_->catch_up_thread = std::thread([this] { impl_->catch_up(); });
  if (impl_->monitor) impl_->monitor->start();
  return ok_status();
}

void EmbeddedRuntime::stop() {
  impl_->stopping = true;
  if (impl_->monitor) impl_->monitor->stop();
  if (impl_->catch_up_thread.joinable()) impl_->catch_up_thread.join();
  if (impl_->console_app) impl_->console_app->shutdown();  // event streams end first
  if (impl_->console_thread.joinable()) {
    impl_->console.stop();
    impl_->console_thread.join();
  }
  impl_->pool.stop();
}

int EmbeddedRuntime::console_port() const { return impl_->console_port; }
pipeline::PoolGauges EmbeddedRuntime::gauges() const { return impl_->pool.gauges(); }

}  // namespace thumbflow::cli
