#include "monitoring/service_metrics.hpp"

#include <string>

namespace thumbflow::monitoring {

ServiceMetrics::ServiceMetrics(Registry& r)
    : registry_(r),
      http_requests_(r.counter("thumbflow_http_requests_total", "Requests served by the S3 endpoint, by S3 operation and HTTP status",
                               {"operation", "status"})),
      processed_(r.counter("thumbflow_images_processed_total", "Images processed: renditions and a record written").with({})),
      failed_(r.counter("thumbflow_images_failed_total", "Images that ended as a failure record, by error kind", {"kind"})),
      retries_(r.counter("thumbflow_image_retries_total", "Attempts that failed with a retryable error and will be tried again, by error kind",
                         {"kind"})),
      processing_seconds_(r.histogram("thumbflow_image_processing_seconds", "Time to process one image (fetch, render, store, record)",
                                      {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60})
                              .with({})),
      source_size_(r.histogram("thumbflow_image_source_size_bytes", "Size of each source image processed or failed",
                               exponential_buckets(1024, 4, 10))
                       .with({})),
      source_bytes_(r.counter("thumbflow_source_bytes_total", "Bytes of source images read").with({})),
      output_bytes_(r.counter("thumbflow_output_bytes_total", "Bytes of renditions written").with({})),
      queue_depth_(r.gauge("thumbflow_queue_depth", "Jobs waiting in the queue (due now or later)").with({})),
      queue_leased_(r.gauge("thumbflow_queue_leased", "Jobs being processed").with({})),
      queue_failed_(r.gauge("thumbflow_queue_failed", "Jobs in the dead letter state").with({})),
      oldest_age_(r.gauge("thumbflow_queue_oldest_job_age_seconds", "Age of the oldest waiting job, 0 when none").with({})),
      workers_(r.gauge("thumbflow_workers", "Worker threads running").with({})),
      workers_busy_(r.gauge("thumbflow_workers_active", "Workers processing a job now").with({})) {
  // Every kind shows from the start with 0, so a rate() over the first failure is not lost.
  for (ErrorKind k : {ErrorKind::unsupported_format, ErrorKind::corrupt, ErrorKind::too_large, ErrorKind::invalid_argument,
                      ErrorKind::not_found, ErrorKind::already_exists, ErrorKind::precondition_failed,
                      ErrorKind::access_denied, ErrorKind::io, ErrorKind::unavailable, ErrorKind::internal}) {
    (void)failed_.with({to_string(k)});
    (void)retries_.with({to_string(k)});
  }
}

void ServiceMetrics::http_request(std::string_view operation, int status) {
  http_requests_.with({operation, std::to_string(status)}).inc();
}

void ServiceMetrics::image_processed(const ImageRecord& rec) {
  processed_.inc();
  processing_seconds_.observe(rec.processing_ms / 1000.0);
  source_size_.observe(static_cast<double>(rec.source_bytes));
  source_bytes_.inc(static_cast<double>(rec.source_bytes));
  std::uint64_t out = 0;
  for (const auto& r : rec.renditions) out += r.bytes;
  output_bytes_.inc(static_cast<double>(out));
}

void ServiceMetrics::image_failed(const ImageRecord& rec) {
  failed_.with({rec.error_kind.empty() ? std::string("internal") : rec.error_kind}).inc();
  processing_seconds_.observe(rec.processing_ms / 1000.0);
  if (rec.source_bytes > 0) {
    source_size_.observe(static_cast<double>(rec.source_bytes));
    source_bytes_.inc(static_cast<double>(rec.source_bytes));
  }
}

void ServiceMetrics::image_retry(std::string_view error_kind) { retries_.with({error_kind}).inc(); }

void ServiceMetrics::set_queue(std::int64_t queued, std::int64_t leased, std::int64_t failed, std::int64_t oldest_age_ms) {
  queue_depth_.set(static_cast<double>(queued));
  queue_leased_.set(static_cast<double>(leased));
  queue_failed_.set(static_cast<double>(failed));
  oldest_age_.set(static_cast<double>(oldest_age_ms) / 1000.0);
}

void ServiceMetrics::set_workers(unsigned workers, unsigned busy) {
  workers_.set(workers);
  workers_busy_.set(busy);
}

}  // namespace thumbflow::monitoring
