// libcurl transport for HttpClient. See http_client.hpp for the retry policy.
//
// Policy details that live here:
// - Each attempt is signed afresh (new X-Amz-Date), so a retry after a long backoff is never
//   refused as stale.
// - A transport failure after part of a 2xx body reached the caller's sink is not retried: the
//   sink cannot take the bytes back. The caller sees unavailable and can resume with a Range.
// - Errors raised by the caller's own callbacks (body source, sink) end the request at once
//   with the caller's error: retrying cannot change what the caller decided.
// - Bodies of non-2xx responses are kept in memory (for the service's error document) even when
//   a sink was given, bounded by Options::max_response_body like every in-memory body.
// - "Expect: 100-continue" is turned off: S3-compatible servers answer errors before reading a
//   body anyway, and some (s3rver) never send 100, which would stall every upload by a second.
#include "aws/http_client.hpp"
#include "core/text.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

namespace thumbflow::aws {
namespace {

// Idle handles kept for reuse; more than this many concurrent callers simply get new handles
// that are closed when they are given back.
constexpr std::size_t kMaxIdleHandles = 16;
// How much of a URL goes into an error message.
constexpr std::size_t kMaxUrlInMessage = 300;

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

void global_init_once() {
  static std::once_flag flag;
  std::call_once(flag, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The URL as it may appear in messages: presigned credentials dropped, length bounded.
std::string url_for_message(std::string_view url) {
  std::string out(url);
  if (out.find("X-Amz-Signature") != std::string::npos || out.find("x-amz-signature") != std::string::npos)
    out = out.substr(0, out.find('?')) + "?<presigned>";
  if (out.size() > kMaxUrlInMessage) out = out.substr(0, kMaxUrlInMessage) + "...";
  return out;
}

bool is_2xx(long status) { return status >= 200 && status < 300; }

// Transport failures that a later attempt cannot fix.
bool curl_code_retryable(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_ABORTED_BY_CALLBACK:
      return false;
    default:
      return true;
  }
}

// State shared with the curl callbacks during one attempt.
struct Transfer {
  const HttpRequest* request = nullptr;
  const BodySink* sink = nullptr;
  CURL* curl = nullptr;
  std::size_t max_body = 0;

  std::size_t body_offset = 0;  // in-memory body
  std::uint64_t body_sent = 0;  // streamed body

  HttpResponse response;
  bool headers_reported = false;  // on_response_headers called
  std::uint64_t sink_bytes = 0;  // bytes handed to the sink
  std::optional<Error> abort;    // why a callback stopped the transfer
};

std::size_t read_callback(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t cap = size * count;
  const HttpRequest& req = *t->request;
  if (!req.body_source) {
    const std::size_t n = std::min(cap, req.body.size() - t->body_offset);
    std::copy_n(req.body.data() + t->body_offset, n, buffer);
    t->body_offset += n;
    return n;
  }
  if (req.body_size) {
    const std::uint64_t remaining = *req.body_size - t->body_sent;
    if (remaining == 0) return 0;
    cap = static_cast<std::size_t>(std::min<std::uint64_t>(cap, remaining));
  }
  Result<std::size_t> got = req.body_source(buffer, cap);
  if (!got) {
    t->abort = got.error();
    return CURL_READFUNC_ABORT;
  }
  if (*got > cap) {
    t->abort = make_error(ErrorKind::internal, "body source returned more bytes than asked for");
    return CURL_READFUNC_ABORT;
  }
  if (*got == 0 && req.body_size && t->body_sent < *req.body_size) {
    t->abort = make_error(ErrorKind::invalid_argument, "body source ended after " + std::to_string(t->body_sent) +
                                                           " of the " + std::to_string(*req.body_size) +
                                                           " bytes announced");
    return CURL_READFUNC_ABORT;
  }
  t->body_sent += *got;
  return *got;
}

std::size_t write_callback(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->sink && *t->sink && is_2xx(status)) {
    if (!t->headers_reported && t->request->on_response_headers) {
      t->headers_reported = true;
      t->response.status = status;
      if (Status s = t->request->on_response_headers(t->response); !s) {
        t->abort = s.error();
        return 0;
      }
    }
    Status s = (*t->sink)(std::string_view(data, n));
    if (!s) {
      t->abort = s.error();
      return 0;  // anything but n stops the transfer (CURLE_WRITE_ERROR)
    }
    t->sink_bytes += n;
    return n;
  }
  if (t->response.body.size() + n > t->max_body) {
    t->abort = make_error(ErrorKind::too_large, "response body is larger than " + std::to_string(t->max_body) +
                                                    " bytes (HttpClient::Options::max_response_body)");
    return 0;
  }
  t->response.body.append(data, n);
  return n;
}

std::size_t header_callback(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  const std::string_view line = trim_space(std::string_view(data, n));
  if (line.starts_with("HTTP/")) {
    // A new status line (after 1xx or on a reused response): headers start over.
    t->response.headers.clear();
    return n;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return n;
  t->response.headers.push_back({ascii_lower(trim_space(line.substr(0, colon))), std::string(trim_space(line.substr(colon + 1)))});
  return n;
}

Status append_line(CurlSlist& list, const std::string& line) {
  // curl_slist_append returns the list's head (a new one when the list was empty), or null and
  // leaves the list alone when out of memory.
  curl_slist* head = curl_slist_append(list.get(), line.c_str());
  if (!head) return make_error(ErrorKind::internal, "out of memory building request headers");
  (void)list.release();
  list.reset(head);
  return ok_status();
}

// "Name: value"; curl needs "Name;" to send a header with an empty value ("Name:" removes it).
Status append_header(CurlSlist& list, std::string_view name, std::string_view value) {
  std::string line(name);
  line += value.empty() ? ";" : ": ";
  line += value;
  return append_line(list, line);
}

// One attempt's outcome: a response, or a transport error that may or may not be retried.
struct AttemptOutcome {
  std::optional<HttpResponse> response;
  Error error;
  bool retryable = false;
  std::uint64_t sink_bytes = 0;
};

std::mt19937_64& jitter_engine() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

}  // namespace

std::chrono::milliseconds retry_delay_cap(const RetryPolicy& policy, int retry) {
  const auto cap = std::max<std::chrono::milliseconds::rep>(0, policy.max_delay.count());
  auto delay = std::max<std::chrono::milliseconds::rep>(0, policy.base_delay.count());
  for (int i = 0; i < retry && delay < cap; ++i) delay *= 2;  // stops long before overflow
  return std::chrono::milliseconds(std::min(delay, cap));
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

struct HttpClient::Impl {
  explicit Impl(Options o) : options(std::move(o)) { global_init_once(); }

  Options options;
  std::mutex mutex;
  std::vector<CurlEasy> idle;

  CurlEasy acquire() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        CurlEasy handle = std::move(idle.back());
        idle.pop_back();
        return handle;
      }
    }
    return CurlEasy(curl_easy_init());
  }

