#include "lambda/handler.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <random>

#include "catalog/image_id.hpp"
#include "lambda/env_fields.hpp"

namespace thumbflow::lambda {
namespace {

using nlohmann::json;

std::string random_nonce() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint32_t> pick;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", pick(rd), pick(rd));
  return buf;
}

// messageId -> ApproximateReceiveCount, read from the raw SQS batch (the decoder keeps only the
// objects). Messages without a readable count are absent.
std::map<std::string, int> receive_counts(std::string_view payload) {
  std::map<std::string, int> out;
  auto doc = json::parse(payload, nullptr, false);
  if (!doc.is_object() || !doc.contains("Records") || !doc["Records"].is_array()) return out;
  for (const auto& r : doc["Records"]) {
    if (!r.is_object()) continue;
    auto id = r.find("messageId");
    auto attrs = r.find("attributes");
    if (id == r.end() || !id->is_string() || attrs == r.end() || !attrs->is_object()) continue;
    auto count = attrs->find("ApproximateReceiveCount");
    if (count == attrs->end() || !count->is_string()) continue;
    try {
      int n = std::stoi(count->get<std::string>());
      if (n > 0) out[id->get<std::string>()] = n;
    } catch (const std::exception&) {
      // not a number: the delivery is not counted
    }
  }
  return out;
}

json result_json(const ObjectResult& r) {
  json j{{"object", r.object.ref().uri()}, {"outcome", std::string(to_string(r.outcome))}};
  if (!r.image_id.empty()) j["imageId"] = r.image_id;
  if (r.error) {
    j["errorKind"] = std::string(to_string(r.error->kind));
    j["error"] = r.error->message;
  }
  return j;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

Status LambdaConfig::validate() const {
  auto bad = [](const std::string& why) { return make_error(ErrorKind::invalid_argument, why); };
  if (reserve.count() < 0) return bad("THUMBFLOW_LAMBDA_RESERVE_MS must not be negative");
  if (max_claim.count() < 1000) return bad("THUMBFLOW_LAMBDA_MAX_CLAIM_MS must be at least 1000");
  if (max_receive_count < 0) return bad("THUMBFLOW_LAMBDA_MAX_RECEIVE_COUNT must not be negative");
  if (metrics.ns.empty() || metrics.ns.size() > 255) return bad("THUMBFLOW_LAMBDA_METRICS_NAMESPACE must be 1-255 characters");
  return ok_status();
}

Result<LambdaConfig> lambda_config_from_env(const aws::EnvLookup& env) {
  LambdaConfig c;
  using detail::read_uint;
  std::uint64_t reserve = static_cast<std::uint64_t>(c.reserve.count());
  std::uint64_t grace = static_cast<std::uint64_t>(c.claim_grace.count());
  std::uint64_t max_claim = static_cast<std::uint64_t>(c.max_claim.count());
  constexpr std::uint64_t kHour = 3'600'000;
  if (auto s = read_uint(env, "THUMBFLOW_LAMBDA_RESERVE_MS", reserve, 0, kHour); !s) return s.error();
  if (auto s = read_uint(env, "THUMBFLOW_LAMBDA_CLAIM_GRACE_MS", grace, 0, kHour); !s) return s.error();
  if (auto s = read_uint(env, "THUMBFLOW_LAMBDA_MAX_CLAIM_MS", max_claim, 1000, 24 * kHour); !s) return s.error();
  if (auto s = read_uint(env, "THUMBFLOW_LAMBDA_MAX_RECEIVE_COUNT", c.max_receive_count, 0, 1000); !s) return s.error();
  if (auto s = read_uint(env, "THUMBFLOW_LAMBDA_VIPS_THREADS", c.vips_threads, 0, 1024); !s) return s.error();
  c.reserve = std::chrono::milliseconds(reserve);
  c.claim_grace = std::chrono::milliseconds(grace);
  c.max_claim = std::chrono::milliseconds(max_claim);
  if (auto ns = env("THUMBFLOW_LAMBDA_METRICS_NAMESPACE")) c.metrics.ns = *ns;
  c.metrics.function_name = env("AWS_LAMBDA_FUNCTION_NAME").value_or("thumbflow-local");
  if (auto s = c.validate(); !s) return s.error();
  return c;
}

std::string_view to_string(ObjectOutcome o) {
  switch (o) {
    case ObjectOutcome::processed: return "processed";
    case ObjectOutcome::already_done: return "already_done";
    case ObjectOutcome::failed: return "failed";
    case ObjectOutcome::skipped: return "skipped";
    case ObjectOutcome::superseded: return "superseded";
    case ObjectOutcome::in_progress: return "in_progress";
    case ObjectOutcome::retry: return "retry";
    case ObjectOutcome::not_started: return "not_started";
  }
  return "processed";
}

bool needs_redelivery(ObjectOutcome o, bool batch) {
  switch (o) {
    case ObjectOutcome::retry:
    case ObjectOutcome::not_started:
      return true;
    // From a queue, a claimed image comes back after the visibility timeout and is then either
    // done (its record exists) or taken over; a direct invocation leaves it to the holder, whose
    // own invocation is retried by Lambda if it dies.
    case ObjectOutcome::in_progress:
      return batch;
    case ObjectOutcome::processed:
    case ObjectOutcome::already_done:
    case ObjectOutcome::failed:
    case ObjectOutcome::skipped:
    case ObjectOutcome::superseded:
      return false;
  }
  return true;
}

ThumbnailHandler::ThumbnailHandler(LambdaConfig config, pipeline::Pipeline& pipeline, ClaimStore* claims, Logger& logger)
    : config_(std::move(config)), pipeline_(pipeline), claims_(claims), logger_(logger), nonce_(random_nonce()) {}

ObjectResult ThumbnailHandler::process_object(const ObjectCreated& object, const Invocation& inv, int attempt,
                                              bool last_attempt) {
  ObjectResult out;
  out.object = object;
  const auto now = std::chrono::system_clock::now();
  if (inv.remaining(now) < config_.reserve) {
    out.outcome = ObjectOutcome::not_started;
    return out;
  }
  if (!pipeline_.config().trigger.matches(object.key)) {
    out.outcome = ObjectOutcome::skipped;
    return out;
  }
  out.image_id = catalog::make_image_id(object.bucket, object.key, object.version_or_etag());

  const std::string owner = inv.request_id + "/" + nonce_;
  if (claims_) {
    auto until = std::min(inv.deadline, now + config_.max_claim) + config_.claim_grace;
    auto claim = claims_->acquire(out.image_id, owner, until, now);
    if (!claim) {
      out.outcome = ObjectOutcome::retry;
      out.error = claim.error();
      logger_.warn("cannot claim", {{"object", object.ref().uri()}, {"imageId", out.image_id}, {"error", claim.error().describe()}});
      return out;
    }
    if (*claim == ClaimOutcome::held_elsewhere) {
      out.outcome = ObjectOutcome::in_progress;
      logger_.info("claimed by another instance", {{"object", object.ref().uri()}, {"imageId", out.image_id}});
      return out;
    }
    if (*claim == ClaimOutcome::taken_over)
      logger_.warn("took over an expired claim", {{"object", object.ref().uri()}, {"imageId", out.image_id}});
  }

  pipeline::ProcessResult r = pipeline_.process(object, attempt, last_attempt);
  switch (r.outcome) {
    case pipeline::Outcome::processed: out.outcome = ObjectOutcome::processed; break;
    case pipeline::Outcome::already_done: out.outcome = ObjectOutcome::already_done; break;
    case pipeline::Outcome::failed: out.outcome = ObjectOutcome::failed; break;
    case pipeline::Outcome::retry: out.outcome = ObjectOutcome::retry; break;
    case pipeline::Outcome::skipped: out.outcome = ObjectOutcome::skipped; break;
    case pipeline::Outcome::superseded: out.outcome = ObjectOutcome::superseded; break;
  }
  if (!r.image_id.empty()) out.image_id = r.image_id;
  out.error = r.error;

  if (claims_) {
    // A claim left behind only delays a redelivery until it expires: log, do not fail.
    if (auto released = claims_->release(out.image_id, owner); !released)
      logger_.warn("cannot release the claim", {{"imageId", out.image_id}, {"error", released.error().describe()}});
  }
  return out;
}

InvocationResponse ThumbnailHandler::operator()(const Invocation& inv) {
  logger_.set_request_id(inv.request_id);
  auto doc = events::decode_event_document(inv.payload);
  if (!doc) {
    logger_.error("not an event", {{"error", doc.error().describe()}, {"bytes", inv.payload.size()}});
    return InvocationResponse::failure("InvalidEvent", "invocation " + inv.request_id + ": " + doc.error().message);
  }
  if (doc->kind == events::DocumentKind::sqs_batch) return handle_batch(*doc, inv);
  return handle_direct(*doc, inv);
}

InvocationResponse ThumbnailHandler::handle_batch(const events::DecodedDocument& doc, const Invocation& inv) {
  const auto counts = config_.max_receive_count > 0 ? receive_counts(inv.payload) : std::map<std::string, int>{};
  json failures = json::array();
  int processed = 0;
  for (const auto& message : doc.messages) {
    bool redeliver = false;
    if (message.error) {
      logger_.error("SQS message is not an S3 event", {{"messageId", message.message_id}, {"error", message.error->describe()}});
      redeliver = true;
    }
    int attempt = 1;
    if (auto it = counts.find(message.message_id); it != counts.end()) attempt = it->second;
    const bool last = config_.max_receive_count > 0 && attempt >= config_.max_receive_count;
    for (const auto& object : message.objects) {
      if (redeliver) break;  // the rest of this message comes back with it
      ObjectResult r = process_object(object, inv, attempt, last);
      if (r.outcome == ObjectOutcome::processed) ++processed;
      if (needs_redelivery(r.outcome, true)) {
        redeliver = true;
        if (r.outcome != ObjectOutcome::not_started)
          logger_.warn("message will be delivered again", {{"messageId", message.message_id}, {"result", result_json(r)}});
      }
    }
    if (redeliver) failures.push_back(json{{"itemIdentifier", message.message_id}});
  }
  logger_.info("batch done", {{"messages", doc.messages.size()}, {"processed", processed}, {"redeliver", failures.size()}});
  return InvocationResponse::ok(dump(json{{"batchItemFailures", std::move(failures)}}));
}

InvocationResponse ThumbnailHandler::handle_direct(const events::DecodedDocument& doc, const Invocation& inv) {
  json results = json::array();
  std::map<std::string, int> counts;
  std::string retry_reasons;
  for (const auto& object : doc.all_objects()) {
    ObjectResult r = process_object(object, inv, 1, false);
    ++counts[std::string(to_string(r.outcome))];
    if (needs_redelivery(r.outcome, false)) {
      if (!retry_reasons.empty()) retry_reasons += "; ";
      retry_reasons += r.object.ref().uri() + ": " +
                       (r.error ? r.error->describe() : std::string(to_string(r.outcome)) + " (too little time left)");
    }
    results.push_back(result_json(r));
  }
  json answer{{"results", results}};
  for (const auto& [k, v] : counts) answer[k] = v;
  logger_.info("event done", {{"summary", answer}});
  if (!retry_reasons.empty()) return InvocationResponse::failure("Thumbflow.Retry", retry_reasons);
  return InvocationResponse::ok(dump(answer));
}

}  // namespace thumbflow::lambda
