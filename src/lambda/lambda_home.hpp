// The composition root of the AWS home: from environment variables to S3Store, DynamoCatalog,
// the DynamoDB claim, the pipeline and the handler; and the two ways to run it (the Runtime API
// loop, and one local invocation for `thumbflow invoke`).
//
// Environment (Lambda sets the AWS_* ones; the template sets the THUMBFLOW_* ones):
//   THUMBFLOW_TABLE               the ImageMetadata table (required: a function that would write
//                                 to a default table nobody created is refused at init)
//   THUMBFLOW_S3_ENDPOINT         S3 endpoint other than AWS's (path-style requests then)
//   THUMBFLOW_DYNAMODB_ENDPOINT   DynamoDB endpoint other than AWS's
//   THUMBFLOW_OUTPUT_PREFIX, THUMBFLOW_RENDITIONS, THUMBFLOW_LIMITS_*, THUMBFLOW_TRIGGER_* ...
//                                 as for every home (see thumbflow.example.toml)
//   THUMBFLOW_LAMBDA_*            see handler.hpp and runtime.hpp
//   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION
//   SSL_CERT_FILE                 CA bundle for HTTPS (the package's bootstrap sets it)
// storage.kind and catalog.kind are s3 and dynamodb here whatever the environment says.
#pragma once

#include <iosfwd>
#include <memory>

#include "aws/credentials.hpp"
#include "config/config.hpp"
#include "lambda/handler.hpp"
#include "lambda/runtime.hpp"
#include "lambda/telemetry.hpp"

namespace thumbflow::lambda {

class LambdaHome {
 public:
  // Reads the configuration and opens the store, catalog and claims (no request is made).
  // invalid_argument / access_denied naming the variable when something is missing or wrong.
  static Result<std::unique_ptr<LambdaHome>> open(const config::Environment& thumbflow_env, const aws::EnvLookup& env,
                                                  std::ostream& telemetry);
  ~LambdaHome();
  LambdaHome(const LambdaHome&) = delete;
  LambdaHome& operator=(const LambdaHome&) = delete;

  ThumbnailHandler& handler();
  Logger& logger();
  const config::Config& config() const;

 private:
  LambdaHome();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The custom runtime (`thumbflow lambda`, or the binary started as `bootstrap`): reads the
// process environment, reports bad configuration through /runtime/init/error, then serves
// invocations. Metrics and logs go to `telemetry` (stdout in Lambda). Returns the exit status.
int run_runtime(std::ostream& telemetry, std::uint64_t max_invocations = 0);

// `thumbflow invoke`: one event document through the same handler, against the configured
// endpoints; the response (or the error document) is written to `out`, metrics and logs to
// `telemetry`. Exit status 0 for a response, 1 for an error answer, 2 for bad configuration.
int run_invoke(const std::string& event_document, std::chrono::milliseconds timeout, std::ostream& out,
               std::ostream& telemetry);

}  // namespace thumbflow::lambda
