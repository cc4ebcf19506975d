#include "pipeline/reconcile.hpp"

#include "catalog/image_id.hpp"

namespace thumbflow::pipeline {

Result<ReconcileReport> reconcile(storage::ObjectStore& store, catalog::Catalog& catalog, const TriggerConfig& trigger,
                                  const std::string& bucket, const Announce& announce, const std::atomic<bool>* stop) {
  ReconcileReport report;
  storage::ListOptions opts;
  opts.prefix = trigger.input_prefix;
  for (;;) {
    if (stop && stop->load()) return report;
    auto page = store.list(bucket, opts);
    if (!page) {
      Error e = page.error();
      e.message = "cannot list s3://" + bucket + "/" + trigger.input_prefix + " to catch up: " + e.message;
      return e;
    }
    for (const auto& obj : page->objects) {
      if (stop && stop->load()) return report;
      if (!trigger.matches(obj.key)) continue;
      ++report.scanned;
      const std::string& version = obj.version_id.empty() ? obj.etag : obj.version_id;
      auto existing = catalog.get(catalog::make_image_id(bucket, obj.key, version));
      if (existing) {
        ++report.recorded;
        continue;
      }
      if (existing.error().kind != ErrorKind::not_found) {
        Error e = existing.error();
        e.message = "catalog lookup for s3://" + bucket + "/" + obj.key + " failed while catching up: " + e.message;
        return e;
      }
      ObjectCreated ev;
      ev.bucket = bucket;
      ev.key = obj.key;
      ev.size = obj.size;
      ev.etag = obj.etag;
      ev.version_id = obj.version_id;
      ev.event_time = iso8601(obj.last_modified);
      ev.event_name = "ObjectCreated:Put";
      ev.source = "thumbflow:reconcile";
      auto fresh = announce(ev);
      if (!fresh) return fresh.error();
      ++(*fresh ? report.queued : report.pending);
    }
    if (!page->truncated || page->next_continuation_token.empty()) return report;
    opts.continuation_token = page->next_continuation_token;
  }
}

}  // namespace thumbflow::pipeline
