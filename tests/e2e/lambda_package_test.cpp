// The Lambda package end to end: deploy/package-lambda.sh builds thumbflow-lambda.zip from the
// built binary, the zip is unpacked into an empty folder, and its `bootstrap` is started with a
// clean environment (only what Lambda would set) against the suite's Runtime API server, with
// s3rver and dynalite standing in for S3 and DynamoDB. A JPEG under a key with spaces and '+',
// and an AVIF (which needs the shipped libvips HEIF module) come in as an SQS batch; a malformed
// event follows.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <csignal>
#include <regex>

#include "catalog/dynamo_catalog.hpp"
#include "lambda_test_home.hpp"
#include "runtime_api_server.hpp"
#include "storage/s3_store.hpp"
#include "test_support.hpp"

namespace thumbflow {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json sqs_record(const std::string& id, const std::string& s3_event_body) {
  return json{{"messageId", id},
              {"receiptHandle", "AQEB" + id},
              {"body", s3_event_body},
              {"attributes", {{"ApproximateReceiveCount", "1"}, {"SentTimestamp", "1764072000000"}}},
              {"messageAttributes", json::object()},
              {"md5OfBody", "0"},
              {"eventSource", "aws:sqs"},
              {"eventSourceARN", "arn:aws:sqs:us-east-1:123456789012:thumbflow-uploads"},
              {"awsRegion", "us-east-1"}};
}

}  // namespace

