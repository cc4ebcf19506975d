// The hostile corpus (tests/support/hostile_corpus.hpp) uploaded to a real `thumbflow serve`
// through its S3 endpoint with the AWS CLI, twice: each upload ends as exactly one record of
// the documented kind (read with `thumbflow images list`), no thumbnail is written for a refused
// file, and the server stays up and still makes a thumbnail for a good image afterwards.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "hostile_corpus.hpp"
#include "test_support.hpp"

namespace thumbflow {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

const char* kBucket = "image-processing-local";
const char* kAccess = "E2EHOSTILEKEY000";
const char* kSecret = "e2e-hostile-secret-00000000000000000000";

std::string exe() { return (test::binary_dir() / "src/cli/thumbflow").string(); }

class HostileUploads : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "/usr/bin/aws not installed (scripts/install-deps installs it)";
    data = tmp.path() / "data";
    aws_config = tmp.path() / "aws-config";
    test::write_bytes(aws_config, "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n");
    s3_port = test::free_port();
    const int console_port = test::free_port();
    server = std::make_unique<test::BackgroundProcess>(
        std::vector<std::string>{exe(), "serve", "--data", data.string(), "--s3-listen",
                                 "127.0.0.1:" + std::to_string(s3_port), "--console-listen",
                                 "127.0.0.1:" + std::to_string(console_port)},
        tmp.path() / "server",
        std::map<std::string, std::string>{{"THUMBFLOW_ACCESS_KEY", kAccess},
                                           {"THUMBFLOW_SECRET_KEY", kSecret},
                                           {"THUMBFLOW_WORKERS_MAX", "2"},
                                           {"THUMBFLOW_WORKERS_BACKOFF_BASE_MS", "100"}});
    ASSERT_TRUE(test::eventually([&] { return aws({"s3", "ls"}).exit_code == 0 || !server->running(); },
                                 std::chrono::seconds(20)))
        << server->err();
    ASSERT_TRUE(server->running()) << server->err();
  }

  test::ProcessResult aws(std::vector<std::string> args) {
    std::vector<std::string> argv = {"env", "AWS_ACCESS_KEY_ID=" + std::string(kAccess),
                                     "AWS_SECRET_ACCESS_KEY=" + std::string(kSecret),
                                     "AWS_CONFIG_FILE=" + aws_config.string(), "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
                                     "AWS_EC2_METADATA_DISABLED=true", "/usr/bin/aws", "--endpoint-url",
                                     "http://127.0.0.1:" + std::to_string(s3_port)};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_process(argv);
  }

  std::map<std::string, json> records_by_key() {
    auto r = test::run_process({exe(), "images", "list", "--all", "--json", "--limit", "1000", "--data", data.string()});
    std::map<std::string, json> out;
    if (r.exit_code != 0) return out;
    std::stringstream ss(r.out);
    std::string line;
    while (std::getline(ss, line)) {
      if (line.empty()) continue;
      json j = json::parse(line);
      out[j["originalImage"].get<std::string>()] = j;
      ++record_lines;
    }
    return out;
  }

  std::size_t record_lines = 0;
  test::TempDir tmp;
  fs::path data, aws_config;
  int s3_port = 0;
  std::unique_ptr<test::BackgroundProcess> server;
};

}  // namespace

TEST_F(HostileUploads, every_case_gets_its_record_no_refused_file_gets_a_thumbnail_and_serve_stays_up) {
  const auto cases = test::hostile::corpus();
  const fs::path up = tmp.path() / "upload";
  for (const auto& c : cases) {
    const fs::path local = up / c.key.substr(std::string("uploads/").size());
    fs::create_directories(local.parent_path());
    test::write_bytes(local, c.bytes);
  }
  const std::string dst = std::string("s3://") + kBucket + "/uploads/";
  // Twice: the second copy of every file is a duplicate delivery of the same content.
  for (int round = 0; round < 2; ++round) {
    auto cp = aws({"s3", "cp", "--recursive", "--quiet", up.string(), dst});
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
  }

  std::map<std::string, json> recs;
  ASSERT_TRUE(test::eventually(
      [&] {
        record_lines = 0;
        recs = records_by_key();
        return recs.size() >= cases.size();
      },
      std::chrono::seconds(60)))
      << recs.size() << " of " << cases.size() << " records\n" << server->err().substr(0, 3000);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // any late duplicate would show now
  record_lines = 0;
  recs = records_by_key();
  EXPECT_EQ(record_lines, cases.size()) << "one record per upload: the duplicates added none";

  std::set<std::string> accepted_thumbnails;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(recs.count(c.key)) << "no record for " << c.key;
    const json& r = recs[c.key];
    if (c.kind) {
      EXPECT_EQ(r["status"], "failed") << r.dump();
      EXPECT_EQ(r["errorKind"], std::string(to_string(*c.kind))) << r.dump();
      const std::string msg = r.value("errorMessage", "");
      EXPECT_NE(msg.find(c.phrase), std::string::npos) << msg;
      EXPECT_NE(msg.find(c.key), std::string::npos) << "the message names the object: " << msg;
    } else {
      EXPECT_EQ(r["status"], "processed") << r.dump();
      accepted_thumbnails.insert(r.value("thumbnailImage", ""));
    }
  }

  // Outputs exist for the accepted polyglots only.
  auto ls = aws({"s3", "ls", "--recursive", std::string("s3://") + kBucket + "/thumbnails/"});
  std::set<std::string> listed;
  std::stringstream ss(ls.out);
  for (std::string line; std::getline(ss, line);) {
    auto at = line.find("thumbnails/");
    if (at != std::string::npos) listed.insert(line.substr(at));
  }
  EXPECT_EQ(listed, accepted_thumbnails);

  // The server is up and still makes a thumbnail for a good image.
  ASSERT_TRUE(server->running()) << server->err();
  auto good = aws({"s3", "cp", (test::corpus_dir() / "skimage_coins.png").string(),
                   std::string("s3://") + kBucket + "/uploads/after/coins.png"});
  ASSERT_EQ(good.exit_code, 0) << good.err;
  ASSERT_TRUE(test::eventually(
      [&] {
        auto all = records_by_key();
        auto it = all.find("uploads/after/coins.png");
        return it != all.end() && it->second["status"] == "processed";
      },
      std::chrono::seconds(20)));
  fs::path thumb = tmp.path() / "coins-thumb.jpg";
  auto get = aws({"s3", "cp", std::string("s3://") + kBucket + "/thumbnails/after/coins.jpg", thumb.string()});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(test::read_bytes(thumb).substr(0, 3), "\xFF\xD8\xFF");
  EXPECT_TRUE(server->running());
}

}  // namespace thumbflow
