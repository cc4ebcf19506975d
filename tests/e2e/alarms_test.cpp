// Alarms as a person meets them: `thumbflow serve` with the failure rule on short periods, the
// real AWS CLI uploading, a real SMTP server (aiosmtpd) and a webhook receiver getting the
// messages, GET /metrics checked by promtool, and `thumbflow alarms list|history|test`.
#include <gtest/gtest.h>

#include <httplib.h>

#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "../integration/monitoring/sink.hpp"
#include "test_support.hpp"

namespace thumbflow {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

const char* kBucket = "image-processing-local";
const char* kAccess = "ALARMSACCESSKEY0";
const char* kSecret = "alarms-secret-key-00000000000000000000000";
constexpr std::int64_t kPeriodMs = 6000;

std::string exe() { return (test::binary_dir() / "src/cli/thumbflow").string(); }

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::size_t count(const std::vector<std::string>& mails, const std::string& needle) {
  std::size_t n = 0;
  for (const auto& m : mails) n += m.find(needle) != std::string::npos;
  return n;
}

class Alarms : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "/usr/bin/aws not installed (scripts/install-deps)";
    if (!test::smtp_sink_available()) GTEST_SKIP() << "python3-aiosmtpd not installed (scripts/install-deps)";
    data = tmp.path() / "data";
    aws_config = tmp.path() / "aws-config";
    test::write_bytes(aws_config, "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n");
    webhook_port = webhook.bind_to_any_port("127.0.0.1");
    webhook.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      hooks.push_back(json::parse(req.body));
      res.set_content("ok", "text/plain");
    });
    webhook_thread = std::thread([this] { webhook.listen_after_bind(); });
    while (!webhook.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  void TearDown() override {
    if (webhook_thread.joinable()) {
      webhook.stop();
      webhook_thread.join();
    }
  }

  // serve with the failure rule on kPeriodMs periods, evaluated every 200 ms.
  void start(const std::string& notify) {
    config = tmp.path() / "thumbflow.toml";
    test::write_bytes(config, "[alarms]\nevaluation_interval_ms = 200\n"
                              "[[alarms.rules]]\nname = \"image-processing-errors\"\n"
                              "metric = \"thumbflow_images_failed_total\"\nperiod_ms = " +
                                  std::to_string(kPeriodMs) + "\n" + notify);
    s3_port = test::free_port();
    console_port = test::free_port();
    server = std::make_unique<test::BackgroundProcess>(
        std::vector<std::string>{exe(), "serve", "--data", data.string(), "--config", config.string(), "--s3-listen",
                                 "127.0.0.1:" + std::to_string(s3_port), "--console-listen",
                                 "127.0.0.1:" + std::to_string(console_port)},
        tmp.path() / "server",
        std::map<std::string, std::string>{{"THUMBFLOW_ACCESS_KEY", kAccess}, {"THUMBFLOW_SECRET_KEY", kSecret},
                                           {"THUMBFLOW_WORKERS_MAX", "2"}});
    ASSERT_TRUE(test::eventually([&] { return aws({"s3", "ls"}).exit_code == 0 || !server->running(); },
                                 std::chrono::seconds(30)))
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

  // Uploads files named names[i] with the given corpus file's bytes, in one AWS CLI call.
  void upload(const std::string& folder, const std::string& corpus_file, const std::vector<std::string>& names) {
    fs::path dir = tmp.path() / ("up-" + folder);
    fs::create_directories(dir);
    for (const auto& n : names) fs::copy_file(test::corpus_dir() / corpus_file, dir / n, fs::copy_options::overwrite_existing);
    auto cp = aws({"s3", "cp", "--recursive", "--quiet", dir.string(),
                   std::string("s3://") + kBucket + "/uploads/" + folder + "/"});
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
  }

  std::vector<json> cli_json(std::vector<std::string> args) {
    std::vector<std::string> argv = {exe()};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const char* a : {"--json", "--data"}) argv.push_back(a);
    argv.push_back(data.string());
    argv.push_back("--config");
    argv.push_back(config.string());
    auto r = test::run_process(argv);
    std::vector<json> out;
    std::stringstream ss(r.out);
    std::string line;
    while (std::getline(ss, line))
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }

  std::size_t processed_records() {
    auto r = test::run_process({exe(), "images", "list", "--all", "--json", "--data", data.string()});
    std::size_t n = 0;
    std::stringstream ss(r.out);
    std::string line;
    while (std::getline(ss, line)) n += line.find("\"status\":\"processed\"") != std::string::npos;
    return n;
  }

  std::string alarm_state() {
    auto rows = cli_json({"alarms", "list"});
    return rows.empty() ? "" : rows[0]["state"].get<std::string>();
  }

  std::string metrics() {
    httplib::Client c("127.0.0.1", console_port);
    auto res = c.Get("/metrics");
    return res && res->status == 200 ? res->body : std::string();
  }

  // Waits until the clock is just past a period boundary, so uploads made now fall in one period.
  static void align_to_period() {
    while (now_ms() % kPeriodMs > 300 || now_ms() % kPeriodMs < 50)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  std::vector<json> webhook_posts() {
    std::lock_guard lock(mu);
    return hooks;
  }

  test::TempDir tmp;
  fs::path data, aws_config, config;
  int s3_port = 0, console_port = 0, webhook_port = 0;
  std::unique_ptr<test::BackgroundProcess> server;
  httplib::Server webhook;
  std::thread webhook_thread;
  std::mutex mu;
  std::vector<json> hooks;
};

}  // namespace

