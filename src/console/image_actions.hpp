// What the console and the CLI do to one image: queue a failed one again, delete one with its
// objects. Shared so that `thumbflow retry` and POST /api/images/{id}/retry are one policy.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "core/error.hpp"
#include "core/image_record.hpp"
#include "core/object_created.hpp"
#include "events/job_queue.hpp"
#include "storage/object_store.hpp"

namespace thumbflow::console {

// The event that processes the record's object version again (same bucket, key, ETag and
// version, so the same imageId).
ObjectCreated retry_event(const ImageRecord& record);

// Queues a failed image again (attempts start over). precondition_failed when the record is
// not failed: a processed image is re-rendered with `thumbflow reprocess`, not retried.
Status retry_image(events::JobQueue& queue, const ImageRecord& record);

struct DeleteReport {
  std::vector<std::string> removed_keys;  // original first, then every rendition
};

// Removes the original, every rendition and then the record, in that order: a failure part
// way leaves the record, so the delete can be repeated (removing a missing object succeeds).
Result<DeleteReport> delete_image(storage::ObjectStore& store, catalog::Catalog& catalog, const ImageRecord& record);

}  // namespace thumbflow::console
