// The pipeline against a real S3 service and a real DynamoDB-compatible one, by configuration
// only: `thumbflow serve` with storage.kind = s3 on Ceph RADOS Gateway and catalog.kind =
// dynamodb on dynalite. RGW pushes its bucket notifications to serve's POST /events (the
// console port), as an operator would set it up with `aws sns create-topic` and
// `aws s3api put-bucket-notification-configuration`.
#include <gtest/gtest.h>

#include <csignal>
#include <random>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace thumbflow {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

const char* kToken = "rgw-push-console-token-0001";

std::string exe() { return (test::binary_dir() / "src/cli/thumbflow").string(); }

std::string unique(const std::string& prefix) {
  std::random_device rd;
  return prefix + std::to_string(rd() % 1000000000u);
}

class RgwPush : public ::testing::Test {
 protected:
  void SetUp() override {
    rgw = test::peer_env("rgw");
    ddb = test::peer_env("dynalite");
    ASSERT_FALSE(rgw["ENDPOINT"].empty()) << "the rgw peer is not running: run through ctest";
    ASSERT_FALSE(ddb["ENDPOINT"].empty()) << "the dynalite peer is not running: run through ctest";
    bucket = unique("push-");
    table = unique("PushImages");
    aws_config = tmp.path() / "aws-config";
    test::write_bytes(aws_config, "[default]\nregion = " + rgw["REGION"] + "\ns3 =\n  addressing_style = path\n");
    // The same keys serve both peers: RGW checks them, dynalite accepts any.
    common = {"AWS_ACCESS_KEY_ID=" + rgw["ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY=" + rgw["SECRET_KEY"],
              "AWS_REGION=" + rgw["REGION"], "AWS_CONFIG_FILE=" + aws_config.string(),
              "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
              "THUMBFLOW_STORAGE_KIND=s3", "THUMBFLOW_STORAGE_ENDPOINT=" + rgw["ENDPOINT"],
              "THUMBFLOW_SERVER_BUCKET=" + bucket, "THUMBFLOW_CATALOG_KIND=dynamodb",
              "THUMBFLOW_CATALOG_ENDPOINT=" + ddb["ENDPOINT"], "THUMBFLOW_TABLE=" + table,
              "THUMBFLOW_CONSOLE_TOKEN=" + std::string(kToken)};
    ASSERT_EQ(aws({"s3", "mb", "s3://" + bucket}).exit_code, 0);
    auto created = with_env({exe(), "catalog", "create-table", "--endpoint", ddb["ENDPOINT"], "--table", table,
                             "--region", rgw["REGION"]});
    ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  }

  test::ProcessResult with_env(std::vector<std::string> argv) {
    std::vector<std::string> full = {"/usr/bin/env"};
    full.insert(full.end(), common.begin(), common.end());
    full.insert(full.end(), argv.begin(), argv.end());
    return test::run_process(full);
  }
  test::ProcessResult aws(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", rgw["ENDPOINT"]};
    argv.insert(argv.end(), args.begin(), args.end());
    return with_env(argv);
  }
  std::vector<json> records() {
    auto r = with_env({exe(), "images", "list", "--all", "--json", "--limit", "1000", "--data",
                       (tmp.path() / "data").string()});
    std::vector<json> out;
    if (r.exit_code != 0) return out;
    std::stringstream ss(r.out);
    std::string line;
    while (std::getline(ss, line))
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }

  test::TempDir tmp;
  std::map<std::string, std::string> rgw, ddb;
  std::string bucket, table;
  fs::path aws_config;
  std::vector<std::string> common;
};

}  // namespace

