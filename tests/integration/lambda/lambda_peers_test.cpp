// The AWS home against real peers: the DynamoDB claim on dynalite, and `thumbflow invoke`
// processing an upload on s3rver with its record in dynalite.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>
#include <stdexcept>

#include "catalog/dynamo_catalog.hpp"
#include "catalog/image_id.hpp"
#include "lambda/claims.hpp"
#include "lambda_test_home.hpp"
#include "runtime_api_server.hpp"
#include "storage/s3_store.hpp"
#include "test_support.hpp"

namespace thumbflow::lambda {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

std::map<std::string, std::string> peer(const std::string& name) {
  auto env = test::peer_env(name);
  if (env["ENDPOINT"].empty())
    throw std::runtime_error("the " + name + " peer is not running: run these tests through ctest (fixture peer_" + name + ")");
  return env;
}

catalog::DynamoCatalogConfig catalog_config(const std::string& table) {
  auto env = peer("dynalite");
  catalog::DynamoCatalogConfig c;
  c.endpoint = env["ENDPOINT"];
  c.region = env["REGION"];
  c.credentials = {env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""};
  c.table = table;
  c.open_range_days = 7;
  c.http.retry = {3, 10ms, 100ms};
  return c;
}

// A fresh ImageMetadata table on dynalite, deleted at the end.
struct Table {
  explicit Table(const std::string& prefix) : name(unique_name(prefix)) {
    auto c = catalog::DynamoCatalog::open(catalog_config(name));
    if (!c) throw std::runtime_error(c.error().describe());
    catalog = std::move(*c);
    if (auto s = catalog->create_table(); !s) throw std::runtime_error(s.error().describe());
  }
  ~Table() { (void)catalog->delete_table(); }
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  std::string name;
  std::unique_ptr<catalog::DynamoCatalog> catalog;
};

std::unique_ptr<DynamoClaims> claims_on(const std::string& table) {
  auto c = catalog_config(table);
  DynamoClaimsConfig cc;
  cc.endpoint = c.endpoint;
  cc.region = c.region;
  cc.credentials = c.credentials;
  cc.table = table;
  auto claims = DynamoClaims::open(cc, std::make_shared<aws::HttpClient>());
  if (!claims) throw std::runtime_error(claims.error().describe());
  return std::move(*claims);
}

}  // namespace

TEST(DynamoClaims, one_holder_at_a_time_taken_over_after_expiry_released_only_by_its_owner) {
  Table table("claims");
  auto claims = claims_on(table.name);
  const auto now = std::chrono::system_clock::now();
  const std::string id = "0123456789abcdef0123456789abcdef";

  auto a = claims->acquire(id, "req-a", now + 60s, now);
  ASSERT_TRUE(a.ok()) << a.error().describe();
  EXPECT_EQ(*a, ClaimOutcome::acquired);
  auto b = claims->acquire(id, "req-b", now + 60s, now + 1s);
  ASSERT_TRUE(b.ok()) << b.error().describe();
  EXPECT_EQ(*b, ClaimOutcome::held_elsewhere) << "a live claim must not be taken";

  // req-a died: after its expiry, req-b's retry takes the image over.
  auto c = claims->acquire(id, "req-b", now + 180s, now + 61s);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, ClaimOutcome::taken_over);
  auto late_release = claims->release(id, "req-a");
  ASSERT_TRUE(late_release.ok());
  EXPECT_FALSE(*late_release) << "a slow former holder must not delete the new holder's claim";
  EXPECT_EQ(*claims->acquire(id, "req-c", now + 60s, now + 62s), ClaimOutcome::held_elsewhere);

  auto released = claims->release(id, "req-b");
  ASSERT_TRUE(released.ok());
  EXPECT_TRUE(*released);
  EXPECT_EQ(*claims->acquire(id, "req-c", now + 60s, now + 63s), ClaimOutcome::acquired);
}

TEST(DynamoClaims, claim_items_never_show_in_catalog_queries) {
  Table table("claims-hidden");
  auto claims = claims_on(table.name);
  const auto now = std::chrono::system_clock::now();
  ASSERT_TRUE(claims->acquire("0123456789abcdef0123456789abcdef", "req", now + 60s, now).ok());
  for (auto status : {RecordStatus::processed, RecordStatus::failed}) {
    auto page = table.catalog->query_by_status(status);
    ASSERT_TRUE(page.ok()) << page.error().describe();
    EXPECT_TRUE(page->records.empty());
  }
  catalog::DateQuery q;
  auto dated = table.catalog->query_by_upload_date(q);
  ASSERT_TRUE(dated.ok()) << dated.error().describe();
  EXPECT_TRUE(dated->records.empty());
}

TEST(DynamoClaims, a_missing_table_is_an_error_naming_it) {
  auto claims = claims_on(unique_name("no-such-table"));
  const auto now = std::chrono::system_clock::now();
  auto r = claims->acquire("0123456789abcdef0123456789abcdef", "req", now + 60s, now);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument) << r.error().describe();
  EXPECT_NE(r.error().message.find("no-such-table"), std::string::npos) << r.error().message;
}

