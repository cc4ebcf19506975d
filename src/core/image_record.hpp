// One row of the ImageMetadata catalog: what happened to one uploaded object version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/image_info.hpp"

namespace thumbflow {

enum class RecordStatus { processed, failed };
std::string_view to_string(RecordStatus s);
Result<RecordStatus> parse_record_status(std::string_view s);

struct RenditionRecord {
  std::string name;    // "thumbnail", ...
  std::string key;     // object key in the same bucket
  std::string format;  // "jpeg", "webp", ...
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint64_t bytes = 0;
  bool operator==(const RenditionRecord&) const = default;
};

struct ImageRecord {
  std::string image_id;          // deterministic: see catalog/image_id.hpp
  std::string bucket;
  std::string original_key;      // originalImage
  std::string thumbnail_key;     // thumbnailImage: the first rendition's key (empty when failed)
  std::vector<RenditionRecord> renditions;
  std::string upload_date;       // ISO-8601 UTC with milliseconds: 2026-11-25T12:00:00.000Z
  RecordStatus status = RecordStatus::processed;
  std::string error_kind;        // when failed: to_string(ErrorKind)
  std::string error_message;     // when failed: what, which object, why
  int attempts = 1;
  std::uint64_t source_bytes = 0;
  std::string etag;
  std::string version_id;
  std::optional<ImageInfo> info; // probe facts (format, width, height, ...); absent if unreadable
  std::string dominant_colour;   // "#rrggbb", empty when unknown
  std::string blurhash;          // empty when unknown
  double processing_ms = 0;      // fetch to last rendition stored (the record write excluded)
  double render_ms = 0;          // decode, resize and encode only: processing_ms minus the I/O
  std::string updated_at;        // ISO-8601 UTC, set by whoever writes the record
};

}  // namespace thumbflow