  void release(CurlEasy handle) {
    std::lock_guard lock(mutex);
    if (idle.size() < kMaxIdleHandles) idle.push_back(std::move(handle));
  }

  AttemptOutcome attempt(const HttpRequest& request, const Headers& headers, const BodySink* sink);
};

AttemptOutcome HttpClient::Impl::attempt(const HttpRequest& request, const Headers& headers, const BodySink* sink) {
  AttemptOutcome out;
  CurlEasy handle = acquire();
  if (!handle) {
    out.error = make_error(ErrorKind::internal, "curl_easy_init failed");
    return out;
  }
  CURL* curl = handle.get();
  curl_easy_reset(curl);  // keeps the handle's connection cache

  Transfer t;
  t.request = &request;
  t.sink = sink;
  t.curl = curl;
  t.max_body = options.max_response_body;

  CurlSlist list;
  for (const auto& h : headers) {
    if (Status s = append_header(list, h.name, h.value); !s) {
      out.error = s.error();
      return out;
    }
  }
  if (Status s = append_line(list, "Expect:"); !s) {  // see the policy at the top
    out.error = s.error();
    return out;
  }

  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  // The path goes out exactly as given: "." and ".." segments are part of S3 object keys.
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.timeouts.connect.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options.timeouts.low_speed_bytes));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.timeouts.low_speed_time.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeouts.total.count()));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  if (!options.ca_bundle.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_bundle.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_callback);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_callback);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);

  const bool has_body = request.body_source || !request.body.empty();
  if (request.method == "GET" && !has_body) {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (has_body || request.method == "PUT" || request.method == "POST") {
    // Every body goes through the read callback, so in-memory and streamed bodies share one path
    // and curl never adds a form Content-Type of its own.
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_callback);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    if (!request.body_source) {
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    } else if (request.body_size) {
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(*request.body_size));
    }  // else chunked transfer encoding
    if (request.method != "PUT") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode code = curl_easy_perform(curl);
  out.sink_bytes = t.sink_bytes;
  // Never keep a pointer to this stack frame in a pooled handle.
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);

  if (t.abort) {
    // The caller's callback (or our body limit) stopped the transfer: final, whatever curl says.
    out.error = std::move(*t.abort);
    out.retryable = false;
    release(std::move(handle));
    return out;
  }
  if (code != CURLE_OK) {
    std::string what = curl_easy_strerror(code);
    if (error_buffer[0] != '\0') what += " (" + std::string(error_buffer) + ")";
    out.error = make_error(ErrorKind::unavailable, what);
    out.retryable = curl_code_retryable(code);
    if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) out.error.kind = ErrorKind::invalid_argument;
    if (code == CURLE_OUT_OF_MEMORY) out.error.kind = ErrorKind::internal;
    // A handle that failed mid-transfer may hold a broken connection; curl closes those itself,
    // so the handle stays reusable.
    release(std::move(handle));
    return out;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &t.response.status);
  out.response = std::move(t.response);
  release(std::move(handle));
  return out;
}

