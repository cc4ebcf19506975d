// The pipeline: one uploaded object version in, renditions and a catalog record out.
//
//   claim (the caller) -> fetch (streamed, byte cap) -> probe + limits -> render each rendition
//   -> put renditions -> write the record -> acknowledge (the caller)
//
// It sees interfaces only (ObjectStore, Catalog, Renderer, PipelineObserver) and knows nothing
// of the home it runs in. Every step is idempotent: the record's id is deterministic, renditions
// are overwritten with the same bytes, and the record is written last, so a crash between any
// two steps is finished by the retry, and a duplicate event makes no second record.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "core/error.hpp"
#include "core/image_info.hpp"
#include "core/limits.hpp"
#include "core/object_created.hpp"
#include "core/rendition.hpp"
#include "storage/object_store.hpp"

namespace thumbflow::pipeline {

// The imaging core behind an interface, so the pipeline does not see libvips.
class Renderer {
 public:
  virtual ~Renderer() = default;
  virtual Result<RenderResult> render(std::string_view bytes, std::span<const RenditionSpec> specs,
                                      const Limits& limits) = 0;
};

// Told about every outcome (metrics, logs, alarms, live updates).
class PipelineObserver {
 public:
  virtual ~PipelineObserver() = default;
  virtual void on_processed(const ImageRecord& record) = 0;
  virtual void on_failed(const ImageRecord& record) = 0;  // a failure record was written
  virtual void on_retry(const ObjectCreated& event, const Error& error, int attempt) = 0;
};

struct TriggerConfig {
  std::string input_prefix = "uploads/";
  std::string output_prefix = "thumbnails/";
  // Only keys ending with one of these (case-insensitive) trigger; empty = every key.
  std::vector<std::string> suffixes;
  // Whether a key should trigger processing: under the input prefix, never under the output.
  bool matches(const std::string& key) const;
  // Refuses configurations where outputs could trigger processing again.
  Status validate() const;
};

struct PipelineConfig {
  TriggerConfig trigger;
  std::vector<RenditionSpec> renditions = {RenditionSpec{}};
  Limits limits;
  std::string cache_control = "public, max-age=31536000, immutable";
};

// Where rendition `spec` of `source_key` is written: the first rendition at
// <output>/<path under input, extension replaced>, every other at <output>/<name>/<same>.
std::string rendition_key(const TriggerConfig& trigger, const RenditionSpec& spec, bool first,
                          const std::string& source_key);

// ISO-8601 UTC with milliseconds ("2026-11-25T12:00:00.000Z") from an event time in any of the
// forms S3 senders use; empty when it cannot be read.
std::string normalize_event_time(const std::string& text);
std::string now_iso8601();
std::string iso8601(std::chrono::system_clock::time_point at);

enum class Outcome {
  processed,      // renditions and a processed record written
  already_done,   // a processed record existed: nothing written (duplicate event)
  failed,         // a failure record written (permanent error, or the last attempt)
  retry,          // a retryable error: nothing recorded, try again later
  skipped,        // the key does not trigger (outside the input prefix, or an output)
  superseded,     // the object kept changing while being fetched (after a few hops to the newest version)
};
std::string_view to_string(Outcome o);

struct ProcessResult {
  Outcome outcome = Outcome::processed;
  std::string image_id;
  std::optional<Error> error;  // for failed and retry
};

class Pipeline {
 public:
  Pipeline(PipelineConfig config, storage::ObjectStore& store, catalog::Catalog& catalog, Renderer& renderer,
           PipelineObserver* observer = nullptr);

  // Processes one event. attempt counts from 1; on the last attempt a retryable error is
  // recorded as a failure instead of asking for a retry. force re-renders an image even when
  // a processed record exists (reprocess after the renditions changed).
  ProcessResult process(const ObjectCreated& event, int attempt, bool last_attempt, bool force = false);

  const PipelineConfig& config() const { return config_; }

 private:
  ProcessResult process_version(const ObjectCreated& event, int attempt, bool last_attempt, bool force);
  ImageRecord base_record(const ObjectCreated& event, const std::string& image_id, int attempt) const;
  ProcessResult record_failure(ImageRecord record, const Error& error);

  PipelineConfig config_;
  storage::ObjectStore& store_;
  catalog::Catalog& catalog_;
  Renderer& renderer_;
  PipelineObserver* observer_;
};

}  // namespace thumbflow::pipeline
