// The whole local home as a user runs it: `thumbflow serve`, the real AWS CLI uploading to it,
// thumbnails read back with the AWS CLI, records read with `thumbflow images list`.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace thumbflow {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

const char* kBucket = "image-processing-local";
const char* kAccess = "E2EACCESSKEY0000";
const char* kSecret = "e2e-secret-key-0000000000000000000000000";

std::string exe() { return (test::binary_dir() / "src/cli/thumbflow").string(); }

bool aws_cli_available() { return fs::exists("/usr/bin/aws"); }

class EmbeddedHome : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!aws_cli_available()) GTEST_SKIP() << "/usr/bin/aws not installed (scripts/install-deps installs it)";
    data = tmp.path() / "data";
    aws_config = tmp.path() / "aws-config";
    test::write_bytes(aws_config, "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n");
    start();
  }

  void start() {
    s3_port = test::free_port();
    console_port = test::free_port();
    std::map<std::string, std::string> env = {{"THUMBFLOW_ACCESS_KEY", kAccess},
                                              {"THUMBFLOW_SECRET_KEY", kSecret},
                                              {"THUMBFLOW_WORKERS_MAX", "2"},
                                              {"THUMBFLOW_WORKERS_BACKOFF_BASE_MS", "100"}};
    for (const auto& [k, v] : extra_env) env[k] = v;
    server = std::make_unique<test::BackgroundProcess>(
        std::vector<std::string>{exe(), "serve", "--data", data.string(), "--s3-listen",
                                 "127.0.0.1:" + std::to_string(s3_port), "--console-listen",
                                 "127.0.0.1:" + std::to_string(console_port)},
        tmp.path() / ("server" + std::to_string(++starts)), env);
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

  std::vector<json> records() {
    auto r = test::run_process({exe(), "images", "list", "--all", "--json", "--limit", "1000", "--data", data.string()});
    std::vector<json> out;
    if (r.exit_code != 0) return out;
    std::stringstream ss(r.out);
    std::string line;
    while (std::getline(ss, line))
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }

  bool wait_for_records(std::size_t n, std::chrono::seconds limit) {
    return test::eventually([&] { return records().size() >= n; }, limit);
  }

  void restart() {
    server->signal(SIGTERM);
    server->wait();
    start();
  }
  test::ProcessResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {exe()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--data", data.string()});
    return test::run_process(argv);
  }
  std::map<std::string, json> records_by_key() {
    std::map<std::string, json> out;
    for (auto& r : records()) out[r["originalImage"].get<std::string>()] = r;
    return out;
  }

  std::map<std::string, std::string> extra_env;  // THUMBFLOW_* settings for the next start()
  test::TempDir tmp;
  fs::path data, aws_config;
  int s3_port = 0, console_port = 0, starts = 0;
  std::unique_ptr<test::BackgroundProcess> server;
};

}  // namespace

