#include "lambda/runtime.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdlib>
#include <exception>
#include <thread>

#include "lambda/env_fields.hpp"

namespace thumbflow::lambda {
namespace {

// The largest Runtime API answer other than an event (error documents, acknowledgements).
constexpr std::size_t kMaxAcknowledgementBytes = 64 * 1024;

std::string truncate(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  text.resize(max);
  text += "... (truncated)";
  return text;
}

Status answer_status(const Result<aws::HttpResponse>& r, const std::string& what) {
  if (!r) {
    Error e = r.error();
    e.message = what + ": " + e.message;
    return e;
  }
  if (r->status >= 200 && r->status < 300) return ok_status();
  const ErrorKind kind = r->status == 413 ? ErrorKind::too_large
                         : r->status >= 500 ? ErrorKind::unavailable
                                            : ErrorKind::invalid_argument;
  return make_error(kind, what + ": the Runtime API answered HTTP " + std::to_string(r->status) + ": " +
                              truncate(r->body, 500));
}

}  // namespace

std::chrono::milliseconds Invocation::remaining(std::chrono::system_clock::time_point now) const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
}

Status RuntimeConfig::validate() const {
  auto bad = [](const std::string& why) { return make_error(ErrorKind::invalid_argument, why); };
  if (api.empty()) return bad("AWS_LAMBDA_RUNTIME_API is not set: the Runtime API's host:port is needed");
  if (api.find('/') != std::string::npos || api.find(':') == std::string::npos)
    return bad("AWS_LAMBDA_RUNTIME_API='" + api + "' is not host:port");
  if (retry.max_attempts < 1) return bad("the Runtime API retry policy needs at least one attempt");
  if (max_next_failures < 1) return bad("max_next_failures must be at least 1");
  if (max_event_bytes == 0) return bad("max_event_bytes must be positive");
  return ok_status();
}

