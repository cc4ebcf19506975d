// The object store seam. The pipeline and the local S3 endpoint see only this interface;
// LocalStore (a folder per bucket) and S3Store (any S3-compatible endpoint) implement it.
// Every operation returns a value: expected failures are Errors with a kind (not_found,
// precondition_failed, access_denied, unavailable...) and, from S3, the service's code.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/object_ref.hpp"

namespace thumbflow::storage {

// User metadata (x-amz-meta-*), names lower-cased.
using Metadata = std::map<std::string, std::string>;

// The other representation headers S3 stores with an object and returns on GET and HEAD, by
// their lower-case names. Only these are kept in PutOptions/ObjectMeta::stored_headers.
inline constexpr std::string_view kStoredHeaders[] = {"content-disposition", "content-encoding", "content-language",
                                                      "expires"};
inline bool is_stored_header(std::string_view lower_name) {
  for (auto h : kStoredHeaders)
    if (h == lower_name) return true;
  return false;
}

struct ObjectMeta {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // as S3 gives it, with quotes stripped: MD5 hex, or "<md5>-<parts>" for multipart
  std::string content_type;
  std::string cache_control;
  Metadata stored_headers;  // kStoredHeaders present on the object
  Metadata user_metadata;
  std::chrono::system_clock::time_point last_modified{};
  std::string version_id;  // empty when the store does not version
};

struct PutOptions {
  std::string content_type = "application/octet-stream";
  std::string cache_control;
  Metadata stored_headers;  // kStoredHeaders to keep with the object (others are ignored)
  Metadata user_metadata;
  bool if_none_match_any = false;        // If-None-Match: *  (create only, never overwrite)
  std::optional<std::string> if_match;   // If-Match: <etag>  (replace only that version)
};

struct PutResult {
  std::string etag;
  std::string version_id;
};

// Inclusive byte range, as in HTTP: first..last; no last means to the end. A suffix range
// (the last N bytes) is first = N with suffix = true.
struct ByteRange {
  std::uint64_t first = 0;
  std::optional<std::uint64_t> last;
  bool suffix = false;
};

struct GetOptions {
  std::optional<ByteRange> range;
  std::optional<std::string> if_match;
  std::optional<std::string> if_none_match;
  // Refuse (too_large) an object bigger than this before reading its body; 0 = no cap.
  std::uint64_t max_bytes = 0;
};

// Receives the body in order, in chunks of any size. Returning an error stops the transfer.
using ByteSink = std::function<Status(std::string_view chunk)>;
// Fills buf with up to cap bytes; returns how many, 0 at the end.
using ByteSource = std::function<Result<std::size_t>(char* buf, std::size_t cap)>;

struct ListOptions {
  std::string prefix;
  std::string delimiter;
  std::string continuation_token;  // from the previous page
  std::string start_after;
  int max_keys = 1000;             // 1..1000
};

struct ListPage {
  std::vector<ObjectMeta> objects;            // in key order (UTF-8 byte order)
  std::vector<std::string> common_prefixes;   // with a delimiter
  bool truncated = false;
  std::string next_continuation_token;
};

struct BucketInfo {
  std::string name;
  std::chrono::system_clock::time_point created{};
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual Result<PutResult> put(const ObjectRef& ref, std::string_view bytes, const PutOptions& opts = {}) = 0;
  // Streams from source; size, when known, lets the store choose single or multipart upload.
  virtual Result<PutResult> put_stream(const ObjectRef& ref, const ByteSource& source,
                                       std::optional<std::uint64_t> size, const PutOptions& opts = {}) = 0;
  // Streams the body (or the requested range) into sink; returns the object's metadata.
  virtual Result<ObjectMeta> get(const ObjectRef& ref, const ByteSink& sink, const GetOptions& opts = {}) = 0;
  virtual Result<ObjectMeta> head(const ObjectRef& ref) = 0;
  // Deleting a missing key succeeds, as in S3.
  virtual Status remove(const ObjectRef& ref) = 0;
  virtual Result<ListPage> list(const std::string& bucket, const ListOptions& opts = {}) = 0;
  // Server-side copy. With replace_metadata, opts' content type and metadata replace the
  // source's; otherwise they are copied.
  virtual Result<PutResult> copy(const ObjectRef& from, const ObjectRef& to, bool replace_metadata = false,
                                 const PutOptions& opts = {}) = 0;

  virtual Status create_bucket(const std::string& bucket) = 0;  // already_exists if it does
  virtual Status delete_bucket(const std::string& bucket) = 0;  // precondition_failed if not empty
  virtual Result<bool> bucket_exists(const std::string& bucket) = 0;
  virtual Result<std::vector<BucketInfo>> list_buckets() = 0;

  // The whole object (or range) in memory; refuses bodies over opts.max_bytes when set.
  Result<std::string> get_bytes(const ObjectRef& ref, const GetOptions& opts = {});
};

}  // namespace thumbflow::storage