TEST_F(EmbeddedHome, every_corpus_upload_ends_as_a_thumbnail_and_record_or_a_clear_failure) {
  // The corpus, some names with spaces, '+' and unicode, and a text file named .jpg.
  fs::path up = tmp.path() / "upload";
  fs::create_directories(up);
  std::map<std::string, std::string> renamed = {{"mate_Storm.jpg", "my photo (1).jpg"},
                                                {"skimage_astronaut.png", "\xC3\xA9t\xC3\xA9 \xE2\x98\x80.png"},
                                                {"mate_Blinds.jpg", "a+b.jpg"}};
  int files = 0;
  for (const auto& f : test::corpus_files()) {
    std::string name = f.filename().string();
    if (renamed.count(name)) name = renamed[name];
    fs::copy_file(f, up / name);
    ++files;
  }
  test::write_bytes(up / "notes.jpg", "this is a text file, not a photo\n");
  ++files;
  auto cp = aws({"s3", "cp", "--recursive", "--quiet", up.string(), std::string("s3://") + kBucket + "/uploads/"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;

  ASSERT_TRUE(wait_for_records(static_cast<std::size_t>(files), std::chrono::seconds(240)))
      << records().size() << " of " << files << "\n" << server->err().substr(0, 3000);
  auto recs = records();
  EXPECT_EQ(recs.size(), static_cast<std::size_t>(files));
  std::map<std::string, json> by_key;
  for (auto& r : recs) by_key[r["originalImage"].get<std::string>()] = r;
  int processed = 0;
  for (auto& [key, r] : by_key) {
    if (r["status"] == "processed") {
      ++processed;
      EXPECT_FALSE(r["thumbnailImage"].get<std::string>().empty()) << key;
    }
  }
  EXPECT_EQ(processed, files - 2);
  auto& truncated = by_key["uploads/skimage_truncated.jpg"];
  EXPECT_EQ(truncated["status"], "failed");
  EXPECT_EQ(truncated["errorKind"], "corrupt");
  EXPECT_NE(truncated["errorMessage"].get<std::string>().find("truncated"), std::string::npos);
  auto& notes = by_key["uploads/notes.jpg"];
  EXPECT_EQ(notes["status"], "failed");
  EXPECT_EQ(notes["errorKind"], "unsupported_format");

  // Thumbnails read back with the AWS CLI, odd names included.
  for (const char* thumb : {"thumbnails/my photo (1).jpg", "thumbnails/\xC3\xA9t\xC3\xA9 \xE2\x98\x80.jpg",
                            "thumbnails/a+b.jpg", "thumbnails/mate_Elephants_5640x3172.jpg"}) {
    fs::path local = tmp.path() / "thumb.jpg";
    auto get = aws({"s3", "cp", std::string("s3://") + kBucket + "/" + thumb, local.string()});
    ASSERT_EQ(get.exit_code, 0) << thumb << ": " << get.err;
    std::string bytes = test::read_bytes(local);
    EXPECT_EQ(bytes.substr(0, 3), "\xFF\xD8\xFF") << thumb;
  }
  auto ls = aws({"s3", "ls", "--recursive", std::string("s3://") + kBucket + "/thumbnails/"});
  EXPECT_EQ(std::count(ls.out.begin(), ls.out.end(), '\n'), processed);
  EXPECT_TRUE(server->running()) << "the server stays up";
}

TEST_F(EmbeddedHome, the_same_upload_twice_or_concurrently_makes_one_record) {
  fs::path f = test::corpus_dir() / "skimage_coins.png";
  std::string dst = std::string("s3://") + kBucket + "/uploads/coins.png";
  ASSERT_EQ(aws({"s3", "cp", f.string(), dst}).exit_code, 0);
  ASSERT_EQ(aws({"s3", "cp", f.string(), dst}).exit_code, 0);
  std::thread t1([&] { aws({"s3", "cp", f.string(), dst}); });
  std::thread t2([&] { aws({"s3", "cp", f.string(), dst}); });
  t1.join();
  t2.join();
  ASSERT_TRUE(wait_for_records(1, std::chrono::seconds(30)));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(records().size(), 1u);
}

TEST_F(EmbeddedHome, kill_9_during_200_uploads_loses_nothing_and_doubles_nothing) {
  fs::path up = tmp.path() / "many";
  fs::create_directories(up);
  std::string coins = test::read_bytes(test::corpus_dir() / "skimage_coins.png");
  for (int i = 0; i < 200; ++i) test::write_bytes(up / ("img" + std::to_string(i) + ".png"), coins);
  std::string dst = std::string("s3://") + kBucket + "/uploads/many/";
  std::thread uploader([&] { aws({"s3", "cp", "--recursive", "--quiet", up.string(), dst}); });
  // Let part of the run happen, then kill the server without warning.
  test::eventually([&] { return records().size() >= 20; }, std::chrono::seconds(60));
  server->signal(SIGKILL);
  server->wait();
  uploader.join();
  start();
  // Whatever the CLI could not upload while the server was down goes up now.
  auto sync = aws({"s3", "sync", "--quiet", up.string(), dst});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;
  ASSERT_TRUE(wait_for_records(200, std::chrono::seconds(420))) << records().size();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto recs = records();
  EXPECT_EQ(recs.size(), 200u) << "one record per upload";
  std::set<std::string> keys;
  for (auto& r : recs) {
    keys.insert(r["originalImage"].get<std::string>());
    EXPECT_EQ(r["status"], "processed") << r.dump();
  }
  EXPECT_EQ(keys.size(), 200u);
  auto ls = aws({"s3", "ls", "--recursive", std::string("s3://") + kBucket + "/thumbnails/many/"});
  EXPECT_EQ(std::count(ls.out.begin(), ls.out.end(), '\n'), 200);
}

TEST_F(EmbeddedHome, files_copied_into_the_data_folder_while_stopped_are_processed_at_the_next_start) {
  // An upload stored but never queued (the server killed between the two), or a file dropped
  // into the folder by hand while the server was down: the catch-up at start finds it.
  server->signal(SIGTERM);
  server->wait();
  const fs::path uploads = data / kBucket / "uploads" / "dropped";
  fs::create_directories(uploads);
  fs::copy_file(test::corpus_dir() / "skimage_coins.png", uploads / "coins.png");
  fs::copy_file(test::corpus_dir() / "skimage_truncated.jpg", uploads / "cut.jpg");
  start();
  ASSERT_TRUE(wait_for_records(2, std::chrono::seconds(60))) << records().size() << "\n" << server->err();
  std::map<std::string, json> by_key;
  for (auto& r : records()) by_key[r["originalImage"].get<std::string>()] = r;
  EXPECT_EQ(by_key["uploads/dropped/coins.png"]["status"], "processed");
  EXPECT_EQ(by_key["uploads/dropped/cut.jpg"]["status"], "failed");
  const std::string log = server->out() + server->err();
  EXPECT_NE(log.find("had no record and no job"), std::string::npos) << log;
  // A second start finds nothing more to do and makes no second record.
  server->signal(SIGTERM);
  server->wait();
  start();
  ASSERT_TRUE(test::eventually(
      [&] { return (server->out() + server->err()).find("every one recorded or queued") != std::string::npos; },
      std::chrono::seconds(30)))
      << server->out() << server->err();
  EXPECT_EQ(records().size(), 2u);
}

TEST_F(EmbeddedHome, sigterm_mid_run_exits_cleanly_and_the_next_start_finishes_every_upload) {
  fs::path up = tmp.path() / "burst";
  fs::create_directories(up);
  std::string coins = test::read_bytes(test::corpus_dir() / "skimage_coins.png");
  for (int i = 0; i < 40; ++i) test::write_bytes(up / ("img" + std::to_string(i) + ".png"), coins);
  auto cp = aws({"s3", "cp", "--recursive", "--quiet", up.string(), std::string("s3://") + kBucket + "/uploads/burst/"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  // Every upload was acknowledged, so each has a durable job; stop while they are processed.
  server->signal(SIGTERM);
  EXPECT_EQ(server->wait(), 0) << server->out() << server->err();
  EXPECT_NE(server->out().find("thumbflow serve: stopped"), std::string::npos) << server->out();
  const auto before = records().size();
  start();
  ASSERT_TRUE(wait_for_records(40, std::chrono::seconds(180))) << records().size();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto recs = records();
  EXPECT_EQ(recs.size(), 40u) << before << " were done before SIGTERM";
  for (auto& r : recs) EXPECT_EQ(r["status"], "processed") << r.dump();
}

TEST_F(EmbeddedHome, images_retry_and_reprocess_commands_work_against_a_running_server) {
  // A limit too low for coins.png (384x303): it fails as too_large, the tiny GIF passes.
  extra_env = {{"THUMBFLOW_LIMITS_MAX_PIXELS", "100000"}};
  restart();
  const std::string dst = std::string("s3://") + kBucket + "/uploads/";
  ASSERT_EQ(aws({"s3", "cp", (test::corpus_dir() / "skimage_coins.png").string(), dst + "coins.png"}).exit_code, 0);
  ASSERT_EQ(aws({"s3", "cp", (test::corpus_dir() / "skimage_no_time_for_that_tiny.gif").string(), dst + "tiny.gif"})
                .exit_code,
            0);
  ASSERT_TRUE(wait_for_records(2, std::chrono::seconds(60)));
  auto by_key = records_by_key();
  const std::string coins_id = by_key["uploads/coins.png"]["imageId"];
  EXPECT_EQ(by_key["uploads/coins.png"]["errorKind"], "too_large");
  EXPECT_EQ(by_key["uploads/tiny.gif"]["status"], "processed");

  auto failed = cli({"images", "list", "--status", "failed", "--json"});
  ASSERT_EQ(failed.exit_code, 0) << failed.err;
  EXPECT_EQ(std::count(failed.out.begin(), failed.out.end(), '\n'), 1) << failed.out;
  EXPECT_NE(failed.out.find(coins_id), std::string::npos);
  auto none = cli({"images", "list", "--since", "2000-01-01", "--until", "2000-12-31", "--json"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_TRUE(none.out.empty()) << none.out;
  auto one = cli({"images", "get", coins_id, "--json"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(json::parse(one.out)["errorKind"], "too_large");
  EXPECT_NE(json::parse(one.out)["errorMessage"].get<std::string>().find("max_pixels"), std::string::npos);

  // The operator raises the limit and adds a rendition, then retries the failure.
  extra_env = {{"THUMBFLOW_RENDITIONS", "thumbnail:128x128:jpeg,small:64x64:webp"}};
  restart();
  auto retry = cli({"retry", coins_id});
  ASSERT_EQ(retry.exit_code, 0) << retry.out << retry.err;
  ASSERT_TRUE(test::eventually([&] { return records_by_key()["uploads/coins.png"]["status"] == "processed"; },
                               std::chrono::seconds(60)))
      << server->out();
  EXPECT_EQ(records_by_key()["uploads/coins.png"]["renditions"].size(), 2u);

  // Reprocess gives the GIF processed under the old renditions its new one.
  auto again = cli({"reprocess", "--prefix", "uploads/"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  ASSERT_TRUE(test::eventually([&] { return records_by_key()["uploads/tiny.gif"]["renditions"].size() == 2u; },
                               std::chrono::seconds(60)))
      << server->out();
  auto ls = aws({"s3", "ls", "--recursive", std::string("s3://") + kBucket + "/thumbnails/small/"});
  EXPECT_NE(ls.out.find("thumbnails/small/coins.webp"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("thumbnails/small/tiny.webp"), std::string::npos) << ls.out;
  EXPECT_EQ(records().size(), 2u) << "retry and reprocess rewrite records, never add one";
}

}  // namespace thumbflow
