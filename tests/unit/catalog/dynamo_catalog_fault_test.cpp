// DynamoCatalog against a scripted DynamoDB stand-in (cpp-httplib on 127.0.0.1): the failures
// dynalite never produces — throttling, UnprocessedItems, a missing table — and what goes on the
// wire (target, content type, SigV4 scope).
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "catalog/dynamo_catalog.hpp"

namespace thumbflow::catalog {
namespace {

using nlohmann::json;

// Answers each request with whatever `script` says; remembers what it was sent.
class FakeDynamo {
 public:
  using Script = std::function<void(const std::string& op, const json& body, httplib::Response& res)>;
  explicit FakeDynamo(Script script) : script_(std::move(script)) {
    server_.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      std::string target = req.get_header_value("X-Amz-Target");
      std::string op = target.substr(target.find('.') + 1);
      json body = json::parse(req.body, nullptr, false);
      {
        std::lock_guard lock(mutex_);
        requests_.push_back({target, req.get_header_value("Content-Type"), req.get_header_value("Authorization"), body});
      }
      script_(op, body, res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~FakeDynamo() {
    server_.stop();
    thread_.join();
  }
  FakeDynamo(const FakeDynamo&) = delete;
  FakeDynamo& operator=(const FakeDynamo&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  struct Seen {
    std::string target, content_type, authorization;
    json body;
  };
  std::vector<Seen> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  Script script_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Seen> requests_;
};

void error_response(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  res.status = status;
  res.set_content(json{{"__type", "com.amazonaws.dynamodb.v20120810#" + code}, {"message", message}}.dump(),
                  "application/x-amz-json-1.0");
}

std::unique_ptr<DynamoCatalog> open_catalog(const FakeDynamo& fake, int http_attempts = 4, int batch_attempts = 4) {
  DynamoCatalogConfig config;
  config.endpoint = fake.endpoint();
  config.credentials = {"AKIDEXAMPLE", "secret", ""};
  config.table = "Images";
  config.http.retry = {http_attempts, std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
  config.batch_retry = {batch_attempts, std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
  auto catalog = DynamoCatalog::open(config);
  if (!catalog) throw std::runtime_error(catalog.error().describe());
  return std::move(*catalog);
}

ImageRecord record(const std::string& id) {
  ImageRecord r;
  r.image_id = id;
  r.original_key = "uploads/" + id + ".jpg";
  r.upload_date = "2026-11-25T10:00:00.000Z";
  return r;
}

TEST(DynamoCatalogWire, sends_the_json_protocol_signed_for_dynamodb) {
  FakeDynamo fake([](const std::string&, const json&, httplib::Response& res) {
    res.set_content("{}", "application/x-amz-json-1.0");
  });
  auto catalog = open_catalog(fake);
  ASSERT_TRUE(catalog->upsert(record("a")));
  auto seen = fake.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "DynamoDB_20120810.PutItem");
  EXPECT_EQ(seen[0].content_type, "application/x-amz-json-1.0");
  EXPECT_NE(seen[0].authorization.find("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), std::string::npos);
  EXPECT_NE(seen[0].authorization.find("/us-east-1/dynamodb/aws4_request"), std::string::npos);
  EXPECT_EQ(seen[0].body["TableName"], "Images");
  EXPECT_EQ(seen[0].body["Item"]["imageId"]["S"], "a");
  EXPECT_FALSE(seen[0].body.contains("ConditionExpression"));
}

TEST(DynamoCatalogWire, put_if_absent_is_a_conditional_put_and_a_failed_condition_is_false) {
  FakeDynamo fake([](const std::string&, const json&, httplib::Response& res) {
    error_response(res, 400, "ConditionalCheckFailedException", "The conditional request failed");
  });
  auto catalog = open_catalog(fake);
  auto put = catalog->put_if_absent(record("a"));
  ASSERT_TRUE(put) << put.error().describe();
  EXPECT_FALSE(*put);
  auto seen = fake.requests();
  ASSERT_EQ(seen.size(), 1u);  // never retried
  EXPECT_EQ(seen[0].body["ConditionExpression"], "attribute_not_exists(imageId)");
  // The same condition failing on a plain upsert path is reported, not swallowed.
  auto up = catalog->upsert(record("a"));
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().kind, ErrorKind::precondition_failed);
}

TEST(DynamoCatalogThrottling, throttled_requests_are_retried_until_they_pass) {
  for (const std::string code : {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}) {
    std::atomic<int> calls{0};
    FakeDynamo fake([&](const std::string&, const json&, httplib::Response& res) {
      if (++calls <= 2) return error_response(res, 400, code, "slow down");
      res.set_content("{}", "application/x-amz-json-1.0");
    });
    auto catalog = open_catalog(fake);
    auto s = catalog->upsert(record("a"));
    EXPECT_TRUE(s) << code << ": " << s.error().describe();
    EXPECT_EQ(calls.load(), 3) << code;
  }
}

TEST(DynamoCatalogThrottling, throttling_that_does_not_stop_is_unavailable) {
  std::atomic<int> calls{0};
  FakeDynamo fake([&](const std::string&, const json&, httplib::Response& res) {
    ++calls;
    error_response(res, 400, "ProvisionedThroughputExceededException", "slow down");
  });
  auto catalog = open_catalog(fake, /*http_attempts=*/3);
  auto got = catalog->get("a");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(got.error().code, "ProvisionedThroughputExceededException");
  EXPECT_TRUE(got.error().retryable());
  EXPECT_EQ(calls.load(), 3);
}

TEST(DynamoCatalogThrottling, other_client_errors_are_not_retried) {
  std::atomic<int> calls{0};
  FakeDynamo fake([&](const std::string&, const json&, httplib::Response& res) {
    ++calls;
    error_response(res, 400, "ValidationException", "bad");
  });
  auto catalog = open_catalog(fake);
  auto got = catalog->get("a");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(calls.load(), 1);
}

TEST(DynamoCatalogBatch, unprocessed_items_are_sent_again_until_none_are_left) {
  std::mutex mutex;
  std::vector<std::string> written;
  int batch_calls = 0;
  FakeDynamo fake([&](const std::string& op, const json& body, httplib::Response& res) {
    ASSERT_EQ(op, "BatchWriteItem");
    std::lock_guard lock(mutex);
    ++batch_calls;
    const json& requests = body["RequestItems"]["Images"];
    EXPECT_LE(requests.size(), 25u);
    // Accept only the first two items of each call; hand the rest back.
    json unprocessed = json::array();
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (i < 2)
        written.push_back(requests[i]["PutRequest"]["Item"]["imageId"]["S"]);
      else
        unprocessed.push_back(requests[i]);
    }
    json out{{"UnprocessedItems", json::object()}};
    if (!unprocessed.empty()) out["UnprocessedItems"]["Images"] = unprocessed;
    res.set_content(out.dump(), "application/x-amz-json-1.0");
  });
  auto catalog = open_catalog(fake, 4, /*batch_attempts=*/20);
  std::vector<ImageRecord> records;
  for (int i = 0; i < 30; ++i) records.push_back(record("r" + std::to_string(i)));
  auto s = catalog->batch_put(records);
  ASSERT_TRUE(s) << s.error().describe();
  std::sort(written.begin(), written.end());
  ASSERT_EQ(written.size(), 30u);
  EXPECT_EQ(std::adjacent_find(written.begin(), written.end()), written.end());
  // 25 items: 13 calls; then 5 items: 3 calls.
  EXPECT_EQ(batch_calls, 16);
}

TEST(DynamoCatalogBatch, items_left_unprocessed_after_the_last_attempt_are_unavailable) {
  std::atomic<int> calls{0};
  FakeDynamo fake([&](const std::string&, const json& body, httplib::Response& res) {
    ++calls;
    res.set_content(json{{"UnprocessedItems", body["RequestItems"]}}.dump(), "application/x-amz-json-1.0");
  });
  auto catalog = open_catalog(fake, 4, /*batch_attempts=*/3);
  auto s = catalog->batch_put({record("a"), record("b")});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::unavailable);
  EXPECT_NE(s.error().message.find("2 items"), std::string::npos) << s.error().message;
  EXPECT_EQ(calls.load(), 3);
}

TEST(DynamoCatalogErrors, a_missing_table_says_how_to_create_it) {
  FakeDynamo fake([](const std::string&, const json&, httplib::Response& res) {
    error_response(res, 400, "ResourceNotFoundException", "Requested resource not found");
  });
  auto catalog = open_catalog(fake);
  auto got = catalog->get("a");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(got.error().code, "ResourceNotFoundException");
  EXPECT_NE(got.error().message.find("thumbflow catalog create-table"), std::string::npos);
}

TEST(DynamoCatalogErrors, refused_credentials_are_access_denied) {
  FakeDynamo fake([](const std::string&, const json&, httplib::Response& res) {
    error_response(res, 400, "UnrecognizedClientException", "The security token included in the request is invalid");
  });
  auto catalog = open_catalog(fake);
  auto got = catalog->get("a");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::access_denied);
  EXPECT_FALSE(got.error().retryable());
}

TEST(DynamoCatalogErrors, server_errors_are_retried_then_unavailable) {
  std::atomic<int> calls{0};
  FakeDynamo fake([&](const std::string&, const json&, httplib::Response& res) {
    ++calls;
    error_response(res, 500, "InternalServerError", "oops");
  });
  auto catalog = open_catalog(fake, 2);
  auto s = catalog->remove("a");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(calls.load(), 2);
}

TEST(DynamoCatalogConfig, refuses_bad_settings_before_any_request) {
  auto with = [](auto change) {
    DynamoCatalogConfig c;
    c.credentials = {"a", "b", ""};
    change(c);
    return DynamoCatalog::open(c);
  };
  EXPECT_TRUE(with([](DynamoCatalogConfig&) {}));
  EXPECT_EQ(with([](DynamoCatalogConfig& c) { c.credentials = {}; }).error().kind, ErrorKind::invalid_argument);
  EXPECT_FALSE(with([](DynamoCatalogConfig& c) { c.table = "ab"; }));
  EXPECT_FALSE(with([](DynamoCatalogConfig& c) { c.table = "has space"; }));
  EXPECT_FALSE(with([](DynamoCatalogConfig& c) { c.shards = 0; }));
  EXPECT_FALSE(with([](DynamoCatalogConfig& c) { c.shards = DynamoCatalog::kMaxShards + 1; }));
  EXPECT_TRUE(with([](DynamoCatalogConfig& c) { c.shards = DynamoCatalog::kMaxShards; }));
  EXPECT_FALSE(with([](DynamoCatalogConfig& c) { c.endpoint = "127.0.0.1:8000"; }));
  EXPECT_FALSE(with([](DynamoCatalogConfig& c) { c.region = "US East"; }));
  EXPECT_FALSE(with([](DynamoCatalogConfig& c) { c.open_range_days = c.max_query_days + 1; }));
}

TEST(DynamoCatalogThrottling, the_classifier_knows_the_throttling_codes) {
  aws::HttpResponse r;
  r.status = 400;
  r.body = R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"x"})";
  EXPECT_TRUE(is_dynamo_throttling(r));
  r.body = R"({"__type":"com.amazon.coral.availability#ThrottlingException"})";
  EXPECT_TRUE(is_dynamo_throttling(r));
  r.body = R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"})";
  EXPECT_FALSE(is_dynamo_throttling(r));
  r.body = "not json";
  EXPECT_FALSE(is_dynamo_throttling(r));
  r.status = 200;
  r.body = R"({"__type":"x#ThrottlingException"})";
  EXPECT_FALSE(is_dynamo_throttling(r));
}

}  // namespace
}  // namespace thumbflow::catalog
