// The one HTTP client of thumbflow: libcurl for transport, our SigV4 signer for AWS-style
// authentication, retries with exponential backoff and full jitter. S3Store, DynamoCatalog,
// CloudWatch/SNS and webhook notifiers all go through it.
//
// Policy: retry on connection failures, timeouts, 5xx, 429, and the throttling codes a caller
// marks as retryable (SlowDown, ProvisionedThroughputExceededException, ThrottlingException...);
// never on other 4xx. A streamed request body can be retried only when the caller can rewind it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/sigv4.hpp"
#include "core/error.hpp"

namespace thumbflow::aws {

struct RetryPolicy {
  int max_attempts = 5;                                  // first try included
  std::chrono::milliseconds base_delay{50};              // delay before retry n: random in [0, min(cap, base*2^n)]
  std::chrono::milliseconds max_delay{5000};
};

// The upper bound of the (full jitter) delay before retry n, n = 0 for the first retry:
// min(max_delay, base_delay * 2^n), without overflow for any n.
std::chrono::milliseconds retry_delay_cap(const RetryPolicy& policy, int retry);

struct HttpTimeouts {
  std::chrono::milliseconds connect{5000};
  // A transfer slower than low_speed_bytes per second for low_speed_time is aborted (and retried).
  std::uint32_t low_speed_bytes = 1024;
  std::chrono::seconds low_speed_time{30};
  std::chrono::milliseconds total{0};  // 0 = no overall limit
};

struct HttpResponse;

struct HttpRequest {
  std::string method = "GET";
  std::string url;                      // absolute: scheme://host[:port]/path?query (path and query already encoded)
  Headers headers;
  std::string body;                     // used when body_source is empty
  // Streamed body: fills buf, returns bytes written (0 at end). rewind() is called before a
  // retry; if it returns false the request is not retried.
  std::function<Result<std::size_t>(char* buf, std::size_t cap)> body_source;
  std::function<bool()> body_rewind;
  std::optional<std::uint64_t> body_size;  // Content-Length for a streamed body
  std::string payload_hash;             // for SigV4; empty = sha256 of body, or UNSIGNED-PAYLOAD when streamed
  // With a sink: called once per attempt for a 2xx response, with its status and headers,
  // before the first body byte reaches the sink (not called for an empty body). An error
  // aborts the transfer and is returned as is (e.g. too_large for a Content-Length over a cap).
  std::function<Status(const HttpResponse&)> on_response_headers;
};

struct HttpResponse {
  long status = 0;
  Headers headers;                      // names lower-cased
  std::string body;                     // unless streamed into a sink
  int attempts = 0;                     // how many times the request was sent (1 = no retry)
  std::string header(std::string_view name) const;  // first value or ""
};

// Sink for a streamed response body, called only for 2xx responses; returning an error aborts.
using BodySink = std::function<Status(std::string_view chunk)>;

// Asked for the keys before each signature when set (a refreshing provider); its error fails the
// request without sending it.
using CredentialSource = std::function<Result<Credentials>()>;

struct SigningConfig {
  Credentials credentials;  // used when source is empty
  Scope scope;            // region, service ("s3", "dynamodb", "monitoring", "sns")
  SigningOptions options; // S3 path rules, x-amz-content-sha256
  CredentialSource source;
};

// Decides whether a failed response may be retried (beyond 5xx/429, which always are), e.g.
// S3's SlowDown or DynamoDB's throttling exceptions carried in a 400.
using RetryClassifier = std::function<bool(const HttpResponse&)>;

class HttpClient {
 public:
  struct Options {
    RetryPolicy retry;
    HttpTimeouts timeouts;
    std::string user_agent = "thumbflow/0.1";
    bool verify_tls = true;
    // PEM file of trusted CAs; empty = libcurl's built-in default (Debian's path, which Lambda's
    // Amazon Linux lacks: the Lambda package ships its own bundle).
    std::string ca_bundle;
    std::size_t max_response_body = 64 * 1024 * 1024;  // in-memory bodies larger than this fail
  };
  explicit HttpClient(Options options);
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request (signed when signing is given; re-signed on each retry), following the
  // retry policy. A non-2xx final response is returned as a response, not an error: callers map
  // service errors. Errors are transport failures after retries ran out (kind unavailable).
  // With a sink, 2xx bodies stream into it and response.body stays empty.
  Result<HttpResponse> send(const HttpRequest& request, const SigningConfig* signing = nullptr,
                            const BodySink* sink = nullptr, const RetryClassifier* retryable = nullptr);

  // Safe to call from many threads at once: each call borrows an idle curl handle from the
  // client's pool (keeping its open connections), so a thread reuses connections across calls
  // and no two threads ever share a handle.
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace thumbflow::aws
