// The notifiers against real peers on loopback: the aiosmtpd SMTP sink (plain, STARTTLS with
// login, down then up), an HTTP webhook receiver that fails before it succeeds, and an SNS
// Publish endpoint that checks the SigV4 signature with the same verifier the S3 endpoint uses.
#include <gtest/gtest.h>

#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "aws/primitives.hpp"
#include "aws/sigv4.hpp"
#include "monitoring/dispatcher.hpp"
#include "monitoring/notifiers.hpp"
#include "sink.hpp"

namespace thumbflow::monitoring {
namespace {

Notification alarm_note(std::int64_t history_id = 1) {
  AlarmRule r = default_failure_rule();
  RuleStatus s;
  s.state = AlarmState::alarm;
  s.value = 3;
  s.reason = "Threshold crossed";
  Notification n = make_notification(r, NotificationKind::transition, AlarmState::ok, s, unix_now_ms());
  n.recent_failures = {{unix_now_ms(), "s3://b/uploads/bad1.jpg", "corrupt", "truncated JPEG"}};
  n.history_id = history_id;
  return n;
}

SmtpOptions smtp(const std::string& url) {
  SmtpOptions o;
  o.url = url;
  o.from = "thumbflow@example.com";
  o.to = {"ops@example.com"};
  o.timeout = std::chrono::milliseconds(5000);
  return o;
}

// An HTTP server on a free loopback port, run on its own thread.
struct Receiver {
  Receiver() {
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Receiver() {
    server.stop();
    thread.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
  httplib::Server server;
  int port = 0;
  std::thread thread;
};

struct Recorded {
  std::mutex mu;
  std::vector<Delivery> rows;
  Dispatcher::Recorder recorder() {
    return [this](std::int64_t, const Delivery& d) {
      std::lock_guard lock(mu);
      rows.push_back(d);
    };
  }
};

}  // namespace

TEST(SmtpNotifier, delivers_a_mail_naming_the_alarm_and_the_failed_objects_to_a_real_smtp_server) {
  if (!test::smtp_sink_available()) GTEST_SKIP() << "python3-aiosmtpd not installed (scripts/install-deps)";
  test::TempDir tmp;
  test::SmtpSink sink(tmp.path(), test::free_port());
  ASSERT_TRUE(sink.ready()) << sink.log();
  SmtpNotifier n(smtp(sink.url()));
  auto st = n.send(alarm_note());
  ASSERT_TRUE(st.ok()) << st.error().describe();
  auto mails = sink.messages();
  ASSERT_EQ(mails.size(), 1u);
  const std::string& m = mails[0];
  EXPECT_NE(m.find("X-Envelope-To: ops@example.com"), std::string::npos) << m;
  EXPECT_NE(m.find("Subject: [thumbflow] ALARM: image-processing-errors (OK -> ALARM)"), std::string::npos) << m;
  EXPECT_NE(m.find("s3://b/uploads/bad1.jpg  corrupt: truncated JPEG"), std::string::npos) << m;
  EXPECT_NE(m.find("threshold >= 1"), std::string::npos) << m;
}

TEST(SmtpNotifier, starttls_and_login_work_and_a_wrong_password_is_not_retried) {
  if (!test::smtp_sink_available()) GTEST_SKIP() << "python3-aiosmtpd not installed (scripts/install-deps)";
  test::TempDir tmp;
  const auto cert = tmp.path() / "cert.pem", key = tmp.path() / "key.pem";
  auto gen = test::run_process({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.string(), "-out",
                                cert.string(), "-days", "1", "-subj", "/CN=127.0.0.1"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  test::SmtpSink sink(tmp.path(), test::free_port(), {"--auth", "alarm:s3cret", "--tls", cert.string(), key.string()});
  ASSERT_TRUE(sink.ready()) << sink.log();
  SmtpOptions o = smtp(sink.url());
  o.starttls = "always";
  o.verify_tls = false;  // a self-signed certificate made for this test
  o.username = "alarm";
  o.password = "wrong";
  auto st = SmtpNotifier(o).send(alarm_note());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::access_denied) << st.error().describe();
  EXPECT_FALSE(st.error().retryable());
  o.password = "s3cret";
  st = SmtpNotifier(o).send(alarm_note());
  ASSERT_TRUE(st.ok()) << st.error().describe() << "\n" << sink.log();
  auto mails = sink.messages();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].find("X-Sink-TLS: yes"), std::string::npos) << "sent inside STARTTLS";
}

TEST(SmtpNotifier, starttls_always_refuses_to_send_in_clear_to_a_server_without_tls) {
  if (!test::smtp_sink_available()) GTEST_SKIP() << "python3-aiosmtpd not installed (scripts/install-deps)";
  test::TempDir tmp;
  test::SmtpSink sink(tmp.path(), test::free_port());
  ASSERT_TRUE(sink.ready()) << sink.log();
  SmtpOptions o = smtp(sink.url());
  o.starttls = "always";
  auto st = SmtpNotifier(o).send(alarm_note());
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(st.error().retryable()) << st.error().describe();
  EXPECT_TRUE(sink.messages().empty());
}

TEST(Dispatcher, a_mail_server_that_is_down_is_retried_until_it_comes_up) {
  if (!test::smtp_sink_available()) GTEST_SKIP() << "python3-aiosmtpd not installed (scripts/install-deps)";
  test::TempDir tmp;
  const int port = test::free_port();
  std::vector<std::unique_ptr<Notifier>> ns;
  ns.push_back(std::make_unique<SmtpNotifier>(smtp("smtp://127.0.0.1:" + std::to_string(port))));
  DispatchOptions o;
  o.max_attempts = 30;
  o.backoff_base = std::chrono::milliseconds(100);
  o.backoff_max = std::chrono::milliseconds(400);
  Recorded rec;
  Dispatcher d(std::move(ns), o, rec.recorder());
  const auto t0 = std::chrono::steady_clock::now();
  d.submit(alarm_note());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50)) << "submit does not wait for SMTP";
  ASSERT_TRUE(test::eventually(
      [&] {
        std::lock_guard lock(rec.mu);
        return rec.rows.size() >= 2;
      },
      std::chrono::seconds(10)));
  test::SmtpSink sink(tmp.path(), port);
  ASSERT_TRUE(sink.ready()) << sink.log();
  ASSERT_TRUE(d.wait_idle(std::chrono::seconds(20)));
  EXPECT_EQ(sink.messages().size(), 1u);
  std::lock_guard lock(rec.mu);
  ASSERT_GE(rec.rows.size(), 3u);
  EXPECT_EQ(rec.rows.front().status, "pending");
  EXPECT_NE(rec.rows.front().error.find("unavailable"), std::string::npos) << rec.rows.front().error;
  EXPECT_EQ(rec.rows.back().status, "sent");
  EXPECT_GE(rec.rows.back().attempts, 3);
}