TEST(InvokeCommand, processes_a_key_with_spaces_and_plus_and_the_same_event_twice_leaves_one_record) {
  auto s3env = peer("s3rver");
  auto dyn = peer("dynalite");
  Table table("invoke");
  storage::S3Config s3;
  s3.endpoint = s3env["ENDPOINT"];
  s3.path_style = true;
  s3.region = "us-east-1";
  s3.credentials = {s3env["ACCESS_KEY"], s3env["SECRET_KEY"], ""};
  auto store = storage::S3Store::create(s3);
  ASSERT_TRUE(store.ok());
  const std::string bucket = unique_name("lambda-invoke");
  auto created = (*store)->create_bucket(bucket);
  ASSERT_TRUE(created.ok()) << created.error().describe();
  const std::string key = "uploads/my holiday+beach (1).jpg";
  const std::string bytes = test::read_bytes(test::corpus_dir() / "mate_FreshFlower.jpg");
  auto put = (*store)->put(ObjectRef{bucket, key}, bytes);
  ASSERT_TRUE(put.ok()) << put.error().describe();

  test::TempDir tmp;
  const auto event_file = tmp.path() / "event.json";
  const std::string event = testing::s3_event(bucket, key, put->etag, bytes.size());
  ASSERT_NE(event.find("uploads/my+holiday%2Bbeach+%281%29.jpg"), std::string::npos) << "AWS encodes keys";
  test::write_bytes(event_file, event);

  const std::vector<std::string> argv = {"/usr/bin/env", "-i",
                                         "PATH=/usr/bin:/bin",
                                         "HOME=" + tmp.path().string(),
                                         "AWS_ACCESS_KEY_ID=" + s3env["ACCESS_KEY"],
                                         "AWS_SECRET_ACCESS_KEY=" + s3env["SECRET_KEY"],
                                         "AWS_REGION=us-east-1",
                                         "THUMBFLOW_TABLE=" + table.name,
                                         "THUMBFLOW_S3_ENDPOINT=" + s3env["ENDPOINT"],
                                         "THUMBFLOW_DYNAMODB_ENDPOINT=" + dyn["ENDPOINT"],
                                         (test::binary_dir() / "src/cli/thumbflow").string(),
                                         "invoke", "--event", event_file.string()};
  auto first = test::run_process(argv);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  auto answer = json::parse(first.out);
  EXPECT_EQ(answer["processed"], 1) << first.out;
  EXPECT_EQ(answer["results"][0]["object"], "s3://" + bucket + "/" + key);
  // Metrics and logs went to stderr, as EMF.
  EXPECT_NE(first.err.find(R"("ImagesProcessed":1)"), std::string::npos) << first.err;

  auto thumb = (*store)->head(ObjectRef{bucket, "thumbnails/my holiday+beach (1).jpg"});
  ASSERT_TRUE(thumb.ok()) << "no thumbnail: " << thumb.error().describe();
  EXPECT_EQ(thumb->content_type, "image/jpeg");

  auto second = test::run_process(argv);
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(json::parse(second.out)["already_done"], 1) << second.out;

  auto records = table.catalog->query_by_status(RecordStatus::processed);
  ASSERT_TRUE(records.ok()) << records.error().describe();
  ASSERT_EQ(records->records.size(), 1u);
  const ImageRecord& r = records->records[0];
  EXPECT_EQ(r.original_key, key);
  EXPECT_EQ(r.thumbnail_key, "thumbnails/my holiday+beach (1).jpg");
  EXPECT_EQ(r.image_id, catalog::make_image_id(bucket, key, put->etag));
  // The claim was released: a new holder acquires it outright.
  auto claims = claims_on(table.name);
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(*claims->acquire(r.image_id, "probe", now + 60s, now), ClaimOutcome::acquired);
}

TEST(InvokeCommand, bad_configuration_is_refused_naming_the_variable) {
  auto r = test::run_process({"/usr/bin/env", "-i", "PATH=/usr/bin:/bin",
                              (test::binary_dir() / "src/cli/thumbflow").string(), "invoke", "--event",
                              (test::source_dir() / "tests/fixtures/events/aws-s3-put.json").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("THUMBFLOW_TABLE"), std::string::npos) << r.out << r.err;
}

TEST(LambdaCommand, bad_configuration_is_reported_through_init_error_and_ends_the_process) {
  test::TestRuntimeApi api;
  auto r = test::run_process({"/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API=" + api.address(),
                              "AWS_REGION=us-east-1", (test::binary_dir() / "src/cli/thumbflow").string(), "lambda"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  auto init = api.init_error();
  ASSERT_TRUE(init.has_value()) << r.out;
  auto doc = json::parse(*init);
  EXPECT_EQ(doc["errorType"], "Runtime.InvalidConfiguration");
  EXPECT_NE(doc["errorMessage"].get<std::string>().find("THUMBFLOW_TABLE"), std::string::npos) << *init;
  EXPECT_EQ(api.next_calls(), 0) << "no invocation may be taken with a bad configuration";
}

TEST(LambdaCommand, serves_invocations_through_the_same_handler_until_max_invocations) {
  auto s3env = peer("s3rver");
  auto dyn = peer("dynalite");
  Table table("lambda-cmd");
  test::TestRuntimeApi api;
  api.push({"not-an-upload", testing::s3_event("some-bucket", "elsewhere/x.jpg", "abc", 3), test::TestRuntimeApi::in_ms(60'000), ""});
  auto r = test::run_process({"/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API=" + api.address(),
                              "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" + s3env["ACCESS_KEY"],
                              "AWS_SECRET_ACCESS_KEY=" + s3env["SECRET_KEY"], "THUMBFLOW_TABLE=" + table.name,
                              "THUMBFLOW_S3_ENDPOINT=" + s3env["ENDPOINT"], "THUMBFLOW_DYNAMODB_ENDPOINT=" + dyn["ENDPOINT"],
                              (test::binary_dir() / "src/cli/thumbflow").string(), "lambda", "--max-invocations", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto answers = api.answers();
  ASSERT_EQ(answers.size(), 1u) << r.out;
  EXPECT_FALSE(answers[0].error);
  EXPECT_EQ(json::parse(answers[0].body)["skipped"], 1) << answers[0].body;
  EXPECT_NE(r.out.find(R"("requestId":"not-an-upload")"), std::string::npos) << r.out;
}

}  // namespace thumbflow::lambda
