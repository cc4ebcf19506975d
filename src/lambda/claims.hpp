// The idempotency claim of the AWS home: before an image is processed, its invocation claims it
// in DynamoDB, so two Lambda instances handed the same upload (S3 delivers at least once, SQS
// redelivers) do not render it twice at the same time, and an instance that dies mid-image is
// taken over by the retry once its claim has expired.
//
// Layout: one item per image in the catalog's own table (no second table to deploy and grant),
//   imageId       "claim#<imageId>"   (a prefix no record id can have: ids are 32 hex digits)
//   claimOwner    who holds it        (request id and a per-process nonce)
//   claimExpires  epoch milliseconds  (after this anyone may take it over)
//   claimTtl      epoch seconds       (DynamoDB TTL removes forgotten claims; see template.yaml)
// Claim items carry neither `status` nor `uploadDay`, so they never appear in the catalog's
// date index nor in its status scans.
//
// Policy:
// - acquire is one conditional PutItem: "attribute_not_exists(imageId) OR claimExpires < :now".
//   A claim that has not expired answers held_elsewhere (ConditionalCheckFailedException).
// - The expiry is the invocation's deadline plus a grace period: Lambda cannot run a function
//   past its deadline, so a claim older than that belongs to an instance that is gone.
// - release is a conditional DeleteItem on claimOwner, so a slow instance never deletes a claim
//   another one took over. The catalog record, written last by the pipeline, is what says
//   "done"; the claim only says "someone is working on it".
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "aws/http_client.hpp"
#include "aws/sigv4.hpp"
#include "core/error.hpp"

namespace thumbflow::lambda {

enum class ClaimOutcome {
  acquired,        // nobody held it
  taken_over,      // an expired claim was replaced (its holder died mid-image)
  held_elsewhere,  // someone else holds an unexpired claim
};
std::string_view to_string(ClaimOutcome o);

inline constexpr std::string_view kClaimKeyPrefix = "claim#";

class ClaimStore {
 public:
  virtual ~ClaimStore() = default;
  virtual Result<ClaimOutcome> acquire(const std::string& image_id, const std::string& owner,
                                       std::chrono::system_clock::time_point expires,
                                       std::chrono::system_clock::time_point now) = 0;
  // true when this owner's claim was removed; false when it was not (or no longer) this owner's.
  virtual Result<bool> release(const std::string& image_id, const std::string& owner) = 0;
};

struct DynamoClaimsConfig {
  std::string endpoint;   // empty = https://dynamodb.<region>.amazonaws.com
  std::string region = "us-east-1";
  aws::Credentials credentials;
  std::string table = "ImageMetadata";
  // How long DynamoDB keeps a claim nobody released (TTL), past its expiry.
  std::chrono::seconds ttl_after_expiry{std::chrono::hours(24)};
};

class DynamoClaims final : public ClaimStore {
 public:
  // invalid_argument for an empty table or region; makes no request.
  static Result<std::unique_ptr<DynamoClaims>> open(DynamoClaimsConfig config, std::shared_ptr<aws::HttpClient> http);

  Result<ClaimOutcome> acquire(const std::string& image_id, const std::string& owner,
                               std::chrono::system_clock::time_point expires,
                               std::chrono::system_clock::time_point now) override;
  Result<bool> release(const std::string& image_id, const std::string& owner) override;

 private:
  DynamoClaims(DynamoClaimsConfig config, std::shared_ptr<aws::HttpClient> http);
  struct Answer {
    long status = 0;
    std::string code;  // DynamoDB exception name when status is not 2xx
    std::string body;
  };
  Result<Answer> call(std::string_view op, const std::string& body);

  DynamoClaimsConfig config_;
  std::shared_ptr<aws::HttpClient> http_;
  std::string url_;
  aws::SigningConfig signing_;
};

}  // namespace thumbflow::lambda
