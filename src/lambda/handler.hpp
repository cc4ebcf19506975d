// The Lambda handler: one event document in (S3 notification, SQS batch wrapping S3
// notifications, or an EventBridge "Object Created" event), each object through the claim and
// the pipeline, one answer out.
//
// Answers:
// - SQS batch: always a success {"batchItemFailures":[{"itemIdentifier":"<messageId>"}...]}
//   (the function's event source mapping has ReportBatchItemFailures), listing the messages to
//   deliver again: a retryable error, an image claimed by another instance, a message that could
//   not be decoded (it reaches the dead-letter queue after maxReceiveCount), and every message
//   not started because too little time was left.
// - S3 notification or EventBridge: a summary {"results":[...], "processed":n, ...} when every
//   object is settled (processed, already done, failure recorded, skipped, or being processed by
//   another instance); otherwise an error of type Thumbflow.Retry, so Lambda's asynchronous
//   retries (and then the on-failure destination) take over. Objects already settled are
//   skipped by the retry: their record exists.
// - A document that is not an event: an error of type InvalidEvent naming what is wrong.
//
// Policy:
// - Deadline: no object is started with less than `reserve` left before the invocation's
//   deadline; whatever is left is answered as above (SQS: batchItemFailures; others: retry).
// - Attempts: for SQS, ApproximateReceiveCount is the attempt; when it reaches
//   max_receive_count (the queue's redrive maxReceiveCount), a retryable error is recorded as a
//   failure instead, so the catalog says why before the message goes to the dead-letter queue.
//   Asynchronous invocations do not say their attempt: their retryable errors stay retries and
//   the on-failure destination keeps the event.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "aws/credentials.hpp"
#include "core/error.hpp"
#include "events/event_decoder.hpp"
#include "lambda/claims.hpp"
#include "lambda/runtime.hpp"
#include "lambda/telemetry.hpp"
#include "pipeline/pipeline.hpp"

namespace thumbflow::lambda {

struct LambdaConfig {
  // No new image starts with less than this left before the deadline (THUMBFLOW_LAMBDA_RESERVE_MS).
  std::chrono::milliseconds reserve{5000};
  // A claim expires this long after the invocation's deadline (THUMBFLOW_LAMBDA_CLAIM_GRACE_MS).
  std::chrono::milliseconds claim_grace{5000};
  // Longest claim, whatever the deadline says; Lambda's longest timeout is 15 minutes
  // (THUMBFLOW_LAMBDA_MAX_CLAIM_MS).
  std::chrono::milliseconds max_claim{15 * 60 * 1000};
  // The SQS queue's maxReceiveCount; 0 = unknown, no delivery is treated as the last
  // (THUMBFLOW_LAMBDA_MAX_RECEIVE_COUNT).
  int max_receive_count = 0;
  // libvips threads for the one image in flight; 0 = every core the function has
  // (THUMBFLOW_LAMBDA_VIPS_THREADS).
  int vips_threads = 0;
  MetricsConfig metrics;  // THUMBFLOW_LAMBDA_METRICS_NAMESPACE, AWS_LAMBDA_FUNCTION_NAME

  Status validate() const;
};

// Reads the THUMBFLOW_LAMBDA_* variables over the defaults; errors name the variable.
Result<LambdaConfig> lambda_config_from_env(const aws::EnvLookup& env);

enum class ObjectOutcome {
  processed,
  already_done,
  failed,       // a failure record was written
  skipped,      // not under the input prefix, or an output
  superseded,   // the object changed while being read; the newer version has its own event
  in_progress,  // another instance holds the claim
  retry,        // a retryable error; nothing recorded
  not_started,  // too little time was left
};
std::string_view to_string(ObjectOutcome o);
// Whether the object needs another delivery.
bool needs_redelivery(ObjectOutcome o, bool batch);

struct ObjectResult {
  ObjectCreated object;
  ObjectOutcome outcome = ObjectOutcome::processed;
  std::string image_id;
  std::optional<Error> error;
};

class ThumbnailHandler {
 public:
  // claims may be null (no claim is taken: for stores without DynamoDB, and tests of the local
  // peers); the logger's request id is set for each invocation.
  ThumbnailHandler(LambdaConfig config, pipeline::Pipeline& pipeline, ClaimStore* claims, Logger& logger);

  InvocationResponse operator()(const Invocation& invocation);

  // One object: deadline check, claim, pipeline, release.
  ObjectResult process_object(const ObjectCreated& object, const Invocation& invocation, int attempt, bool last_attempt);

 private:
  InvocationResponse handle_batch(const events::DecodedDocument& doc, const Invocation& inv);
  InvocationResponse handle_direct(const events::DecodedDocument& doc, const Invocation& inv);

  LambdaConfig config_;
  pipeline::Pipeline& pipeline_;
  ClaimStore* claims_;
  Logger& logger_;
  std::string nonce_;  // tells this process's claims from another's with the same request id
};

}  // namespace thumbflow::lambda
