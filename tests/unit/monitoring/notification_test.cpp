#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "aws/primitives.hpp"
#include "monitoring/notifiers.hpp"
#include "test_support.hpp"

namespace thumbflow::monitoring {
namespace {

Notification alarm_note() {
  AlarmRule r = default_failure_rule();
  RuleStatus s;
  s.state = AlarmState::alarm;
  s.value = 3;
  s.reason = "Threshold crossed: 1 of the last 1 period(s)";
  Notification n = make_notification(r, NotificationKind::transition, AlarmState::ok, s, 1'764'072'000'000);
  n.recent_failures = {{1'764'071'990'000, "s3://b/uploads/c.jpg", "corrupt", "c.jpg: truncated JPEG"},
                       {1'764'071'980'000, "s3://b/uploads/notes.jpg", "unsupported_format", "not an image"}};
  n.host = "box";
  return n;
}

}  // namespace

TEST(Notification, names_the_alarm_the_change_the_value_the_threshold_and_the_failed_objects) {
  const Notification n = alarm_note();
  EXPECT_EQ(subject(n), "[thumbflow] ALARM: image-processing-errors (OK -> ALARM)");
  const std::string body = text_body(n);
  for (const char* want : {"image-processing-errors", "OK -> ALARM", "Value:      3 (threshold >= 1)",
                           "s3://b/uploads/c.jpg  corrupt: c.jpg: truncated JPEG",
                           "s3://b/uploads/notes.jpg  unsupported_format: not an image", "Threshold crossed",
                           "2025-11-25T12:00:00.000Z"})
    EXPECT_NE(body.find(want), std::string::npos) << want << "\n" << body;
  EXPECT_LT(body.find("c.jpg"), body.find("notes.jpg")) << "newest first";
}

TEST(Notification, the_json_payload_has_a_slack_text_field_and_the_details) {
  auto j = nlohmann::json::parse(json_payload(alarm_note()));
  EXPECT_NE(j["text"].get<std::string>().find("ALARM: image-processing-errors"), std::string::npos);
  EXPECT_EQ(j["alarm"], "image-processing-errors");
  EXPECT_EQ(j["oldState"], "OK");
  EXPECT_EQ(j["newState"], "ALARM");
  EXPECT_EQ(j["value"], 3);
  EXPECT_EQ(j["threshold"], 1);
  ASSERT_EQ(j["recentFailures"].size(), 2u);
  EXPECT_EQ(j["recentFailures"][0]["object"], "s3://b/uploads/c.jpg");
  Notification none = alarm_note();
  none.value.reset();
  EXPECT_TRUE(nlohmann::json::parse(json_payload(none))["value"].is_null());
}

TEST(Notification, test_and_reminder_subjects_say_so) {
  Notification n = alarm_note();
  n.kind = NotificationKind::test;
  EXPECT_EQ(subject(n), "[thumbflow] TEST: ALARM: image-processing-errors");
  EXPECT_NE(text_body(n).find("test notification"), std::string::npos);
  n.kind = NotificationKind::repeat;
  EXPECT_EQ(subject(n), "[thumbflow] STILL ALARM: image-processing-errors");
}

TEST(MailMessage, has_crlf_lines_and_headers_and_cannot_be_injected_into) {
  SmtpOptions o;
  o.from = "thumbflow@example.com";
  o.to = {"ops@example.com", "Dev <dev@example.com>"};
  Notification n = alarm_note();
  n.alarm = "evil\r\nBcc: victim@example.com";
  const std::string m = mail_message(o, n);
  EXPECT_NE(m.find("From: thumbflow@example.com\r\n"), std::string::npos);
  EXPECT_NE(m.find("To: ops@example.com, Dev <dev@example.com>\r\n"), std::string::npos);
  const std::string headers = m.substr(0, m.find("\r\n\r\n"));
  EXPECT_EQ(headers.find("\r\nBcc:"), std::string::npos) << "line breaks in header values are flattened";
  EXPECT_NE(headers.find("evil  Bcc: victim@example.com"), std::string::npos) << headers;
  EXPECT_NE(m.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\n\r\n"), std::string::npos);
  for (std::size_t i = 0; i < m.size(); ++i)
    if (m[i] == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
    }
  n.alarm = "caf\xC3\xA9";
  EXPECT_NE(mail_message(o, n).find("Subject: =?UTF-8?B?"), std::string::npos) << "non-ASCII subjects are encoded";
}

TEST(Sns, the_region_comes_from_the_topic_arn_and_the_body_is_a_publish_form) {
  auto r = region_of_topic_arn("arn:aws:sns:eu-west-1:123456789012:alarms");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "eu-west-1");
  EXPECT_FALSE(region_of_topic_arn("alarms").ok());
  EXPECT_FALSE(region_of_topic_arn("arn:aws:sqs:eu-west-1:1:q").ok());
  const std::string body = sns_publish_body("arn:aws:sns:eu-west-1:1:alarms", alarm_note());
  EXPECT_EQ(body.rfind("Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A1%3Aalarms&Subject=", 0), 0u)
      << body;
  EXPECT_NE(body.find("&Message="), std::string::npos);
  auto subject_at = body.find("Subject=") + 8;
  auto decoded = aws::uri_decode(body.substr(subject_at, body.find('&', subject_at) - subject_at));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "[thumbflow] ALARM: image-processing-errors (OK -> ALARM)");
}

TEST(CommandNotifier, runs_the_program_with_the_message_on_stdin_and_the_alarm_in_its_environment) {
  test::TempDir tmp;
  const auto out = tmp.path() / "out";
  CommandNotifier c({{"/bin/sh", "-c", "cat > \"$0\"; echo \"$THUMBFLOW_ALARM_NAME $THUMBFLOW_ALARM_STATE\" >> \"$0\"",
                      out.string()},
                     std::chrono::milliseconds(5000)});
  ASSERT_TRUE(c.send(alarm_note()).ok());
  const std::string got = test::read_bytes(out);
  EXPECT_NE(got.find("\"alarm\":\"image-processing-errors\""), std::string::npos) << got;
  EXPECT_NE(got.find("image-processing-errors ALARM\n"), std::string::npos) << got;
}

TEST(CommandNotifier, a_failing_or_hanging_program_is_retryable_and_a_missing_one_is_not) {
  CommandNotifier fails({{"/bin/sh", "-c", "exit 3"}, std::chrono::milliseconds(5000)});
  auto st = fails.send(alarm_note());
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().retryable());
  EXPECT_NE(st.error().message.find("status 3"), std::string::npos);
  CommandNotifier hangs({{"/bin/sleep", "10"}, std::chrono::milliseconds(200)});
  const auto t0 = std::chrono::steady_clock::now();
  st = hangs.send(alarm_note());
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().retryable());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3)) << "killed at the timeout";
  CommandNotifier missing({{"/nonexistent/pager"}, std::chrono::milliseconds(1000)});
  st = missing.send(alarm_note());
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(st.error().retryable());
}

TEST(SmtpNotifier, an_unreachable_server_is_a_retryable_error) {
  SmtpOptions o;
  o.url = "smtp://127.0.0.1:" + std::to_string(test::free_port());
  o.to = {"ops@example.com"};
  o.timeout = std::chrono::milliseconds(2000);
  SmtpNotifier n(o);
  auto st = n.send(alarm_note());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::unavailable) << st.error().describe();
}

}  // namespace thumbflow::monitoring
