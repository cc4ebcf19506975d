// Catch-up: finds uploads that have neither a catalog record nor a job and announces them again.
//
// The endpoint makes a job durable before it acknowledges an upload, but a process killed
// between storing an object and queueing its job (or a file dropped into the data folder while
// the server was down, or a notification an S3 server never delivered) leaves an upload nobody
// will process. `thumbflow serve` runs this at start and `thumbflow reconcile` on demand, so
// every upload ends as a record: processed, or a failure that can be retried.
//
// Cost: one listing of the input prefix and one catalog lookup per object; nothing is queued
// for an object version that already has a record, and queueing is idempotent for one that
// already has a job.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "catalog/catalog.hpp"
#include "core/error.hpp"
#include "core/object_created.hpp"
#include "pipeline/pipeline.hpp"
#include "storage/object_store.hpp"

namespace thumbflow::pipeline {

struct ReconcileReport {
  std::uint64_t scanned = 0;   // objects under the input prefix that trigger processing
  std::uint64_t recorded = 0;  // already have a record (processed or failed) for their version
  std::uint64_t queued = 0;    // had neither: announced again
  std::uint64_t pending = 0;   // had a job already (the announcement was a duplicate)
};

// Queues one event; true when it made a new job, false when one existed.
using Announce = std::function<Result<bool>(const ObjectCreated&)>;

// Walks `bucket` under trigger.input_prefix. Events it makes have source "thumbflow:reconcile",
// no sequencer (so they never hide a newer event) and the object's ETag, size and time.
// Stops early, with what it did so far, when `stop` becomes true.
Result<ReconcileReport> reconcile(storage::ObjectStore& store, catalog::Catalog& catalog, const TriggerConfig& trigger,
                                  const std::string& bucket, const Announce& announce,
                                  const std::atomic<bool>* stop = nullptr);

}  // namespace thumbflow::pipeline