TEST_F(Alarms, three_corrupt_uploads_give_one_alarm_mail_naming_them_and_recovery_gives_one_ok_mail) {
  test::SmtpSink sink(tmp.path() / "smtp", test::free_port());
  ASSERT_TRUE(sink.ready()) << sink.log();
  start("[notify.email]\nurl = \"" + sink.url() + "\"\nto = [\"ops@example.com\"]\n"
        "[notify.webhook]\nurl = \"http://127.0.0.1:" + std::to_string(webhook_port) + "/hook\"\n");
  ASSERT_TRUE(test::eventually([&] { return alarm_state() == "OK"; }, std::chrono::seconds(10))) << server->err();

  // The CLI uploads the three files in parallel, so their failures land in one period (the
  // alignment helps when the CLI starts quickly; on a loaded machine it may take seconds).
  align_to_period();
  upload("bad", "skimage_truncated.jpg", {"bad1.jpg", "bad2.jpg", "bad3.jpg"});
  const auto uploaded = std::chrono::steady_clock::now();
  ASSERT_TRUE(test::eventually([&] { return !sink.messages().empty(); }, std::chrono::milliseconds(3 * kPeriodMs)))
      << server->err();
  const auto alarm_after = std::chrono::steady_clock::now() - uploaded;
  EXPECT_LT(alarm_after, std::chrono::milliseconds(kPeriodMs + 3000)) << "the ALARM mail comes within the period";
  auto mails = sink.messages();
  ASSERT_EQ(mails.size(), 1u);
  const std::string& alarm = mails[0];
  EXPECT_NE(alarm.find("Subject: [thumbflow] ALARM: image-processing-errors (OK -> ALARM)"), std::string::npos) << alarm;
  for (const char* key : {"uploads/bad/bad1.jpg", "uploads/bad/bad2.jpg", "uploads/bad/bad3.jpg"})
    EXPECT_NE(alarm.find(std::string("s3://") + kBucket + "/" + key + "  corrupt: "), std::string::npos) << key << "\n" << alarm;
  EXPECT_NE(alarm.find("Value:      3 (threshold >= 1)"), std::string::npos) << alarm;

  // Good uploads, then a quiet period: one OK mail.
  upload("good", "skimage_coins.png", {"a.png", "b.png"});
  ASSERT_TRUE(test::eventually([&] { return sink.messages().size() >= 2; }, std::chrono::milliseconds(3 * kPeriodMs)))
      << server->err();
  std::this_thread::sleep_for(std::chrono::milliseconds(kPeriodMs + 1000));  // and nothing more
  mails = sink.messages();
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_NE(mails[1].find("Subject: [thumbflow] OK: image-processing-errors (ALARM -> OK)"), std::string::npos) << mails[1];
  EXPECT_EQ(count(mails, "ALARM: image-processing-errors (OK -> ALARM)"), 1u);
  EXPECT_EQ(processed_records(), 2u);

  // The webhook got the same two messages, Slack-compatible.
  auto posts = webhook_posts();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0]["newState"], "ALARM");
  EXPECT_EQ(posts[0]["recentFailures"].size(), 3u);
  EXPECT_NE(posts[0]["text"].get<std::string>().find("uploads/bad/bad2.jpg"), std::string::npos);
  EXPECT_EQ(posts[1]["newState"], "OK");

  // GET /metrics, checked by promtool.
  const std::string text = metrics();
  ASSERT_FALSE(text.empty());
  EXPECT_NE(text.find("thumbflow_images_failed_total{kind=\"corrupt\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("thumbflow_images_processed_total 2\n"), std::string::npos);
  EXPECT_NE(text.find("thumbflow_http_requests_total{operation=\"PutObject\",status=\"200\"} 5\n"), std::string::npos);
  EXPECT_NE(text.find("thumbflow_alarm_state{alarm=\"image-processing-errors\",state=\"OK\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("thumbflow_notifications_total{notifier=\"email\",result=\"sent\"} 2\n"), std::string::npos);
  if (fs::exists("/usr/bin/promtool")) {
    auto check = test::run_process({"/usr/bin/promtool", "check", "metrics"}, text);
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  }

  // The CLI: state, history with deliveries, and a test message.
  auto list = cli_json({"alarms", "list"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["state"], "OK");
  auto history = cli_json({"alarms", "history"});
  std::vector<std::string> changes;
  for (const auto& h : history) changes.push_back(h["oldState"].get<std::string>() + "->" + h["newState"].get<std::string>());
  EXPECT_EQ(changes, (std::vector<std::string>{"ALARM->OK", "OK->ALARM", "INSUFFICIENT_DATA->OK"}));
  ASSERT_EQ(history[1]["deliveries"].size(), 2u);
  for (const auto& d : history[1]["deliveries"]) EXPECT_EQ(d["status"], "sent") << d.dump();
  auto t = test::run_process({exe(), "alarms", "test", "image-processing-errors", "--data", data.string(), "--config",
                              config.string()});
  EXPECT_EQ(t.exit_code, 0) << t.out << t.err;
  EXPECT_NE(t.out.find("email: sent"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("webhook: sent"), std::string::npos) << t.out;
  mails = sink.messages();
  ASSERT_EQ(mails.size(), 3u);
  EXPECT_NE(mails[2].find("Subject: [thumbflow] TEST: OK: image-processing-errors"), std::string::npos) << mails[2];
}

TEST_F(Alarms, with_the_mail_server_down_and_a_hanging_notifier_the_state_is_recorded_the_pipeline_runs_and_mail_follows) {
  const int smtp_port = test::free_port();
  start("[notify]\nbackoff_base_ms = 200\nbackoff_max_ms = 1000\nmax_attempts = 100\ntimeout_ms = 60000\n"
        "[notify.email]\nurl = \"smtp://127.0.0.1:" + std::to_string(smtp_port) + "\"\nto = [\"ops@example.com\"]\n"
        "[notify.command]\nargv = [\"/bin/sleep\", \"50\"]\n");
  upload("bad", "skimage_truncated.jpg", {"bad1.jpg"});
  ASSERT_TRUE(test::eventually([&] { return alarm_state() == "ALARM"; }, std::chrono::milliseconds(3 * kPeriodMs)))
      << server->err();
  // Mail cannot go and the command hangs: images are still processed at once.
  const auto t0 = std::chrono::steady_clock::now();
  upload("good", "skimage_coins.png", {"a.png", "b.png", "c.png"});
  ASSERT_TRUE(test::eventually([&] { return processed_records() == 3; }, std::chrono::seconds(60))) << server->err();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  // The email is being retried, recorded as such.
  ASSERT_TRUE(test::eventually(
      [&] {
        for (const auto& h : cli_json({"alarms", "history"}))
          for (const auto& d : h["deliveries"])
            if (d["notifier"] == "email" && d["status"] == "pending" && d["attempts"].get<int>() >= 2) return true;
        return false;
      },
      std::chrono::seconds(20)));
  // The mail server comes up: the retry delivers the ALARM mail.
  test::SmtpSink sink(tmp.path() / "smtp", smtp_port);
  ASSERT_TRUE(sink.ready()) << sink.log();
  ASSERT_TRUE(test::eventually([&] { return !sink.messages().empty(); }, std::chrono::seconds(20))) << server->err();
  EXPECT_NE(sink.messages()[0].find("ALARM: image-processing-errors (OK -> ALARM)"), std::string::npos);
  EXPECT_NE(sink.messages()[0].find("uploads/bad/bad1.jpg"), std::string::npos);
  bool sent = false;
  ASSERT_TRUE(test::eventually(
      [&] {
        for (const auto& h : cli_json({"alarms", "history"}))
          for (const auto& d : h["deliveries"])
            if (d["notifier"] == "email" && d["status"] == "sent" && d["attempts"].get<int>() >= 3) sent = true;
        return sent;
      },
      std::chrono::seconds(10)));
}

}  // namespace thumbflow
