#include "lambda/claims.hpp"

#include <nlohmann/json.hpp>

#include "catalog/dynamo_catalog.hpp"

namespace thumbflow::lambda {
namespace {

using nlohmann::json;

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string claim_key(const std::string& image_id) { return std::string(kClaimKeyPrefix) + image_id; }

// "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException" -> the part after '#'.
std::string error_code(const aws::HttpResponse& r) {
  auto body = json::parse(r.body, nullptr, false);
  std::string type;
  if (body.is_object()) type = body.value("__type", std::string{});
  if (type.empty()) type = r.header("x-amzn-errortype");
  auto hash = type.rfind('#');
  return hash == std::string::npos ? type : type.substr(hash + 1);
}

ErrorKind kind_for(long status, const std::string& code) {
  if (status >= 500 || status == 429 || code.find("Throughput") != std::string::npos || code == "ThrottlingException" ||
      code == "RequestLimitExceeded")
    return ErrorKind::unavailable;
  if (status == 403 || code == "AccessDeniedException" || code == "UnrecognizedClientException" ||
      code == "InvalidSignatureException" || code == "ExpiredTokenException")
    return ErrorKind::access_denied;
  if (code == "ResourceNotFoundException" || code == "ValidationException") return ErrorKind::invalid_argument;
  return ErrorKind::internal;
}

}  // namespace

std::string_view to_string(ClaimOutcome o) {
  switch (o) {
    case ClaimOutcome::acquired: return "acquired";
    case ClaimOutcome::taken_over: return "taken_over";
    case ClaimOutcome::held_elsewhere: return "held_elsewhere";
  }
  return "acquired";
}

DynamoClaims::DynamoClaims(DynamoClaimsConfig config, std::shared_ptr<aws::HttpClient> http)
    : config_(std::move(config)), http_(std::move(http)) {
  std::string endpoint = config_.endpoint.empty() ? "https://dynamodb." + config_.region + ".amazonaws.com" : config_.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  url_ = endpoint + "/";
  signing_.credentials = config_.credentials;
  signing_.scope = aws::Scope{config_.region, "dynamodb"};
}

Result<std::unique_ptr<DynamoClaims>> DynamoClaims::open(DynamoClaimsConfig config, std::shared_ptr<aws::HttpClient> http) {
  if (config.table.empty()) return make_error(ErrorKind::invalid_argument, "claims: the table name is empty");
  if (config.region.empty()) return make_error(ErrorKind::invalid_argument, "claims: the region is empty");
  if (!config.endpoint.empty() && config.endpoint.rfind("http://", 0) != 0 && config.endpoint.rfind("https://", 0) != 0)
    return make_error(ErrorKind::invalid_argument, "claims: DynamoDB endpoint '" + config.endpoint + "' must start with http:// or https://");
  if (!http) http = std::make_shared<aws::HttpClient>();
  return std::unique_ptr<DynamoClaims>(new DynamoClaims(std::move(config), std::move(http)));
}

Result<DynamoClaims::Answer> DynamoClaims::call(std::string_view op, const std::string& body) {
  aws::HttpRequest req;
  req.method = "POST";
  req.url = url_;
  req.headers = {{"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", "DynamoDB_20120810." + std::string(op)}};
  req.body = body;
  aws::RetryClassifier throttled = catalog::is_dynamo_throttling;
  auto r = http_->send(req, &signing_, nullptr, &throttled);
  if (!r) {
    Error e = r.error();
    e.message = "DynamoDB " + std::string(op) + " (claim) on " + config_.table + ": " + e.message;
    return e;
  }
  Answer a;
  a.status = r->status;
  if (a.status < 200 || a.status >= 300) a.code = error_code(*r);
  a.body = std::move(r->body);
  return a;
}

Result<ClaimOutcome> DynamoClaims::acquire(const std::string& image_id, const std::string& owner,
                                           std::chrono::system_clock::time_point expires,
                                           std::chrono::system_clock::time_point now) {
  const auto ttl = std::chrono::duration_cast<std::chrono::seconds>((expires + config_.ttl_after_expiry).time_since_epoch());
  json body{{"TableName", config_.table},
            {"Item",
             {{"imageId", {{"S", claim_key(image_id)}}},
              {"claimOwner", {{"S", owner}}},
              {"claimExpires", {{"N", std::to_string(epoch_ms(expires))}}},
              {"claimTtl", {{"N", std::to_string(ttl.count())}}}}},
            {"ConditionExpression", "attribute_not_exists(imageId) OR claimExpires < :now"},
            {"ExpressionAttributeValues", {{":now", {{"N", std::to_string(epoch_ms(now))}}}}},
            {"ReturnValues", "ALL_OLD"}};
  auto a = call("PutItem", body.dump());
  if (!a) return a.error();
  if (a->status >= 200 && a->status < 300) {
    auto parsed = json::parse(a->body, nullptr, false);
    const bool replaced = parsed.is_object() && parsed.contains("Attributes") && parsed["Attributes"].is_object() &&
                          !parsed["Attributes"].empty();
    return replaced ? ClaimOutcome::taken_over : ClaimOutcome::acquired;
  }
  if (a->code == "ConditionalCheckFailedException") return ClaimOutcome::held_elsewhere;
  return make_error(kind_for(a->status, a->code), "cannot claim image " + image_id + " in " + config_.table + " (HTTP " +
                                                      std::to_string(a->status) + ", " + a->code + "): " + a->body.substr(0, 300),
                    a->code);
}

Result<bool> DynamoClaims::release(const std::string& image_id, const std::string& owner) {
  json body{{"TableName", config_.table},
            {"Key", {{"imageId", {{"S", claim_key(image_id)}}}}},
            {"ConditionExpression", "claimOwner = :me"},
            {"ExpressionAttributeValues", {{":me", {{"S", owner}}}}}};
  auto a = call("DeleteItem", body.dump());
  if (!a) return a.error();
  if (a->status >= 200 && a->status < 300) return true;
  if (a->code == "ConditionalCheckFailedException") return false;
  return make_error(kind_for(a->status, a->code), "cannot release the claim on image " + image_id + " in " + config_.table +
                                                      " (HTTP " + std::to_string(a->status) + ", " + a->code + "): " +
                                                      a->body.substr(0, 300),
                    a->code);
}

}  // namespace thumbflow::lambda