Result<RuntimeConfig> runtime_config_from_env(const aws::EnvLookup& env) {
  RuntimeConfig c;
  c.api = env("AWS_LAMBDA_RUNTIME_API").value_or("");
  using detail::read_uint;
  int attempts = c.retry.max_attempts;
  std::uint64_t max_delay_ms = static_cast<std::uint64_t>(c.retry.max_delay.count());
  std::uint64_t pause_ms = static_cast<std::uint64_t>(c.next_failure_pause.count());
  if (auto s = read_uint(env, "THUMBFLOW_LAMBDA_RUNTIME_ATTEMPTS", attempts, 1, 100); !s) return s.error();
  if (auto s = read_uint(env, "THUMBFLOW_LAMBDA_RUNTIME_MAX_DELAY_MS", max_delay_ms, 1, 60'000); !s) return s.error();
  if (auto s = read_uint(env, "THUMBFLOW_LAMBDA_RUNTIME_NEXT_FAILURES", c.max_next_failures, 1, 1000); !s) return s.error();
  if (auto s = read_uint(env, "THUMBFLOW_LAMBDA_RUNTIME_PAUSE_MS", pause_ms, 0, 600'000); !s) return s.error();
  c.retry.max_attempts = attempts;
  c.retry.max_delay = std::chrono::milliseconds(max_delay_ms);
  c.next_failure_pause = std::chrono::milliseconds(pause_ms);
  if (auto s = c.validate(); !s) return s.error();
  return c;
}

RuntimeApi::RuntimeApi(RuntimeConfig config) : config_(std::move(config)) {
  aws::HttpClient::Options o;
  o.retry = config_.retry;
  o.user_agent = "thumbflow-lambda/0.1";
  // `next` blocks for as long as there is no event (Lambda freezes the process meanwhile), so
  // there is neither an overall timeout nor a minimum transfer speed.
  o.timeouts.low_speed_bytes = 0;
  o.timeouts.total = std::chrono::milliseconds(0);
  o.timeouts.connect = std::chrono::milliseconds(2000);
  o.max_response_body = std::max(config_.max_event_bytes, kMaxAcknowledgementBytes);
  http_ = std::make_unique<aws::HttpClient>(o);
}

RuntimeApi::~RuntimeApi() = default;

std::string RuntimeApi::url(const std::string& path) const {
  return "http://" + config_.api + "/" + std::string(kRuntimeApiVersion) + path;
}

Result<Invocation> RuntimeApi::next() {
  aws::HttpRequest req;
  req.method = "GET";
  req.url = url("/runtime/invocation/next");
  auto r = http_->send(req);
  if (!r) {
    Error e = r.error();
    if (e.kind == ErrorKind::too_large) e.message = "the next event is over " + std::to_string(config_.max_event_bytes) + " bytes: " + e.message;
    e.message = "GET " + req.url + ": " + e.message;
    return e;
  }
  if (r->status != 200)
    return make_error(r->status >= 500 ? ErrorKind::unavailable : ErrorKind::invalid_argument,
                      "GET " + req.url + ": the Runtime API answered HTTP " + std::to_string(r->status) + ": " +
                          truncate(r->body, 500));
  Invocation inv;
  inv.request_id = r->header("lambda-runtime-aws-request-id");
  if (inv.request_id.empty())
    return make_error(ErrorKind::invalid_argument, "the Runtime API's next invocation has no Lambda-Runtime-Aws-Request-Id");
  const std::string deadline = r->header("lambda-runtime-deadline-ms");
  std::int64_t ms = 0;
  auto [end, ec] = std::from_chars(deadline.data(), deadline.data() + deadline.size(), ms);
  if (deadline.empty() || ec != std::errc() || end != deadline.data() + deadline.size() || ms <= 0)
    return make_error(ErrorKind::invalid_argument, "invocation " + inv.request_id +
                                                       ": Lambda-Runtime-Deadline-Ms '" + deadline + "' is not a time");
  inv.deadline = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  inv.function_arn = r->header("lambda-runtime-invoked-function-arn");
  inv.trace_id = r->header("lambda-runtime-trace-id");
  inv.client_context = r->header("lambda-runtime-client-context");
  inv.cognito_identity = r->header("lambda-runtime-cognito-identity");
  inv.payload = std::move(r->body);
  return inv;
}

Result<aws::HttpResponse> RuntimeApi::post(const std::string& path, const std::string& body, const aws::Headers& extra) {
  aws::HttpRequest req;
  req.method = "POST";
  req.url = url(path);
  req.headers = extra;
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = body;
  return http_->send(req);
}

std::string RuntimeApi::error_document(const std::string& type, const std::string& message) const {
  nlohmann::json doc{{"errorType", type},
                     {"errorMessage", truncate(message, config_.max_error_message_bytes)},
                     {"stackTrace", nlohmann::json::array()}};
  // Messages quote object keys, which may hold any byte: never let invalid UTF-8 throw.
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status RuntimeApi::post_response(const std::string& request_id, const std::string& payload) {
  return answer_status(post("/runtime/invocation/" + request_id + "/response", payload, {}),
                       "POST response of " + request_id);
}

Status RuntimeApi::post_error(const std::string& request_id, const std::string& type, const std::string& message) {
  return answer_status(post("/runtime/invocation/" + request_id + "/error", error_document(type, message),
                            {{"Lambda-Runtime-Function-Error-Type", type}}),
                       "POST error of " + request_id);
}

Status RuntimeApi::post_init_error(const std::string& type, const std::string& message) {
  return answer_status(
      post("/runtime/init/error", error_document(type, message), {{"Lambda-Runtime-Function-Error-Type", type}}),
      "POST init error");
}

LoopSummary run_loop(RuntimeApi& api, const Handler& handler, const LoopLog& log) {
  auto say = [&](std::string_view level, std::string_view id, const std::string& message) {
    if (log) log(level, id, message);
  };
  const RuntimeConfig& cfg = api.config();
  LoopSummary summary;
  int failures_in_a_row = 0;
  while (cfg.max_invocations == 0 || summary.invocations < cfg.max_invocations) {
    auto inv = api.next();
    if (!inv) {
      ++failures_in_a_row;
      say("ERROR", "", "cannot get the next invocation (" + std::to_string(failures_in_a_row) + " in a row): " +
                           inv.error().describe());
      if (failures_in_a_row >= cfg.max_next_failures) {
        summary.api_gone = true;
        return summary;
      }
      std::this_thread::sleep_for(cfg.next_failure_pause);
      continue;
    }
    failures_in_a_row = 0;

    if (inv->trace_id.empty()) {
      ::unsetenv("_X_AMZN_TRACE_ID");
    } else {
      ::setenv("_X_AMZN_TRACE_ID", inv->trace_id.c_str(), 1);
    }

    InvocationResponse answer;
    try {
      answer = handler(*inv);
    } catch (const std::exception& e) {
      answer = InvocationResponse::failure("Runtime.HandlerException", std::string("the handler failed: ") + e.what());
    } catch (...) {
      answer = InvocationResponse::failure("Runtime.HandlerException", "the handler failed with a non-standard exception");
    }

    Status posted = ok_status();
    if (answer.success) {
      posted = api.post_response(inv->request_id, answer.payload);
      if (!posted && posted.error().kind == ErrorKind::too_large) {
        answer = InvocationResponse::failure("Runtime.ResponseTooLarge", "the response of " + std::to_string(answer.payload.size()) +
                                                                             " bytes was refused: " + posted.error().message);
        posted = api.post_error(inv->request_id, answer.error_type, answer.error_message);
      }
    } else {
      posted = api.post_error(inv->request_id, answer.error_type, answer.error_message);
    }
    ++summary.invocations;
    if (!answer.success) {
      ++summary.errors;
      say("ERROR", inv->request_id, answer.error_type + ": " + answer.error_message);
    }
    // Lambda ends an invocation nobody answered at its deadline; nothing more to do here.
    if (!posted) say("ERROR", inv->request_id, "cannot answer the invocation: " + posted.error().describe());
  }
  return summary;
}

}  // namespace thumbflow::lambda