TEST_F(RgwPush, rgw_notifications_pushed_to_serve_make_thumbnails_in_rgw_and_records_in_dynamodb) {
  const int console_port = test::free_port();
  std::map<std::string, std::string> env;
  for (const auto& kv : common) env[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  env["THUMBFLOW_WORKERS_MAX"] = "2";
  test::BackgroundProcess server({exe(), "serve", "--data", (tmp.path() / "data").string(), "--s3-listen",
                                  "127.0.0.1:" + std::to_string(test::free_port()), "--console-listen",
                                  "127.0.0.1:" + std::to_string(console_port)},
                                 tmp.path() / "serve", env);
  ASSERT_TRUE(test::eventually([&] { return server.out().find("Ctrl-C stops") != std::string::npos || !server.running(); },
                               std::chrono::seconds(20)));
  ASSERT_TRUE(server.running()) << server.out() << server.err();

  // The operator's two commands: a topic whose push endpoint is serve's receiver, and a
  // notification on uploads/ only.
  const std::string topic = unique("thumbs-");
  auto t = aws({"sns", "create-topic", "--name", topic, "--attributes",
                json{{"push-endpoint", "http://127.0.0.1:" + std::to_string(console_port) + "/events?token=" + kToken}}
                    .dump()});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const std::string arn = json::parse(t.out)["TopicArn"];
  json notification = {{"TopicConfigurations",
                        {{{"Id", "thumbflow"},
                          {"TopicArn", arn},
                          {"Events", {"s3:ObjectCreated:*"}},
                          {"Filter", {{"Key", {{"FilterRules", {{{"Name", "prefix"}, {"Value", "uploads/"}}}}}}}}}}}};
  auto n = aws({"s3api", "put-bucket-notification-configuration", "--bucket", bucket,
                "--notification-configuration", notification.dump()});
  ASSERT_EQ(n.exit_code, 0) << n.err;

  // A key with a space and a plus (RGW sends keys raw), a corrupt file, and a file outside uploads/.
  const fs::path photo = tmp.path() / "photo.png";
  fs::copy_file(test::corpus_dir() / "skimage_coins.png", photo);
  const fs::path cut = tmp.path() / "cut.jpg";
  fs::copy_file(test::corpus_dir() / "skimage_truncated.jpg", cut);
  ASSERT_EQ(aws({"s3", "cp", photo.string(), "s3://" + bucket + "/uploads/my photo+1.png"}).exit_code, 0);
  ASSERT_EQ(aws({"s3", "cp", cut.string(), "s3://" + bucket + "/uploads/cut.jpg"}).exit_code, 0);
  ASSERT_EQ(aws({"s3", "cp", photo.string(), "s3://" + bucket + "/elsewhere/photo.png"}).exit_code, 0);

  ASSERT_TRUE(test::eventually([&] { return records().size() >= 2; }, std::chrono::seconds(60)))
      << server.out() << server.err();
  std::map<std::string, json> by_key;
  for (auto& r : records()) by_key[r["originalImage"].get<std::string>()] = r;
  ASSERT_EQ(by_key.size(), 2u);
  EXPECT_EQ(by_key["uploads/my photo+1.png"]["status"], "processed");
  EXPECT_EQ(by_key["uploads/my photo+1.png"]["thumbnailImage"], "thumbnails/my photo+1.jpg");
  EXPECT_EQ(by_key["uploads/cut.jpg"]["status"], "failed");
  EXPECT_EQ(by_key["uploads/cut.jpg"]["errorKind"], "corrupt");

  // The thumbnail is in RGW, read back with the AWS CLI.
  const fs::path got = tmp.path() / "thumb.jpg";
  auto get = aws({"s3", "cp", "s3://" + bucket + "/thumbnails/my photo+1.jpg", got.string()});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(test::read_bytes(got).substr(0, 3), "\xFF\xD8\xFF");
  auto ls = aws({"s3", "ls", "--recursive", "s3://" + bucket + "/thumbnails/"});
  EXPECT_EQ(std::count(ls.out.begin(), ls.out.end(), '\n'), 1) << ls.out;

  // The same object uploaded again with the same bytes: a second notification, no second record.
  ASSERT_EQ(aws({"s3", "cp", photo.string(), "s3://" + bucket + "/uploads/my photo+1.png"}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(records().size(), 2u);
  EXPECT_TRUE(server.running());
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(), 0);
}

}  // namespace thumbflow