TEST(LambdaPackage, unpacked_zip_bootstrap_serves_invocations_with_a_clean_environment) {
  auto s3env = test::peer_env("s3rver");
  auto dyn = test::peer_env("dynalite");
  ASSERT_FALSE(s3env["ENDPOINT"].empty() || dyn["ENDPOINT"].empty()) << "run through ctest (peers s3rver, dynalite)";
  test::TempDir tmp;

  // Package.
  const auto zip = tmp.path() / "thumbflow-lambda.zip";
  auto packaged = test::run_process({(test::source_dir() / "deploy/package-lambda.sh").string(), "--binary",
                                     (test::binary_dir() / "src/cli/thumbflow").string(), "--out", zip.string()});
  ASSERT_EQ(packaged.exit_code, 0) << packaged.out << packaged.err;
  std::cout << packaged.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(packaged.out, m, std::regex("zipped ([0-9.]+) MB of Lambda's 50 MB; unzipped ([0-9.]+) MB of 250 MB")))
      << packaged.out;
  EXPECT_LT(std::filesystem::file_size(zip), 50ull * 1024 * 1024) << "over Lambda's direct-upload limit";
  EXPECT_LT(std::stod(m[2].str()), 250.0);

  // Unpack into an empty folder.
  const auto task = tmp.path() / "task";
  std::filesystem::create_directories(task);
  auto unzipped = test::run_process({"/usr/bin/unzip", "-q", zip.string(), "-d", task.string()});
  ASSERT_EQ(unzipped.exit_code, 0) << unzipped.err;
  ASSERT_TRUE(std::filesystem::exists(task / "bootstrap"));
  EXPECT_GT(std::filesystem::file_size(task / "ca-certificates.crt"), 10'000u) << "no CA bundle for HTTPS on Lambda";

  // The peers: a bucket with two uploads, a fresh table.
  storage::S3Config s3;
  s3.endpoint = s3env["ENDPOINT"];
  s3.path_style = true;
  s3.region = "us-east-1";
  s3.credentials = {s3env["ACCESS_KEY"], s3env["SECRET_KEY"], ""};
  auto store = storage::S3Store::create(s3);
  ASSERT_TRUE(store.ok());
  const std::string bucket = "lambda-package-" + std::to_string(::getpid());
  auto created = (*store)->create_bucket(bucket);
  ASSERT_TRUE(created.ok()) << created.error().describe();
  const std::string jpeg_key = "uploads/summer 2026/beach+sea.jpg";
  const std::string avif_key = "uploads/blinds.avif";
  std::vector<json> records;
  for (auto [key, file] : {std::pair{jpeg_key, "mate_FreshFlower.jpg"}, std::pair{avif_key, "syn_photo_mate_Blinds.avif"}}) {
    const std::string bytes = test::read_bytes(test::corpus_dir() / file);
    auto put = (*store)->put(ObjectRef{bucket, key}, bytes);
    ASSERT_TRUE(put.ok()) << put.error().describe();
    records.push_back(sqs_record("msg-" + std::to_string(records.size()),
                                 lambda::testing::s3_event(bucket, key, put->etag, bytes.size())));
  }
  catalog::DynamoCatalogConfig dc;
  dc.endpoint = dyn["ENDPOINT"];
  dc.region = dyn["REGION"];
  dc.credentials = {dyn["AWS_ACCESS_KEY_ID"], dyn["AWS_SECRET_ACCESS_KEY"], ""};
  dc.table = "lambda-package-" + std::to_string(::getpid());
  auto cat = catalog::DynamoCatalog::open(dc);
  ASSERT_TRUE(cat.ok());
  ASSERT_TRUE((*cat)->create_table().ok());

  test::TestRuntimeApi api;
  api.push({"batch-1", json{{"Records", records}}.dump(), test::TestRuntimeApi::in_ms(60'000),
            "Root=1-67891233-abcdef012345678912345678"});
  api.push({"garbage-2", "{\"Records\": 42}", test::TestRuntimeApi::in_ms(60'000), ""});

  const auto started = std::chrono::steady_clock::now();
  test::BackgroundProcess bootstrap({"/usr/bin/env", "-i",
                                     "AWS_LAMBDA_RUNTIME_API=" + api.address(),
                                     "AWS_LAMBDA_FUNCTION_NAME=thumbflow-e2e",
                                     "AWS_REGION=us-east-1",
                                     "AWS_ACCESS_KEY_ID=" + s3env["ACCESS_KEY"],
                                     "AWS_SECRET_ACCESS_KEY=" + s3env["SECRET_KEY"],
                                     "LAMBDA_TASK_ROOT=" + task.string(),
                                     "THUMBFLOW_TABLE=" + dc.table,
                                     "THUMBFLOW_S3_ENDPOINT=" + s3env["ENDPOINT"],
                                     "THUMBFLOW_DYNAMODB_ENDPOINT=" + dyn["ENDPOINT"],
                                     (task / "bootstrap").string()},
                                    tmp.path() / "bootstrap");
  const bool answered = api.wait_answers(2, 60s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  std::cout << "bootstrap answered 2 invocations in " << took.count() << " ms\n";
  EXPECT_TRUE(bootstrap.running()) << "bootstrap ended: " << bootstrap.err() << bootstrap.out();
  bootstrap.signal(SIGKILL);
  (void)bootstrap.wait();
  ASSERT_TRUE(answered) << "stdout:\n" << bootstrap.out() << "\nstderr:\n" << bootstrap.err();

  auto answers = api.answers();
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].request_id, "batch-1");
  ASSERT_FALSE(answers[0].error) << answers[0].body;
  EXPECT_EQ(json::parse(answers[0].body), json::parse(R"({"batchItemFailures":[]})")) << answers[0].body << bootstrap.out();
  EXPECT_EQ(answers[1].request_id, "garbage-2");
  EXPECT_TRUE(answers[1].error);
  EXPECT_EQ(answers[1].error_type_header, "InvalidEvent");

  EXPECT_TRUE((*store)->head(ObjectRef{bucket, "thumbnails/summer 2026/beach+sea.jpg"}).ok());
  EXPECT_TRUE((*store)->head(ObjectRef{bucket, "thumbnails/blinds.jpg"}).ok()) << "the AVIF needs the shipped HEIF module";
  auto processed = (*cat)->query_by_status(RecordStatus::processed);
  ASSERT_TRUE(processed.ok());
  EXPECT_EQ(processed->records.size(), 2u);

  // Metrics and logs on stdout: EMF for each image, JSON logs carrying the request id.
  const std::string out = bootstrap.out();
  EXPECT_NE(out.find(R"("FunctionName":"thumbflow-e2e")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("ImagesProcessed":1)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("requestId":"batch-1")"), std::string::npos) << out;
  (void)(*cat)->delete_table();
}

}  // namespace thumbflow
