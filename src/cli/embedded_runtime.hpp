// The processing half of `thumbflow serve`: the pipeline, the self-scaling worker pool, the
// endpoint's hook that turns every completed upload into a durable job, and the console port's
// notification receiver (POST /events) for S3 servers that push notifications (Ceph RADOS
// Gateway, or AWS through an HTTP bridge).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "catalog/catalog.hpp"
#include "config/config.hpp"
#include "core/object_created.hpp"
#include "events/job_queue.hpp"
#include "monitoring/monitor.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/worker_pool.hpp"
#include "storage/object_store.hpp"

namespace thumbflow::cli {

// The console token: generated at first start into DATA/.thumbflow/console-token (mode 0600),
// or THUMBFLOW_CONSOLE_TOKEN. Accepted as "Authorization: Bearer <token>" or "?token=<token>".
Result<std::string> load_or_create_console_token(const std::filesystem::path& data);

class EmbeddedRuntime {
 public:
  // With a monitor, the pipeline, queue and workers feed its metrics, GET /metrics serves them
  // and its alarm rules run while the runtime does.
  EmbeddedRuntime(const config::Config& config, storage::ObjectStore& store, catalog::Catalog& catalog,
                  events::JobQueue& queue, monitoring::Monitor* monitor = nullptr);
  ~EmbeddedRuntime();
  EmbeddedRuntime(const EmbeddedRuntime&) = delete;
  EmbeddedRuntime& operator=(const EmbeddedRuntime&) = delete;

  // Returns abandoned leases to the queue, starts the workers and the console listener.
  Status start(const std::string& console_host, int console_port, const std::string& console_token);
  // Stops the console, then the workers (jobs in progress finish; none is lost).
  void stop();

  // The endpoint's hook: a durable job for a triggering key, then a worker is woken.
  Status on_object_created(const ObjectCreated& event);
  int console_port() const;
  pipeline::PoolGauges gauges() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace thumbflow::cli
