// The Runtime API loop driven by the suite's own Runtime API server (runtime_api_server.hpp),
// with the real handler over LocalStore + SqliteCatalog + libvips.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <stdexcept>

#include "lambda/runtime.hpp"
#include "lambda_test_home.hpp"
#include "runtime_api_server.hpp"

namespace thumbflow::lambda {
namespace {

using nlohmann::json;
using test::TestRuntimeApi;
using testing::LocalLambdaHome;

RuntimeConfig fast_config(const TestRuntimeApi& server, std::uint64_t invocations) {
  RuntimeConfig c;
  c.api = server.address();
  c.retry = {6, std::chrono::milliseconds(5), std::chrono::milliseconds(40)};
  c.next_failure_pause = std::chrono::milliseconds(10);
  c.max_invocations = invocations;
  return c;
}

Handler handler_of(LocalLambdaHome& home) {
  return [&home](const Invocation& inv) { return (*home.handler)(inv); };
}

}  // namespace

TEST(RuntimeLoop, answers_a_successful_invocation_with_the_handlers_response) {
  TestRuntimeApi server;
  LocalLambdaHome home;
  server.push({"req-1", home.upload_corpus("uploads/my photo+1.jpg", "mate_FreshFlower.jpg"),
               TestRuntimeApi::in_ms(60'000), "Root=1-5759e988-bd862e3fe1be46a994272793"});
  RuntimeApi api(fast_config(server, 1));
  LoopSummary s = run_loop(api, handler_of(home));
  EXPECT_EQ(s.invocations, 1u);
  EXPECT_EQ(s.errors, 0u);
  auto answers = server.answers();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].request_id, "req-1");
  EXPECT_FALSE(answers[0].error);
  auto body = json::parse(answers[0].body);
  EXPECT_EQ(body["processed"], 1) << answers[0].body;
  EXPECT_EQ(body["results"][0]["object"], "s3://image-processing-test/uploads/my photo+1.jpg");
  auto thumb = home.store.head(ObjectRef{testing::kBucket, "thumbnails/my photo+1.jpg"});
  EXPECT_TRUE(thumb.ok()) << "the thumbnail was not written";
  // The log lines carry the request id.
  EXPECT_NE(home.telemetry.str().find(R"("requestId":"req-1")"), std::string::npos) << home.telemetry.str();
}

TEST(RuntimeLoop, a_handler_exception_is_reported_through_error_and_the_loop_goes_on) {
  TestRuntimeApi server;
  server.push({"boom", "{}", TestRuntimeApi::in_ms(60'000), ""});
  server.push({"fine", "{}", TestRuntimeApi::in_ms(60'000), ""});
  Handler handler = [](const Invocation& inv) -> InvocationResponse {
    if (inv.request_id == "boom") throw std::runtime_error("disk on fire");
    return InvocationResponse::ok(R"({"ok":true})");
  };
  RuntimeApi api(fast_config(server, 2));
  LoopSummary s = run_loop(api, handler);
  EXPECT_EQ(s.invocations, 2u);
  EXPECT_EQ(s.errors, 1u);
  auto answers = server.answers();
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_TRUE(answers[0].error);
  EXPECT_EQ(answers[0].error_type_header, "Runtime.HandlerException");
  auto err = json::parse(answers[0].body);
  EXPECT_EQ(err["errorType"], "Runtime.HandlerException");
  EXPECT_NE(err["errorMessage"].get<std::string>().find("disk on fire"), std::string::npos);
  EXPECT_FALSE(answers[1].error);
  EXPECT_EQ(answers[1].body, R"({"ok":true})");
}

TEST(RuntimeLoop, a_malformed_event_is_an_invalid_event_error_naming_the_problem) {
  TestRuntimeApi server;
  LocalLambdaHome home;
  server.push({"bad-1", "this is not JSON", TestRuntimeApi::in_ms(60'000), ""});
  server.push({"bad-2", R"({"hello":"world"})", TestRuntimeApi::in_ms(60'000), ""});
  RuntimeApi api(fast_config(server, 2));
  LoopSummary s = run_loop(api, handler_of(home));
  EXPECT_EQ(s.errors, 2u);
  auto answers = server.answers();
  ASSERT_EQ(answers.size(), 2u);
  for (const auto& a : answers) {
    EXPECT_TRUE(a.error);
    EXPECT_EQ(a.error_type_header, "InvalidEvent");
    auto err = json::parse(a.body);
    EXPECT_NE(err["errorMessage"].get<std::string>().find(a.request_id), std::string::npos) << a.body;
  }
}

TEST(RuntimeLoop, too_little_time_left_sends_every_sqs_message_back_unprocessed) {
  TestRuntimeApi server;
  LambdaConfig config;
  config.reserve = std::chrono::milliseconds(5000);
  LocalLambdaHome home(config);
  // Both messages' objects exist, so only the deadline keeps them from being processed.
  (void)home.upload_corpus("uploads/my photo (2).jpg", "mate_FreshFlower.jpg");
  (void)home.upload_corpus("uploads/a+b.jpg", "mate_FreshFlower.jpg");
  server.push({"late", test::read_bytes(test::source_dir() / "tests/fixtures/events/aws-sqs-s3.json"),
               TestRuntimeApi::in_ms(1000), ""});
  RuntimeApi api(fast_config(server, 1));
  (void)run_loop(api, handler_of(home));
  auto answers = server.answers();
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_FALSE(answers[0].error) << answers[0].body;
  auto body = json::parse(answers[0].body);
  ASSERT_EQ(body["batchItemFailures"].size(), 2u) << answers[0].body;
  EXPECT_EQ(body["batchItemFailures"][0]["itemIdentifier"], "059f36b4-87a3-44ab-83d2-661975830000");
  EXPECT_EQ(body["batchItemFailures"][1]["itemIdentifier"], "059f36b4-87a3-44ab-83d2-661975830001");
  // The s3:TestEvent message has no object: nothing to deliver again.
  auto page = home.catalog->query_by_status(RecordStatus::processed);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->records.empty()) << "an image was started with too little time left";
}

TEST(RuntimeLoop, the_same_batch_with_time_enough_is_processed_keys_decoded_once) {
  TestRuntimeApi server;
  LocalLambdaHome home;
  (void)home.upload_corpus("uploads/my photo (2).jpg", "mate_FreshFlower.jpg");
  (void)home.upload_corpus("uploads/a+b.jpg", "skimage_coins.png");
  server.push({"batch", test::read_bytes(test::source_dir() / "tests/fixtures/events/aws-sqs-s3.json"),
               TestRuntimeApi::in_ms(120'000), ""});
  RuntimeApi api(fast_config(server, 1));
  (void)run_loop(api, handler_of(home));
  auto answers = server.answers();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(json::parse(answers[0].body), json::parse(R"({"batchItemFailures":[]})")) << answers[0].body;
  EXPECT_TRUE(home.store.head(ObjectRef{testing::kBucket, "thumbnails/my photo (2).jpg"}).ok());
  EXPECT_TRUE(home.store.head(ObjectRef{testing::kBucket, "thumbnails/a+b.jpg"}).ok());
}

TEST(RuntimeLoop, runtime_api_answering_500_is_retried_until_it_recovers) {
  TestRuntimeApi server;
  server.fail_next_requests(3);
  server.fail_response_requests(2);
  server.push({"after-500", "{}", TestRuntimeApi::in_ms(60'000), ""});
  Handler handler = [](const Invocation&) { return InvocationResponse::ok(R"({"ok":1})"); };
  RuntimeApi api(fast_config(server, 1));
  LoopSummary s = run_loop(api, handler);
  EXPECT_EQ(s.invocations, 1u);
  EXPECT_FALSE(s.api_gone);
  EXPECT_EQ(server.next_calls(), 4);
  auto answers = server.answers();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].request_id, "after-500");
  EXPECT_FALSE(answers[0].error);
}

TEST(RuntimeLoop, next_failing_beyond_its_retries_is_tried_again_after_a_pause) {
  TestRuntimeApi server;
  RuntimeConfig c = fast_config(server, 1);
  c.retry.max_attempts = 2;
  server.fail_next_requests(3);  // the first `next` fails twice; the second call fails once, then succeeds
  server.push({"eventually", "{}", TestRuntimeApi::in_ms(60'000), ""});
  RuntimeApi api(c);
  LoopSummary s = run_loop(api, [](const Invocation&) { return InvocationResponse::ok("{}"); });
  EXPECT_EQ(s.invocations, 1u);
  EXPECT_EQ(server.next_calls(), 4);
}

TEST(RuntimeLoop, gives_up_when_the_runtime_api_is_gone) {
  RuntimeConfig c;
  c.api = "127.0.0.1:" + std::to_string(test::free_port());  // nobody listens
  c.retry = {2, std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
  c.max_next_failures = 3;
  c.next_failure_pause = std::chrono::milliseconds(5);
  RuntimeApi api(c);
  int calls = 0;
  LoopSummary s = run_loop(api, [&](const Invocation&) {
    ++calls;
    return InvocationResponse::ok("{}");
  });
  EXPECT_TRUE(s.api_gone);
  EXPECT_EQ(s.invocations, 0u);
  EXPECT_EQ(calls, 0);
}

TEST(RuntimeLoop, sets_the_trace_id_for_each_invocation_and_clears_it_when_absent) {
  TestRuntimeApi server;
  server.push({"traced", "{}", TestRuntimeApi::in_ms(60'000), "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"});
  server.push({"untraced", "{}", TestRuntimeApi::in_ms(60'000), ""});
  std::vector<std::string> seen;
  RuntimeApi api(fast_config(server, 2));
  (void)run_loop(api, [&](const Invocation&) {
    const char* t = std::getenv("_X_AMZN_TRACE_ID");
    seen.push_back(t ? t : "<unset>");
    return InvocationResponse::ok("{}");
  });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
  EXPECT_EQ(seen[1], "<unset>");
}

TEST(RuntimeLoop, the_deadline_reaches_the_handler_as_data) {
  TestRuntimeApi server;
  const std::int64_t deadline = TestRuntimeApi::in_ms(42'000);
  server.push({"d", "{}", deadline, ""});
  std::int64_t got = 0;
  std::chrono::milliseconds left{0};
  RuntimeApi api(fast_config(server, 1));
  (void)run_loop(api, [&](const Invocation& inv) {
    got = std::chrono::duration_cast<std::chrono::milliseconds>(inv.deadline.time_since_epoch()).count();
    left = inv.remaining();
    return InvocationResponse::ok("{}");
  });
  EXPECT_EQ(got, deadline);
  EXPECT_GT(left.count(), 30'000);
  EXPECT_LE(left.count(), 42'000);
}

TEST(RuntimeLoop, a_response_refused_as_too_large_becomes_an_error) {
  TestRuntimeApi server;
  server.set_max_response_bytes(100);
  server.push({"big", "{}", TestRuntimeApi::in_ms(60'000), ""});
  RuntimeApi api(fast_config(server, 1));
  LoopSummary s = run_loop(api, [](const Invocation&) { return InvocationResponse::ok(std::string(1000, ' ') + "{}"); });
  EXPECT_EQ(s.errors, 1u);
  auto answers = server.answers();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].error);
  EXPECT_EQ(answers[0].error_type_header, "Runtime.ResponseTooLarge");
}

TEST(RuntimeApiClient, reports_an_init_error) {
  TestRuntimeApi server;
  RuntimeApi api(fast_config(server, 1));
  ASSERT_TRUE(api.post_init_error("Runtime.InvalidConfiguration", "THUMBFLOW_TABLE is not set").ok());
  ASSERT_TRUE(server.wait_init_error(std::chrono::seconds(5)));
  auto doc = json::parse(*server.init_error());
  EXPECT_EQ(doc["errorType"], "Runtime.InvalidConfiguration");
  EXPECT_EQ(doc["errorMessage"], "THUMBFLOW_TABLE is not set");
}

TEST(RuntimeApiClient, refuses_an_invocation_without_request_id_or_deadline) {
  TestRuntimeApi server;
  server.push({"no-deadline", "{}", 0, ""});
  RuntimeApi api(fast_config(server, 1));
  auto inv = api.next();
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(inv.error().message.find("Deadline"), std::string::npos) << inv.error().message;
}

TEST(RuntimeConfigFromEnv, needs_the_runtime_api_and_names_bad_variables) {
  auto env_of = [](std::map<std::string, std::string> m) -> aws::EnvLookup {
    return [m](std::string_view name) -> std::optional<std::string> {
      auto it = m.find(std::string(name));
      if (it == m.end()) return std::nullopt;
      return it->second;
    };
  };
  auto missing = runtime_config_from_env(env_of({}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("AWS_LAMBDA_RUNTIME_API"), std::string::npos);
  auto bad = runtime_config_from_env(env_of({{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"},
                                             {"THUMBFLOW_LAMBDA_RUNTIME_ATTEMPTS", "0"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("THUMBFLOW_LAMBDA_RUNTIME_ATTEMPTS"), std::string::npos);
  auto top = runtime_config_from_env(env_of({{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"},
                                             {"THUMBFLOW_LAMBDA_RUNTIME_ATTEMPTS", "100"}}));
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->retry.max_attempts, 100);
  EXPECT_FALSE(runtime_config_from_env(env_of({{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"},
                                               {"THUMBFLOW_LAMBDA_RUNTIME_ATTEMPTS", "101"}}))
                   .ok());
  EXPECT_FALSE(runtime_config_from_env(env_of({{"AWS_LAMBDA_RUNTIME_API", "http://x/"}})).ok());
}

}  // namespace thumbflow::lambda
