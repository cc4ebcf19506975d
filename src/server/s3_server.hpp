// The local S3-compatible endpoint: path-style S3 over HTTP/1.1 (cpp-httplib) on a LocalStore
// data folder, authenticated with SigV4, so the AWS CLI and SDKs work against it unchanged with
// --endpoint-url. See docs in s3_server.cpp for the operations and s3_auth.hpp for the policy.
//
//   DATA/<bucket>/<key>            objects (LocalStore)
//   DATA/.uploads/<id>/            multipart uploads in progress (multipart.hpp)
//   DATA/.thumbflow/credentials.json
//
// Threads: cpp-httplib runs one worker per connection from a pool of worker_threads; a large
// PUT body additionally runs one staging thread while it streams (see memory_body_bytes).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "core/object_created.hpp"
#include "server/aws_chunked.hpp"
#include "server/multipart.hpp"
#include "server/s3_auth.hpp"
#include "storage/local_store.hpp"

namespace thumbflow::server {

// Every limit of the endpoint, with S3's value where S3 has one.
struct S3ServerConfig {
  std::string host = "127.0.0.1";  // loopback only unless asked otherwise
  int port = 9000;                 // 0: any free port (tests)
  std::string region = "us-east-1";  // what GetBucketLocation and HeadBucket report

  AuthPolicy auth;            // clock skew (15 min)
  MultipartLimits multipart;  // 10,000 parts, 5 MiB..5 GiB each
  ChunkedLimits chunked;      // aws-chunked line and trailer sizes

  std::uint64_t max_object_bytes = 5ULL << 30;   // single PutObject and CopyObject source: 5 GiB
  std::size_t max_key_bytes = 1024;              // KeyTooLongError past it
  std::size_t max_header_bytes = 8 * 1024;       // all request headers: RequestHeaderSectionTooLarge
  std::size_t max_user_metadata_bytes = 2 * 1024;  // x-amz-meta-* names and values: MetadataTooLarge
  std::size_t max_xml_body_bytes = 4 * 1024 * 1024;  // CompleteMultipartUpload, Delete, CreateBucket
  std::size_t max_delete_keys = 1000;            // per DeleteObjects
  int max_list_keys = 1000;                      // max-keys, max-parts, max-uploads are capped here

  // Bodies up to this size are read into memory and then written; larger ones stream to disk
  // through a staging thread with at most pipe_buffer_bytes in flight.
  std::size_t memory_body_bytes = 1024 * 1024;
  std::size_t pipe_buffer_bytes = 1024 * 1024;
  // After refusing a request whose body was not read, read and discard up to this much of it so
  // the error reaches the client and the connection stays usable; past it the connection drops.
  std::uint64_t max_drain_bytes = 16ULL << 20;

  std::size_t worker_threads = 32;          // concurrent connections served
  std::size_t keep_alive_max_requests = 1000;
  std::chrono::seconds keep_alive_timeout{5};
  std::chrono::seconds read_timeout{30};    // a stalled upload is dropped after this
  std::chrono::seconds write_timeout{30};
  int listen_backlog = 128;
  bool log_requests = false;  // one line per request on stderr
};

// Called after each completed PutObject, CompleteMultipartUpload and CopyObject, on the thread
// that served the request, before the response is sent. source is "thumbflow". An error (the
// job could not be made durable) turns the success into 503 ServiceUnavailable: the object is
// stored, and the client's retry of the same request announces it again.
using ObjectCreatedHook = std::function<Status(const ObjectCreated&)>;

// Called once per request after its response is written, on the thread that served it, with
// the S3 operation (PutObject, GetObject, ListObjectsV2..., "Unknown") and the HTTP status;
// refusals and errors included. For metrics: it must be cheap and must not throw.
using RequestObserver = std::function<void(std::string_view operation, int status)>;
// The S3 operation a request names, from its method, path and query alone (no I/O).
std::string_view s3_operation(std::string_view method, std::string_view path, bool has_copy_source,
                              const std::function<bool(std::string_view)>& has_param);

class S3Server {
 public:
  S3Server(std::filesystem::path data_dir, KeyRing keys, S3ServerConfig config = {});
  ~S3Server();  // stops
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  void on_object_created(ObjectCreatedHook hook);  // set before start()
  void on_request(RequestObserver observer);       // set before start()

  // Binds and serves on background threads; returns once the socket listens.
  Status start();
  // Stops accepting, lets requests in flight finish, and returns when every thread has ended.
  void stop();
  int port() const;
  std::string endpoint() const;  // "http://127.0.0.1:9000"
  storage::LocalStore& store();
  const S3ServerConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The bucket `thumbflow serve` creates, with the folders uploads/ and thumbnails/ inside it.
inline constexpr std::string_view kDefaultBucket = "image-processing-local";
// Creates the data folder, the bucket (if missing) and the folders in it (empty folders on disk:
// S3 listings show objects only, and LocalStore stores no "folder/" marker keys).
Status prepare_data_folder(const std::filesystem::path& data_dir, std::string_view bucket = kDefaultBucket);

}  // namespace thumbflow::server