TEST(WebhookNotifier, posts_slack_compatible_json_and_is_retried_with_backoff_through_5xx) {
  Receiver r;
  std::mutex mu;
  std::vector<std::string> bodies;
  std::vector<std::chrono::steady_clock::time_point> times;
  std::atomic<int> calls{0};
  r.server.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    times.push_back(std::chrono::steady_clock::now());
    if (++calls <= 2) {
      res.status = 503;
      return;
    }
    EXPECT_EQ(req.get_header_value("Content-Type"), "application/json; charset=utf-8");
    bodies.push_back(req.body);
    res.set_content("ok", "text/plain");
  });
  std::vector<std::unique_ptr<Notifier>> ns;
  ns.push_back(std::make_unique<WebhookNotifier>(WebhookOptions{r.url("/hook"), std::chrono::milliseconds(5000), true}));
  DispatchOptions o;
  o.backoff_base = std::chrono::milliseconds(100);
  o.backoff_max = std::chrono::milliseconds(1000);
  Recorded rec;
  Dispatcher d(std::move(ns), o, rec.recorder());
  d.submit(alarm_note());
  ASSERT_TRUE(d.wait_idle(std::chrono::seconds(20)));
  std::lock_guard lock(mu);
  ASSERT_EQ(calls.load(), 3);
  ASSERT_EQ(bodies.size(), 1u);
  auto j = nlohmann::json::parse(bodies[0]);
  EXPECT_NE(j["text"].get<std::string>().find("ALARM: image-processing-errors"), std::string::npos);
  EXPECT_NE(j["text"].get<std::string>().find("s3://b/uploads/bad1.jpg"), std::string::npos);
  EXPECT_EQ(j["newState"], "ALARM");
  // Backoff: retry 1 waits at least base/2, retry 2 at least base (cap doubles).
  EXPECT_GE(times[1] - times[0], std::chrono::milliseconds(50));
  EXPECT_GE(times[2] - times[1], std::chrono::milliseconds(100));
  std::lock_guard rlock(rec.mu);
  EXPECT_EQ(rec.rows.back().status, "sent");
  EXPECT_EQ(rec.rows.back().attempts, 3);
}

