// The metrics thumbflow publishes (GET /metrics, alarm rules), fed by the endpoint, the queue,
// the workers and the pipeline. Names follow Prometheus conventions (base units: seconds, bytes;
// counters end in _total). docs/monitoring.md lists them.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/image_record.hpp"
#include "monitoring/metrics.hpp"

namespace thumbflow::monitoring {

class ServiceMetrics {
 public:
  explicit ServiceMetrics(Registry& registry);

  // The S3 endpoint: one per request, by S3 operation (PutObject...) and HTTP status.
  void http_request(std::string_view operation, int status);
  // The pipeline.
  void image_processed(const ImageRecord& record);
  void image_failed(const ImageRecord& record);
  void image_retry(std::string_view error_kind);
  // The queue and the workers (sampled by a collector).
  void set_queue(std::int64_t queued, std::int64_t leased, std::int64_t failed, std::int64_t oldest_age_ms);
  void set_workers(unsigned workers, unsigned busy);

  Registry& registry() { return registry_; }

 private:
  Registry& registry_;
  CounterFamily& http_requests_;
  Counter& processed_;
  CounterFamily& failed_;
  CounterFamily& retries_;
  Histogram& processing_seconds_;
  Histogram& source_size_;
  Counter& source_bytes_;
  Counter& output_bytes_;
  Gauge& queue_depth_;
  Gauge& queue_leased_;
  Gauge& queue_failed_;
  Gauge& oldest_age_;
  Gauge& workers_;
  Gauge& workers_busy_;
};

}  // namespace thumbflow::monitoring
