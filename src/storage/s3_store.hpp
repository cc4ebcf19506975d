// S3Store: the ObjectStore over S3's REST API (AWS S3, Ceph RADOS Gateway, s3rver...), through
// HttpClient (libcurl, retries with backoff, SigV4 on each attempt).
//
// Policy:
// - Object keys are URI-encoded with aws::uri_encode ('/' kept), so spaces, '+', '%', unicode,
//   "." and ".." segments reach the server byte for byte; keys over kMaxKeyBytes are refused
//   before any request.
// - Uploads above multipart_threshold go multipart: parts of part_size are read from the source
//   in order and uploaded by up to upload_concurrency threads, each part held in memory so it
//   can be signed (SHA-256) and retried. Any failure aborts the upload: the object appears only
//   when CompleteMultipartUpload succeeds, so a failed upload never leaves a partial object.
//   Memory held: about (upload_concurrency + 1) * part_size.
// - A GET whose connection breaks after part of the body reached the sink resumes with a Range
//   request pinned to the first response's ETag (If-Match), so the sink never gets bytes of
//   two different versions; at most retry.max_attempts resumptions.
// - S3 errors become Error values: the kind from S3's code (NoSuchKey -> not_found...), the code
//   in Error::code, and the message names the operation, the object, S3's message, the HTTP
//   status, the request id and the attempts made. A 200 answer carrying an <Error> document
//   (CompleteMultipartUpload and CopyObject can do that) is an error too.
// - Conditional writes (If-None-Match: *, If-Match) are sent as headers; servers that ignore
//   them then overwrite (the contract tests skip those cases for such servers). Multipart
//   uploads check the condition with a HEAD before the first part and send it again with
//   CompleteMultipartUpload; where the server ignores it there (RADOS Gateway 16), a change
//   during the upload itself is not caught. RADOS Gateway 16 also wants If-Match on PUT
//   without quotes: after a 412 whose object does carry the asked ETag, the PUT is sent once
//   more with the bare ETag (still checked by the server).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http_client.hpp"
#include "storage/object_store.hpp"

namespace thumbflow::storage {

// S3's own limits on multipart uploads.
inline constexpr std::uint64_t kS3MinPartSize = 5ull * 1024 * 1024;     // every part but the last
inline constexpr std::uint64_t kS3MaxPartSize = 5ull * 1024 * 1024 * 1024;
inline constexpr std::uint32_t kS3MaxParts = 10000;
inline constexpr std::uint64_t kS3MaxObjectSize = 5ull * 1024 * 1024 * 1024 * 1024;  // 5 TiB
inline constexpr std::uint64_t kS3MaxSinglePutSize = 5ull * 1024 * 1024 * 1024;       // 5 GiB
inline constexpr int kS3MaxUploadConcurrency = 64;

struct S3Config {
  // "http://127.0.0.1:7480" (scheme, host, optional port; no path). Empty = AWS:
  // https://s3.<region>.amazonaws.com.
  std::string endpoint;
  std::string region = "us-east-1";
  // Path-style URLs (http://host/bucket/key) instead of virtual-hosted ones
  // (http://bucket.host/key). Local servers need path style.
  bool path_style = false;
  aws::Credentials credentials;
  // When set, asked before each request instead of `credentials` (aws::CredentialProvider,
  // which refreshes expiring container credentials).
  aws::CredentialSource credential_source;
  std::uint64_t multipart_threshold = 16ull * 1024 * 1024;  // bodies larger than this go multipart
  std::uint64_t part_size = 8ull * 1024 * 1024;             // kS3MinPartSize..kS3MaxPartSize
  int upload_concurrency = 4;                               // parts in flight, 1..kS3MaxUploadConcurrency
  aws::RetryPolicy retry;
  aws::HttpTimeouts timeouts;
  std::string user_agent = "thumbflow/0.1";
  std::string ca_bundle;  // PEM file of trusted CAs; empty = libcurl's default (HttpClient::Options)

  // invalid_argument with the field and its allowed range when a value is out of bounds.
  Status validate() const;
};

class S3Store : public ObjectStore {
 public:
  // Validates the config (S3Config::validate) and builds the store.
  static Result<std::unique_ptr<S3Store>> create(S3Config config);
  ~S3Store() override;

  const S3Config& config() const { return config_; }

  Result<PutResult> put(const ObjectRef& ref, std::string_view bytes, const PutOptions& opts = {}) override;
  Result<PutResult> put_stream(const ObjectRef& ref, const ByteSource& source, std::optional<std::uint64_t> size,
                               const PutOptions& opts = {}) override;
  Result<ObjectMeta> get(const ObjectRef& ref, const ByteSink& sink, const GetOptions& opts = {}) override;
  Result<ObjectMeta> head(const ObjectRef& ref) override;
  Status remove(const ObjectRef& ref) override;
  Result<ListPage> list(const std::string& bucket, const ListOptions& opts = {}) override;
  Result<PutResult> copy(const ObjectRef& from, const ObjectRef& to, bool replace_metadata = false,
                         const PutOptions& opts = {}) override;

  Status create_bucket(const std::string& bucket) override;
  Status delete_bucket(const std::string& bucket) override;
  Result<bool> bucket_exists(const std::string& bucket) override;
  Result<std::vector<BucketInfo>> list_buckets() override;

  // The URL of a bucket (empty key) or an object, as requests use it (for logs and tests).
  std::string url_for(const std::string& bucket, std::string_view key = {}) const;

 private:
  explicit S3Store(S3Config config);
  struct Impl;
  S3Config config_;
  std::unique_ptr<Impl> impl_;
};

// ---- Pieces (exposed for unit tests) -----------------------------------------------------------
namespace s3 {

// A parsed XML element: local name (namespace prefix dropped), text (entities decoded, CDATA
// kept), children in document order. Enough for S3's documents; DOCTYPE and entity
// declarations are refused, so there is no entity expansion to abuse.
struct XmlElement {
  std::string name;
  std::string text;
  std::vector<XmlElement> children;
  const XmlElement* child(std::string_view child_name) const;  // first such child or null
  std::string child_text(std::string_view child_name) const;   // "" when absent
};
inline constexpr std::size_t kMaxXmlDepth = 32;
inline constexpr std::size_t kMaxXmlElements = 1'000'000;
Result<XmlElement> parse_xml(std::string_view document);

// S3's error document (<Error><Code>...), or what the status alone says when there is none.
struct S3ErrorInfo {
  std::string code;
  std::string message;
  std::string request_id;
  std::string resource;
};
S3ErrorInfo parse_error(long status, std::string_view body, const aws::Headers& headers);
ErrorKind kind_for(long status, std::string_view code);
// Whether a failed response is worth retrying beyond 5xx/429: S3's throttling and timeout codes.
bool retryable_code(std::string_view code);

Result<ListPage> parse_list_objects_v2(std::string_view body);
Result<std::vector<BucketInfo>> parse_list_buckets(std::string_view body);
// ObjectMeta from a GET/HEAD response's headers (x-amz-meta-* become user_metadata).
ObjectMeta meta_from_headers(const aws::Headers& headers);
// RFC 7231 (HTTP-date) and ISO 8601 (S3's XML), std::nullopt when unparseable.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);
std::string range_header(const ByteRange& range);
// Removes the surrounding quotes S3 puts around ETags.
std::string strip_etag_quotes(std::string_view etag);
std::string xml_escape(std::string_view text);

}  // namespace s3
}  // namespace thumbflow::storage
