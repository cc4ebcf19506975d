#include "console/image_actions.hpp"

namespace thumbflow::console {

ObjectCreated retry_event(const ImageRecord& r) {
  ObjectCreated ev;
  ev.bucket = r.bucket;
  ev.key = r.original_key;
  ev.etag = r.etag;
  ev.version_id = r.version_id;
  ev.size = r.source_bytes;
  ev.event_time = r.upload_date;
  ev.event_name = "ObjectCreated:Retry";
  ev.source = "thumbflow";
  return ev;
}

Status retry_image(events::JobQueue& queue, const ImageRecord& record) {
  if (record.status != RecordStatus::failed)
    return make_error(ErrorKind::precondition_failed,
                      "image " + record.image_id + " is " + std::string(to_string(record.status)) + ", not failed");
  return queue.requeue(retry_event(record), /*force=*/false);
}

Result<DeleteReport> delete_image(storage::ObjectStore& store, catalog::Catalog& catalog, const ImageRecord& record) {
  DeleteReport report;
  std::vector<std::string> keys = {record.original_key};
  for (const auto& r : record.renditions)
    if (!r.key.empty()) keys.push_back(r.key);
  for (const auto& key : keys) {
    if (auto st = store.remove(ObjectRef{record.bucket, key}); !st) return st.error();
    report.removed_keys.push_back(key);
  }
  if (auto st = catalog.remove(record.image_id); !st) return st.error();
  return report;
}

}  // namespace thumbflow::console
