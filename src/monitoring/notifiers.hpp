// The ways an alarm reaches a person: email over SMTP, a webhook (Slack-compatible JSON), SNS
// Publish, and a command. Each send() is one attempt; the error kind says whether another
// attempt can help (unavailable: the peer is down, slow or throttling; anything else: the
// configuration or the message is wrong and retrying changes nothing). Retries, backoff and
// threads are the Dispatcher's (dispatcher.hpp), never the caller's.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "aws/http_client.hpp"
#include "core/error.hpp"
#include "monitoring/notification.hpp"

namespace thumbflow::monitoring {

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual const std::string& name() const = 0;
  virtual Status send(const Notification& n) = 0;
};

// ---- Email (libcurl SMTP) ----------------------------------------------------------------------
struct SmtpOptions {
  std::string url;                 // smtp://host:587 (STARTTLS per `starttls`) or smtps://host:465 (TLS at once)
  std::string starttls = "try";    // always: refuse to send without TLS; try: use it when offered; never
  bool verify_tls = true;          // check the server's certificate and host name
  std::string username, password;  // AUTH LOGIN/PLAIN when username is set
  std::string from = "thumbflow@localhost";
  std::vector<std::string> to;
  std::chrono::milliseconds timeout{10'000};  // connect + whole transaction
};

// The RFC 5322 message libcurl uploads (CRLF line ends; non-ASCII subjects RFC 2047 encoded).
std::string mail_message(const SmtpOptions& options, const Notification& n);

class SmtpNotifier final : public Notifier {
 public:
  explicit SmtpNotifier(SmtpOptions options);
  const std::string& name() const override { return name_; }
  Status send(const Notification& n) override;

 private:
  std::string name_ = "email";
  SmtpOptions options_;
};

// ---- Webhook (JSON POST) -----------------------------------------------------------------------
struct WebhookOptions {
  std::string url;
  std::chrono::milliseconds timeout{10'000};
  bool verify_tls = true;
};

class WebhookNotifier final : public Notifier {
 public:
  explicit WebhookNotifier(WebhookOptions options);
  const std::string& name() const override { return name_; }
  Status send(const Notification& n) override;

 private:
  std::string name_ = "webhook";
  WebhookOptions options_;
  std::unique_ptr<aws::HttpClient> http_;
};

// ---- SNS Publish (SigV4) -----------------------------------------------------------------------
struct SnsOptions {
  std::string topic_arn;  // arn:aws:sns:REGION:ACCOUNT:NAME
  std::string region;     // empty: from the topic ARN
  std::string endpoint;   // empty: https://sns.REGION.amazonaws.com
  std::chrono::milliseconds timeout{10'000};
  // Empty: resolved at each send the standard AWS way (environment, shared files, container).
  std::optional<aws::Credentials> credentials;
};

// The region field of an SNS topic ARN, or an error naming the ARN.
Result<std::string> region_of_topic_arn(const std::string& arn);
// The form body of a Publish request.
std::string sns_publish_body(const std::string& topic_arn, const Notification& n);

class SnsNotifier final : public Notifier {
 public:
  explicit SnsNotifier(SnsOptions options);
  const std::string& name() const override { return name_; }
  Status send(const Notification& n) override;

 private:
  std::string name_ = "sns";
  SnsOptions options_;
  std::unique_ptr<aws::HttpClient> http_;
};

// ---- Command -----------------------------------------------------------------------------------
struct CommandOptions {
  std::vector<std::string> argv;  // run without a shell
  std::chrono::milliseconds timeout{10'000};  // killed (SIGKILL) past this
};

// Runs argv with the JSON payload on stdin and THUMBFLOW_ALARM_NAME, THUMBFLOW_ALARM_STATE,
// THUMBFLOW_ALARM_OLD_STATE, THUMBFLOW_ALARM_SUBJECT in its environment. Exit status 0 is
// success; another status or a timeout is retried; a program that cannot be started is not.
class CommandNotifier final : public Notifier {
 public:
  explicit CommandNotifier(CommandOptions options);
  const std::string& name() const override { return name_; }
  Status send(const Notification& n) override;

 private:
  std::string name_ = "command";
  CommandOptions options_;
};

}  // namespace thumbflow::monitoring