HttpClient::HttpClient(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
HttpClient::HttpClient() : HttpClient(Options{}) {}
HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::send(const HttpRequest& request, const SigningConfig* signing, const BodySink* sink,
                                      const RetryClassifier* retryable) {
  const std::string where = request.method + " " + url_for_message(request.url);
  const bool streamed = static_cast<bool>(request.body_source);
  std::string payload_hash = request.payload_hash;
  if (signing && payload_hash.empty())
    payload_hash = streamed ? std::string(kUnsignedPayload) : sha256_hex(request.body);

  const int max_attempts = std::max(1, impl_->options.retry.max_attempts);
  std::optional<HttpResponse> last_response;
  Error last_error = make_error(ErrorKind::unavailable, "no attempt was made");
  std::string stop_reason;  // why retries stopped before max_attempts, for the message
  int attempts = 0;

  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    if (attempt > 1) {
      if (streamed && !(request.body_rewind && request.body_rewind())) {
        stop_reason = " (not retried: the request body cannot be rewound)";
        break;
      }
      const auto cap = retry_delay_cap(impl_->options.retry, attempt - 2);
      std::uniform_int_distribution<std::chrono::milliseconds::rep> pick(0, cap.count());
      std::this_thread::sleep_for(std::chrono::milliseconds(pick(jitter_engine())));
    }
    attempts = attempt;

    Headers headers = request.headers;
    if (signing) {
      auto unsigned_request = request_from_url(request.method, request.url, request.headers, payload_hash);
      if (!unsigned_request) {
        Error e = unsigned_request.error();
        e.message = where + ": cannot sign: " + e.message;
        return e;
      }
      Credentials keys = signing->credentials;
      if (signing->source) {
        auto fresh = signing->source();
        if (!fresh) {
          Error e = fresh.error();
          e.message = where + ": no credentials to sign with: " + e.message;
          return e;
        }
        keys = std::move(*fresh);
      }
      auto signed_request = sign_request(*unsigned_request, keys, signing->scope, std::chrono::system_clock::now(),
                                         signing->options);
      if (!signed_request) {
        Error e = signed_request.error();
        e.message = where + ": cannot sign: " + e.message;
        return e;
      }
      headers = std::move(unsigned_request->headers);
      for (const auto& set : signed_request->headers_to_set) {
        std::erase_if(headers, [&](const Header& h) { return iequals(h.name, set.name); });
        headers.push_back(set);
      }
    }

    AttemptOutcome outcome = impl_->attempt(request, headers, sink);
    if (!outcome.response) {
      Error e = std::move(outcome.error);
      if (!outcome.retryable || outcome.sink_bytes > 0) {
        if (outcome.sink_bytes > 0 && outcome.retryable)
          e.message += " after " + std::to_string(outcome.sink_bytes) + " bytes of the body were delivered (not retried)";
        // Caller-raised errors keep their own message; transport ones say where and how often.
        if (outcome.retryable || e.kind == ErrorKind::unavailable || e.kind == ErrorKind::invalid_argument)
          e.message = where + " failed on attempt " + std::to_string(attempt) + ": " + e.message;
        else
          e.message = where + ": " + e.message;
        return e;
      }
      last_error = std::move(e);
      last_response.reset();
      continue;
    }

    HttpResponse& response = *outcome.response;
    response.attempts = attempt;
    const bool retry = response.status >= 500 || response.status == 429 ||
                       (!is_2xx(response.status) && retryable && *retryable && (*retryable)(response));
    if (!retry) return std::move(response);
    last_response = std::move(response);
  }

  if (last_response) {
    // Retries ran out on a retryable status: the caller maps the service's error.
    last_response->attempts = attempts;
    return std::move(*last_response);
  }
  Error e = std::move(last_error);
  e.kind = ErrorKind::unavailable;
  e.message = where + " failed after " + std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts") +
              stop_reason + ": " + e.message;
  return e;
}

}  // namespace thumbflow::aws