TEST(WebhookNotifier, a_4xx_answer_is_not_retried) {
  Receiver r;
  std::atomic<int> calls{0};
  r.server.Post("/gone", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 404;
  });
  WebhookNotifier n({r.url("/gone"), std::chrono::milliseconds(5000), true});
  auto st = n.send(alarm_note());
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(st.error().retryable()) << st.error().describe();
  EXPECT_EQ(calls.load(), 1);
}

TEST(SnsNotifier, publishes_a_sigv4_signed_request_the_verifier_accepts) {
  Receiver r;
  const aws::Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  std::mutex mu;
  std::string verdict, topic, subject_seen, message_seen;
  r.server.Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    aws::Headers headers;
    for (const auto& [k, v] : req.headers)
      if (k != "REMOTE_ADDR" && k != "REMOTE_PORT" && k != "LOCAL_ADDR" && k != "LOCAL_PORT") headers.push_back({k, v});
    aws::Request signed_req{"POST", "/", "", headers, aws::sha256_hex(req.body)};
    auto auth = aws::parse_request_auth(signed_req);
    std::lock_guard lock(mu);
    if (!auth) {
      verdict = "unparsable: " + auth.error().message;
    } else {
      auto v = aws::verify(signed_req, *auth, creds.secret_access_key);
      verdict = v.valid() ? "valid " + auth->region + "/" + auth->service : "invalid: " + v.detail;
    }
    // The form fields, decoded.
    std::string body = req.body;
    std::size_t pos = 0;
    while (pos < body.size()) {
      auto amp = body.find('&', pos);
      std::string kv = body.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      auto eq = kv.find('=');
      auto value = aws::uri_decode(kv.substr(eq + 1), true);
      if (value) {
        if (kv.substr(0, eq) == "TopicArn") topic = *value;
        if (kv.substr(0, eq) == "Subject") subject_seen = *value;
        if (kv.substr(0, eq) == "Message") message_seen = *value;
      }
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
    res.set_content("<PublishResponse><PublishResult><MessageId>1</MessageId></PublishResult></PublishResponse>",
                    "text/xml");
  });
  SnsOptions o;
  o.topic_arn = "arn:aws:sns:eu-west-1:123456789012:thumbflow-alarms";
  o.endpoint = r.url("/");
  o.credentials = creds;
  SnsNotifier n(o);
  auto st = n.send(alarm_note());
  ASSERT_TRUE(st.ok()) << st.error().describe();
  std::lock_guard lock(mu);
  EXPECT_EQ(verdict, "valid eu-west-1/sns");
  EXPECT_EQ(topic, o.topic_arn);
  EXPECT_EQ(subject_seen, "[thumbflow] ALARM: image-processing-errors (OK -> ALARM)");
  EXPECT_NE(message_seen.find("s3://b/uploads/bad1.jpg"), std::string::npos) << message_seen;
}

}  // namespace thumbflow::monitoring
