#include "lambda/lambda_home.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <random>
#include <thread>

#include "catalog/dynamo_catalog.hpp"
#include "imaging/policy.hpp"
#include "pipeline/vips_renderer.hpp"
#include "storage/s3_store.hpp"

namespace thumbflow::lambda {

struct LambdaHome::Impl {
  config::Config config;
  LambdaConfig lambda;
  std::shared_ptr<aws::HttpClient> http;
  std::unique_ptr<storage::S3Store> store;
  std::unique_ptr<catalog::DynamoCatalog> catalog;
  std::unique_ptr<DynamoClaims> claims;
  pipeline::VipsRenderer renderer;
  std::unique_ptr<JsonLines> sink;
  std::unique_ptr<Logger> logger;
  std::unique_ptr<LambdaObserver> observer;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<ThumbnailHandler> handler;
};

LambdaHome::LambdaHome() : impl_(std::make_unique<Impl>()) {}
LambdaHome::~LambdaHome() = default;
ThumbnailHandler& LambdaHome::handler() { return *impl_->handler; }
Logger& LambdaHome::logger() { return *impl_->logger; }
const config::Config& LambdaHome::config() const { return impl_->config; }

Result<std::unique_ptr<LambdaHome>> LambdaHome::open(const config::Environment& thumbflow_env, const aws::EnvLookup& env,
                                                     std::ostream& telemetry) {
  if (!thumbflow_env.count("THUMBFLOW_TABLE") && !thumbflow_env.count("THUMBFLOW_CATALOG_TABLE"))
    return make_error(ErrorKind::invalid_argument,
                      "THUMBFLOW_TABLE is not set: the DynamoDB table for the ImageMetadata records is needed");
  auto cfg = config::load(std::nullopt, thumbflow_env);
  if (!cfg) return cfg.error();
  cfg->storage.kind = "s3";
  cfg->catalog.kind = "dynamodb";
  auto lambda_cfg = lambda_config_from_env(env);
  if (!lambda_cfg) return lambda_cfg.error();

  std::string region;
  if (auto r = aws::resolve_region({}, env); r && !r->empty()) {
    region = *r;
  } else {
    return make_error(ErrorKind::invalid_argument, "no AWS region: set AWS_REGION (Lambda sets it)");
  }
  aws::CredentialOptions copts;
  copts.env = env;
  auto creds = aws::resolve_credentials_from({}, copts);
  if (!creds) return creds.error();

  std::unique_ptr<LambdaHome> home(new LambdaHome());
  Impl& h = *home->impl_;
  h.config = std::move(*cfg);
  h.lambda = std::move(*lambda_cfg);
  // Lambda's Amazon Linux keeps its CA bundle where Debian's libcurl does not look; the package
  // ships one and its bootstrap names it in SSL_CERT_FILE (OpenSSL's own variable).
  const std::string ca_bundle = env("SSL_CERT_FILE").value_or("");
  aws::HttpClient::Options http_options;
  http_options.ca_bundle = ca_bundle;
  h.http = std::make_shared<aws::HttpClient>(http_options);

  storage::S3Config s3;
  s3.endpoint = h.config.storage.endpoint;
  // AWS: virtual-hosted requests; another endpoint (s3rver, RADOS Gateway) as configured.
  s3.path_style = s3.endpoint.empty() ? false : h.config.storage.path_style;
  s3.region = h.config.storage.region.empty() ? region : h.config.storage.region;
  s3.credentials = creds->credentials;
  s3.ca_bundle = ca_bundle;
  auto store = storage::S3Store::create(s3);
  if (!store) return store.error();
  h.store = std::move(*store);

  catalog::DynamoCatalogConfig dc;
  dc.endpoint = h.config.catalog.endpoint;
  dc.region = h.config.catalog.region.empty() ? region : h.config.catalog.region;
  dc.table = h.config.catalog.table;
  dc.credentials = creds->credentials;
  auto cat = catalog::DynamoCatalog::open(dc, h.http);
  if (!cat) return cat.error();
  h.catalog = std::move(*cat);

  DynamoClaimsConfig cc;
  cc.endpoint = dc.endpoint;
  cc.region = dc.region;
  cc.table = dc.table;
  cc.credentials = creds->credentials;
  auto claims = DynamoClaims::open(cc, h.http);
  if (!claims) return claims.error();
  h.claims = std::move(*claims);

  imaging::ImagingPolicy policy;
  policy.vips_threads = h.lambda.vips_threads > 0 ? h.lambda.vips_threads
                                                  : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (auto st = imaging::init_imaging(policy); !st) return st.error();

  pipeline::PipelineConfig p;
  p.trigger.input_prefix = h.config.trigger.input_prefix;
  p.trigger.output_prefix = h.config.trigger.output_prefix;
  p.trigger.suffixes = h.config.trigger.suffixes;
  p.renditions = h.config.renditions;
  p.limits = h.config.limits;
  p.cache_control = h.config.cache_control;
  if (auto st = p.trigger.validate(); !st) return st.error();

  h.sink = std::make_unique<JsonLines>(telemetry);
  h.logger = std::make_unique<Logger>(*h.sink);
  h.observer = std::make_unique<LambdaObserver>(h.lambda.metrics, *h.sink, *h.logger);
  h.pipeline = std::make_unique<pipeline::Pipeline>(std::move(p), *h.store, *h.catalog, h.renderer, h.observer.get());
  h.handler = std::make_unique<ThumbnailHandler>(h.lambda, *h.pipeline, h.claims.get(), *h.logger);
  return home;
}

int run_runtime(std::ostream& telemetry, std::uint64_t max_invocations) {
  const aws::EnvLookup env = aws::process_environment();
  JsonLines early(telemetry);
  Logger log(early);
  auto runtime_cfg = runtime_config_from_env(env);
  if (!runtime_cfg) {
    // Without the Runtime API there is nobody to report to but the log.
    log.error("cannot start the Lambda runtime", {{"error", runtime_cfg.error().describe()}});
    return 2;
  }
  runtime_cfg->max_invocations = max_invocations;
  RuntimeApi api(*runtime_cfg);

  auto home = LambdaHome::open(config::process_environment(), env, telemetry);
  if (!home) {
    log.error("bad configuration", {{"error", home.error().describe()}});
    if (auto st = api.post_init_error("Runtime.InvalidConfiguration", home.error().describe()); !st)
      log.error("cannot report the init error", {{"error", st.error().describe()}});
    return 2;
  }
  Logger& hl = (*home)->logger();
  hl.info("thumbflow Lambda runtime started", {{"table", (*home)->config().catalog.table},
                                               {"outputPrefix", (*home)->config().trigger.output_prefix}});
  ThumbnailHandler& handler = (*home)->handler();
  Handler h = [&](const Invocation& inv) { return handler(inv); };
  LoopLog loop_log = [&](std::string_view level, std::string_view id, std::string_view message) {
    hl.set_request_id(std::string(id));
    hl.log(level, message);
  };
  LoopSummary s = run_loop(api, h, loop_log);
  hl.set_request_id({});
  hl.info("thumbflow Lambda runtime stopped", {{"invocations", s.invocations}, {"errors", s.errors}, {"apiGone", s.api_gone}});
  return s.api_gone ? 1 : 0;
}

int run_invoke(const std::string& event_document, std::chrono::milliseconds timeout, std::ostream& out,
               std::ostream& telemetry) {
  auto home = LambdaHome::open(config::process_environment(), aws::process_environment(), telemetry);
  if (!home) {
    out << nlohmann::json{{"errorType", "Runtime.InvalidConfiguration"}, {"errorMessage", home.error().describe()}}.dump(
               -1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
    return 2;
  }
  Invocation inv;
  std::random_device rd;
  char id[40];
  std::snprintf(id, sizeof id, "local-%08x-%08x", rd(), rd());
  inv.request_id = id;
  inv.payload = event_document;
  inv.deadline = std::chrono::system_clock::now() + timeout;
  inv.function_arn = "arn:aws:lambda:local:000000000000:function:thumbflow-local";
  InvocationResponse r;
  try {
    r = (*home)->handler()(inv);
  } catch (const std::exception& e) {
    r = InvocationResponse::failure("Runtime.HandlerException", std::string("the handler failed: ") + e.what());
  }
  if (r.success) {
    out << r.payload << "\n";
    return 0;
  }
  out << nlohmann::json{{"errorType", r.error_type}, {"errorMessage", r.error_message}}.dump(
             -1, ' ', false, nlohmann::json::error_handler_t::replace)
      << "\n";
  return 1;
}

}  // namespace thumbflow::lambda
