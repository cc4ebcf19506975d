// The Lambda custom runtime: a client of the Runtime API (2018-06-01) and the loop that feeds
// invocations to a handler.
//
//   GET  /2018-06-01/runtime/invocation/next              -> event, request id, deadline, trace id
//   POST /2018-06-01/runtime/invocation/<id>/response     <- the handler's JSON answer
//   POST /2018-06-01/runtime/invocation/<id>/error        <- {"errorType","errorMessage"}
//   POST /2018-06-01/runtime/init/error                   <- configuration could not be loaded
//
// Policy:
// - The handler is a plain function that gets its deadline as data. It never ends the process:
//   an exception escaping it is caught here and reported through /error, and the loop asks for
//   the next invocation.
// - Every Runtime API call goes through aws::HttpClient, so connection failures and 5xx answers
//   are retried with exponential backoff and full jitter (RuntimeConfig::retry). `next` has no
//   timeout (Lambda freezes the process while it waits); a `next` that still fails after its
//   retries is tried again after a pause, and only max_next_failures failures in a row end the
//   loop (the Runtime API is gone: the environment is being shut down).
// - _X_AMZN_TRACE_ID is set to the invocation's Lambda-Runtime-Trace-Id before the handler runs
//   and removed when an invocation has none, so nothing leaks from one invocation to the next
//   (Lambda's recursive-loop detection reads it from the SDK calls the function makes).
// - A response the Runtime API refuses (413 when it is over Lambda's 6 MB) is replaced by an
//   error naming the size, so the invocation is not left hanging.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/credentials.hpp"
#include "aws/http_client.hpp"
#include "core/error.hpp"

namespace thumbflow::lambda {

inline constexpr std::string_view kRuntimeApiVersion = "2018-06-01";

struct Invocation {
  std::string request_id;        // Lambda-Runtime-Aws-Request-Id
  std::string payload;           // the event document
  std::chrono::system_clock::time_point deadline;  // Lambda-Runtime-Deadline-Ms
  std::string function_arn;      // Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;          // Lambda-Runtime-Trace-Id (may be empty)
  std::string client_context;    // Lambda-Runtime-Client-Context (may be empty)
  std::string cognito_identity;  // Lambda-Runtime-Cognito-Identity (may be empty)

  // Time left before the deadline (negative when it has passed).
  std::chrono::milliseconds remaining(std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;
};

// What a handler answers: a JSON document for /response, or an error for /error.
struct InvocationResponse {
  bool success = true;
  std::string payload;      // success: the response document
  std::string error_type;   // failure: "InvalidEvent", "Thumbflow.Retry", ...
  std::string error_message;

  static InvocationResponse ok(std::string json) { return {true, std::move(json), {}, {}}; }
  static InvocationResponse failure(std::string type, std::string message) {
    return {false, {}, std::move(type), std::move(message)};
  }
};

using Handler = std::function<InvocationResponse(const Invocation&)>;

struct RuntimeConfig {
  std::string api;  // host:port, from AWS_LAMBDA_RUNTIME_API
  // Each Runtime API call: attempts (the first included) and backoff between them.
  aws::RetryPolicy retry{6, std::chrono::milliseconds(50), std::chrono::milliseconds(2000)};
  // `next` calls that fail after all their retries, in a row, before the loop gives up.
  int max_next_failures = 5;
  // Pause after a failed `next` (its retries exhausted) before the next try.
  std::chrono::milliseconds next_failure_pause{1000};
  // Largest event accepted from `next` (Lambda's synchronous payload limit is 6 MB).
  std::size_t max_event_bytes = 6 * 1024 * 1024;
  // Largest error message sent to /error (Lambda truncates long ones anyway).
  std::size_t max_error_message_bytes = 16 * 1024;
  // Invocations to serve before returning; 0 = until the Runtime API goes away (Lambda).
  std::uint64_t max_invocations = 0;

  Status validate() const;
};

// The Runtime API's environment: AWS_LAMBDA_RUNTIME_API (required) and the optional
// THUMBFLOW_LAMBDA_RUNTIME_* overrides of the fields above. invalid_argument naming the variable.
Result<RuntimeConfig> runtime_config_from_env(const aws::EnvLookup& env);

class RuntimeApi {
 public:
  explicit RuntimeApi(RuntimeConfig config);
  ~RuntimeApi();
  RuntimeApi(const RuntimeApi&) = delete;
  RuntimeApi& operator=(const RuntimeApi&) = delete;

  // Waits for the next invocation. unavailable when the API cannot be reached after retries;
  // invalid_argument when its answer lacks the request id or the deadline, or is too large.
  Result<Invocation> next();
  Status post_response(const std::string& request_id, const std::string& payload);
  Status post_error(const std::string& request_id, const std::string& type, const std::string& message);
  Status post_init_error(const std::string& type, const std::string& message);

  const RuntimeConfig& config() const { return config_; }

 private:
  Result<aws::HttpResponse> post(const std::string& path, const std::string& body, const aws::Headers& extra);
  std::string url(const std::string& path) const;
  std::string error_document(const std::string& type, const std::string& message) const;

  RuntimeConfig config_;
  std::unique_ptr<aws::HttpClient> http_;
};

// Called with one line of structured JSON log for each event the loop sees (invocation start
// and end, Runtime API failures). The handler logs through its own logger.
using LoopLog = std::function<void(std::string_view level, std::string_view request_id, std::string_view message)>;

struct LoopSummary {
  std::uint64_t invocations = 0;  // handled and answered (response or error)
  std::uint64_t errors = 0;       // answered through /error
  bool api_gone = false;          // ended because `next` failed max_next_failures times in a row
};

// Serves invocations until max_invocations is reached or the Runtime API is gone.
LoopSummary run_loop(RuntimeApi& api, const Handler& handler, const LoopLog& log = {});

}  // namespace thumbflow::lambda
