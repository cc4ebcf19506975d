// The Lambda handler over LocalStore + SqliteCatalog + libvips: event shapes, duplicates,
// failures as records, metrics in CloudWatch EMF, configuration from the environment.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "lambda/handler.hpp"
#include "lambda_test_home.hpp"

namespace thumbflow::lambda {
namespace {

using nlohmann::json;
using testing::LocalLambdaHome;

Invocation invocation(std::string payload, std::chrono::milliseconds left = std::chrono::minutes(1)) {
  Invocation inv;
  inv.request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
  inv.payload = std::move(payload);
  inv.deadline = std::chrono::system_clock::now() + left;
  return inv;
}

std::vector<json> lines_of(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

std::vector<json> emf_lines(const std::string& text, const std::string& metric) {
  std::vector<json> out;
  for (auto& l : lines_of(text))
    if (l.contains("_aws") && l.contains(metric)) out.push_back(l);
  return out;
}

aws::EnvLookup env_of(std::map<std::string, std::string> m) {
  return [m](std::string_view name) -> std::optional<std::string> {
    auto it = m.find(std::string(name));
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST(ThumbnailHandler, s3_event_with_url_encoded_key_writes_thumbnail_record_and_metrics) {
  LocalLambdaHome home;
  auto event = home.upload_corpus("uploads/holiday 2026/a+b (1).jpg", "mate_FreshFlower.jpg");
  auto r = (*home.handler)(invocation(event));
  ASSERT_TRUE(r.success) << r.error_message;
  auto body = json::parse(r.payload);
  EXPECT_EQ(body["processed"], 1) << r.payload;
  const std::string id = body["results"][0]["imageId"];
  auto record = home.catalog->get(id);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->original_key, "uploads/holiday 2026/a+b (1).jpg");
  EXPECT_EQ(record->thumbnail_key, "thumbnails/holiday 2026/a+b (1).jpg");
  EXPECT_EQ(record->status, RecordStatus::processed);

  auto emf = emf_lines(home.telemetry.str(), "ImagesProcessed");
  ASSERT_EQ(emf.size(), 1u) << home.telemetry.str();
  const json& m = emf[0];
  EXPECT_EQ(m["_aws"]["CloudWatchMetrics"][0]["Namespace"], "thumbflow");
  EXPECT_EQ(m["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json::parse(R"([["FunctionName"]])"));
  std::set<std::string> names;
  for (const auto& d : m["_aws"]["CloudWatchMetrics"][0]["Metrics"]) names.insert(d["Name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"ImagesProcessed", "ProcessingTime", "SourceBytes", "OutputBytes"}));
  EXPECT_EQ(m["FunctionName"], "thumbflow-test");
  EXPECT_EQ(m["SourceBytes"], record->source_bytes);
  EXPECT_GT(m["OutputBytes"].get<std::uint64_t>(), 0u);
  EXPECT_GT(m["ProcessingTime"].get<double>(), 0.0);
  EXPECT_EQ(m["requestId"], "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
  EXPECT_TRUE(m["_aws"]["Timestamp"].is_number_integer());
}

TEST(ThumbnailHandler, the_same_event_twice_leaves_one_record) {
  LocalLambdaHome home;
  auto event = home.upload_corpus("uploads/twice.jpg", "mate_FreshFlower.jpg");
  auto first = (*home.handler)(invocation(event));
  auto second = (*home.handler)(invocation(event));
  ASSERT_TRUE(first.success && second.success);
  EXPECT_EQ(json::parse(first.payload)["processed"], 1);
  EXPECT_EQ(json::parse(second.payload)["already_done"], 1) << second.payload;
  auto page = home.catalog->query_by_status(RecordStatus::processed);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->records.size(), 1u);
  EXPECT_EQ(emf_lines(home.telemetry.str(), "ImagesProcessed").size(), 1u);
}

TEST(ThumbnailHandler, a_file_that_is_not_an_image_is_a_failure_record_and_an_images_failed_metric) {
  LocalLambdaHome home;
  auto event = home.upload("uploads/notes.jpg", "these are not the pixels you are looking for");
  auto r = (*home.handler)(invocation(event));
  ASSERT_TRUE(r.success) << "a permanent failure is recorded, not retried: " << r.error_message;
  auto body = json::parse(r.payload);
  EXPECT_EQ(body["failed"], 1);
  EXPECT_EQ(body["results"][0]["errorKind"], "unsupported_format");
  auto emf = emf_lines(home.telemetry.str(), "ImagesFailed");
  ASSERT_EQ(emf.size(), 1u);
  EXPECT_EQ(emf[0]["ErrorKind"], "unsupported_format");
  EXPECT_EQ(emf[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json::parse(R"([["FunctionName","ErrorKind"],["FunctionName"]])"));
  EXPECT_NE(emf[0]["error"].get<std::string>().find("s3://image-processing-test/uploads/notes.jpg"), std::string::npos);
}

TEST(ThumbnailHandler, a_deleted_object_is_recorded_as_not_found_naming_it) {
  LocalLambdaHome home;
  auto event = testing::s3_event(testing::kBucket, "uploads/gone.jpg", "d41d8cd98f00b204e9800998ecf8427e", 10);
  auto r = (*home.handler)(invocation(event));
  ASSERT_TRUE(r.success);
  auto body = json::parse(r.payload);
  EXPECT_EQ(body["results"][0]["errorKind"], "not_found");
  EXPECT_NE(body["results"][0]["error"].get<std::string>().find("uploads/gone.jpg"), std::string::npos);
}

TEST(ThumbnailHandler, eventbridge_object_created_is_processed_with_the_key_as_stored) {
  LocalLambdaHome home;
  auto doc = json::parse(test::read_bytes(test::source_dir() / "tests/fixtures/events/aws-eventbridge-object-created.json"));
  const std::string bucket = doc["detail"]["bucket"]["name"];
  const std::string key = doc["detail"]["object"]["key"];
  ASSERT_EQ(key, "uploads/example key:1.jpg");
  ASSERT_TRUE(home.store.create_bucket(bucket).ok());
  auto put = home.store.put(ObjectRef{bucket, key}, test::read_bytes(test::corpus_dir() / "mate_FreshFlower.jpg"));
  ASSERT_TRUE(put.ok());
  doc["detail"]["object"]["etag"] = put->etag;
  auto r = (*home.handler)(invocation(doc.dump()));
  ASSERT_TRUE(r.success) << r.error_message;
  auto body = json::parse(r.payload);
  EXPECT_EQ(body["processed"], 1) << r.payload;
  EXPECT_TRUE(home.store.head(ObjectRef{bucket, "thumbnails/example key:1.jpg"}).ok());
}

TEST(ThumbnailHandler, keys_outside_the_input_prefix_and_outputs_are_skipped) {
  LocalLambdaHome home;
  auto out = home.upload_corpus("thumbnails/x.jpg", "mate_FreshFlower.jpg");
  auto other = home.upload_corpus("elsewhere/x.jpg", "mate_FreshFlower.jpg");
  for (const auto& event : {out, other}) {
    auto r = (*home.handler)(invocation(event));
    ASSERT_TRUE(r.success);
    EXPECT_EQ(json::parse(r.payload)["skipped"], 1) << r.payload;
  }
}

TEST(ThumbnailHandler, direct_event_with_too_little_time_asks_lambda_to_retry) {
  LambdaConfig config;
  config.reserve = std::chrono::milliseconds(10'000);
  LocalLambdaHome home(config);
  auto event = home.upload_corpus("uploads/late.jpg", "mate_FreshFlower.jpg");
  auto r = (*home.handler)(invocation(event, std::chrono::milliseconds(2000)));
  ASSERT_FALSE(r.success);
  EXPECT_EQ(r.error_type, "Thumbflow.Retry");
  EXPECT_NE(r.error_message.find("uploads/late.jpg"), std::string::npos) << r.error_message;
  EXPECT_FALSE(home.store.head(ObjectRef{testing::kBucket, "thumbnails/late.jpg"}).ok());
}

TEST(ThumbnailHandler, sqs_message_that_is_not_an_s3_event_comes_back_alone) {
  LocalLambdaHome home;
  auto good = json::parse(home.upload_corpus("uploads/good.jpg", "mate_FreshFlower.jpg"));
  json batch = json::parse(test::read_bytes(test::source_dir() / "tests/fixtures/events/aws-sqs-template.json"));
  ASSERT_FALSE(batch["Records"].empty());
  json bad_message = batch["Records"][0];  // its body is the plain string "test"
  bad_message["messageId"] = "bad";
  json good_message = bad_message;
  good_message["messageId"] = "good";
  good_message["body"] = good.dump();
  batch["Records"] = json::array({bad_message, good_message});
  auto r = (*home.handler)(invocation(batch.dump()));
  ASSERT_TRUE(r.success) << r.error_message;
  EXPECT_EQ(json::parse(r.payload), json::parse(R"({"batchItemFailures":[{"itemIdentifier":"bad"}]})")) << r.payload;
  EXPECT_TRUE(home.store.head(ObjectRef{testing::kBucket, "thumbnails/good.jpg"}).ok());
}

TEST(ObjectOutcome, only_unsettled_objects_are_delivered_again) {
  EXPECT_TRUE(needs_redelivery(ObjectOutcome::retry, false));
  EXPECT_TRUE(needs_redelivery(ObjectOutcome::not_started, false));
  EXPECT_TRUE(needs_redelivery(ObjectOutcome::in_progress, true));
  EXPECT_FALSE(needs_redelivery(ObjectOutcome::in_progress, false));
  for (auto o : {ObjectOutcome::processed, ObjectOutcome::already_done, ObjectOutcome::failed, ObjectOutcome::skipped,
                 ObjectOutcome::superseded}) {
    EXPECT_FALSE(needs_redelivery(o, true)) << to_string(o);
    EXPECT_FALSE(needs_redelivery(o, false)) << to_string(o);
  }
}

TEST(LambdaConfigFromEnv, reads_every_field_and_names_the_variable_at_the_limit) {
  auto c = lambda_config_from_env(env_of({{"THUMBFLOW_LAMBDA_RESERVE_MS", "3600000"},
                                          {"THUMBFLOW_LAMBDA_CLAIM_GRACE_MS", "0"},
                                          {"THUMBFLOW_LAMBDA_MAX_CLAIM_MS", "1000"},
                                          {"THUMBFLOW_LAMBDA_MAX_RECEIVE_COUNT", "1000"},
                                          {"THUMBFLOW_LAMBDA_VIPS_THREADS", "4"},
                                          {"THUMBFLOW_LAMBDA_METRICS_NAMESPACE", "Images"},
                                          {"AWS_LAMBDA_FUNCTION_NAME", "thumbflow-prod"}}));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->reserve, std::chrono::milliseconds(3'600'000));
  EXPECT_EQ(c->claim_grace, std::chrono::milliseconds(0));
  EXPECT_EQ(c->max_claim, std::chrono::milliseconds(1000));
  EXPECT_EQ(c->max_receive_count, 1000);
  EXPECT_EQ(c->vips_threads, 4);
  EXPECT_EQ(c->metrics.ns, "Images");
  EXPECT_EQ(c->metrics.function_name, "thumbflow-prod");
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"THUMBFLOW_LAMBDA_RESERVE_MS", "3600001"},
           {"THUMBFLOW_LAMBDA_MAX_CLAIM_MS", "999"},
           {"THUMBFLOW_LAMBDA_MAX_RECEIVE_COUNT", "1001"},
           {"THUMBFLOW_LAMBDA_VIPS_THREADS", "-1"},
           {"THUMBFLOW_LAMBDA_CLAIM_GRACE_MS", "5s"},
           {"THUMBFLOW_LAMBDA_METRICS_NAMESPACE", ""}}) {
    auto bad = lambda_config_from_env(env_of({{name, value}}));
    ASSERT_FALSE(bad.ok()) << name << "=" << value;
    EXPECT_NE(bad.error().message.find(name), std::string::npos) << bad.error().message;
  }
}

TEST(JsonLines, invalid_utf8_in_a_key_is_replaced_never_thrown) {
  std::ostringstream out;
  JsonLines sink(out);
  Logger log(sink);
  log.set_request_id("r");
  log.info("processed", {{"object", std::string("s3://b/uploads/\xff\xfe.jpg")}});
  auto line = json::parse(out.str());
  EXPECT_EQ(line["requestId"], "r");
  EXPECT_EQ(line["level"], "INFO");
  EXPECT_TRUE(line["timestamp"].is_string());
}

}  // namespace thumbflow::lambda
