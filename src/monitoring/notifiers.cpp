#include "monitoring/notifiers.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <thread>

#include "aws/credentials.hpp"
#include "aws/primitives.hpp"

extern char** environ;

namespace thumbflow::monitoring {
namespace {

void curl_init_once() {
  static std::once_flag flag;
  std::call_once(flag, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16 |
                       static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8 |
                       static_cast<unsigned char>(in[i + 2]);
    out += t[v >> 18 & 63];
    out += t[v >> 12 & 63];
    out += t[v >> 6 & 63];
    out += t[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += t[v >> 18 & 63];
    out += t[v >> 12 & 63];
    out += i + 1 < in.size() ? t[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

bool ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\r' || c == '\n') return false;
  return true;
}

// Header values must not carry line breaks (header injection through an alarm name or address).
std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

std::string angle(const std::string& address) {
  if (!address.empty() && address.front() == '<') return address;
  // "Name <a@b>" keeps its own brackets; a bare address gets them.
  auto lt = address.find('<');
  if (lt != std::string::npos) return address.substr(lt);
  return "<" + address + ">";
}

std::string rfc5322_date(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

Error curl_failure(const char* what, CURLcode code, long response) {
  std::string msg = std::string(what) + ": " + curl_easy_strerror(code);
  if (response > 0) msg += " (server said " + std::to_string(response) + ")";
  switch (code) {
    case CURLE_LOGIN_DENIED: return make_error(ErrorKind::access_denied, msg, "LoginDenied");
    case CURLE_USE_SSL_FAILED: return make_error(ErrorKind::invalid_argument, msg, "StartTlsRefused");
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return make_error(ErrorKind::invalid_argument, msg);
    default: break;
  }
  // A permanent SMTP rejection (5xx: unknown recipient, message refused) will not change.
  if (response >= 500 && response < 600) return make_error(ErrorKind::invalid_argument, msg, std::to_string(response));
  return make_error(ErrorKind::unavailable, msg);
}

}  // namespace

// ---- Email -------------------------------------------------------------------------------------
std::string mail_message(const SmtpOptions& o, const Notification& n) {
  const std::string subj = one_line(subject(n));
  std::string to;
  for (const auto& r : o.to) to += (to.empty() ? "" : ", ") + one_line(r);
  std::string m;
  m += "Date: " + rfc5322_date(n.at_ms) + "\r\n";
  m += "From: " + one_line(o.from) + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: " + (ascii(subj) ? subj : "=?UTF-8?B?" + base64(subj) + "?=") + "\r\n";
  m += "Message-ID: <thumbflow." + std::to_string(n.at_ms) + "." + std::to_string(n.history_id) + "." +
       std::to_string(::getpid()) + "@" + one_line(n.host.empty() ? "localhost" : n.host) + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "X-Thumbflow-Alarm: " + one_line(n.alarm) + "\r\n";
  m += "X-Thumbflow-State: " + std::string(to_string(n.new_state)) + "\r\n";
  m += "\r\n";
  const std::string body = text_body(n);
  for (char c : body) {
    if (c == '\n') m += "\r\n";
    else m += c;
  }
  return m;
}

SmtpNotifier::SmtpNotifier(SmtpOptions options) : options_(std::move(options)) { curl_init_once(); }

Status SmtpNotifier::send(const Notification& n) {
  if (options_.to.empty()) return make_error(ErrorKind::invalid_argument, "email: no recipient (notify.email.to)");
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return make_error(ErrorKind::internal, "email: curl_easy_init failed");
  CURL* c = curl.get();
  const std::string message = mail_message(options_, n);
  struct Reader {
    const std::string* data;
    std::size_t pos = 0;
  } reader{&message};
  auto read = +[](char* buf, std::size_t size, std::size_t nitems, void* user) -> std::size_t {
    auto* r = static_cast<Reader*>(user);
    const std::size_t n_bytes = std::min(size * nitems, r->data->size() - r->pos);
    std::memcpy(buf, r->data->data() + r->pos, n_bytes);
    r->pos += n_bytes;
    return n_bytes;
  };
  std::unique_ptr<curl_slist, SlistDeleter> rcpt;
  for (const auto& r : options_.to) {
    curl_slist* next = curl_slist_append(rcpt.get(), angle(r).c_str());
    if (!next) return make_error(ErrorKind::internal, "email: out of memory");
    (void)rcpt.release();
    rcpt.reset(next);
  }
  const std::string from = angle(options_.from);
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read);
  curl_easy_setopt(c, CURLOPT_READDATA, &reader);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  const long use_ssl = options_.starttls == "always" ? static_cast<long>(CURLUSESSL_ALL)
                       : options_.starttls == "never" ? static_cast<long>(CURLUSESSL_NONE)
                                                      : static_cast<long>(CURLUSESSL_TRY);
  curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  long response = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
  if (rc != CURLE_OK) return curl_failure(("email to " + options_.url).c_str(), rc, response);
  return ok_status();
}

// ---- Webhook -----------------------------------------------------------------------------------
namespace {
aws::HttpClient::Options one_attempt(std::chrono::milliseconds timeout, bool verify_tls) {
  aws::HttpClient::Options o;
  o.retry.max_attempts = 1;  // the Dispatcher retries, with its own backoff
  o.timeouts.connect = timeout;
  o.timeouts.total = timeout;
  o.verify_tls = verify_tls;
  o.max_response_body = 64 * 1024;
  return o;
}

Status http_outcome(const std::string& what, const Result<aws::HttpResponse>& r) {
  if (!r) return make_error(ErrorKind::unavailable, what + ": " + r.error().message);
  const long s = r->status;
  if (s >= 200 && s < 300) return ok_status();
  std::string body = r->body.substr(0, 300);
  const std::string msg = what + ": HTTP " + std::to_string(s) + (body.empty() ? "" : ": " + body);
  if (s == 429 || s >= 500 || s == 408) return make_error(ErrorKind::unavailable, msg, std::to_string(s));
  if (s == 401 || s == 403) return make_error(ErrorKind::access_denied, msg, std::to_string(s));
  if (s == 404 || s == 410) return make_error(ErrorKind::not_found, msg, std::to_string(s));
  return make_error(ErrorKind::invalid_argument, msg, std::to_string(s));
}
}  // namespace

WebhookNotifier::WebhookNotifier(WebhookOptions options)
    : options_(std::move(options)),
      http_(std::make_unique<aws::HttpClient>(one_attempt(options_.timeout, options_.verify_tls))) {}

Status WebhookNotifier::send(const Notification& n) {
  aws::HttpRequest req;
  req.method = "POST";
  req.url = options_.url;
  req.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  req.body = json_payload(n);
  return http_outcome("webhook " + options_.url, http_->send(req));
}

// ---- SNS ---------------------------------------------------------------------------------------
Result<std::string> region_of_topic_arn(const std::string& arn) {
  // arn:PARTITION:sns:REGION:ACCOUNT:NAME
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto colon = arn.find(':', start);
    parts.push_back(arn.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[3].empty() || parts[5].empty())
    return make_error(ErrorKind::invalid_argument, "'" + arn + "' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)");
  return parts[3];
}

std::string sns_publish_body(const std::string& topic_arn, const Notification& n) {
  // SNS subjects: at most 100 printable ASCII characters, no line breaks.
  std::string subj;
  for (char c : subject(n)) {
    if (subj.size() >= 100) break;
    subj += (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) ? '?' : c;
  }
  std::string message = text_body(n);
  constexpr std::size_t kMaxMessage = 256 * 1024 - 1024;  // SNS: 256 KiB per message
  if (message.size() > kMaxMessage) message.resize(kMaxMessage);
  return "Action=Publish&Version=2010-03-31&TopicArn=" + aws::uri_encode(topic_arn, true) +
         "&Subject=" + aws::uri_encode(subj, true) + "&Message=" + aws::uri_encode(message, true);
}

SnsNotifier::SnsNotifier(SnsOptions options)
    : options_(std::move(options)), http_(std::make_unique<aws::HttpClient>(one_attempt(options_.timeout, true))) {}

Status SnsNotifier::send(const Notification& n) {
  std::string region = options_.region;
  if (region.empty()) {
    auto r = region_of_topic_arn(options_.topic_arn);
    if (!r) return r.error();
    region = *r;
  }
  aws::SigningConfig signing;
  if (options_.credentials) {
    signing.credentials = *options_.credentials;
  } else {
    auto creds = aws::resolve_credentials();
    if (!creds) return make_error(creds.error().kind == ErrorKind::unavailable ? ErrorKind::unavailable : ErrorKind::access_denied,
                                  "sns: no AWS credentials: " + creds.error().message);
    signing.credentials = *creds;
  }
  signing.scope = {region, "sns"};
  aws::HttpRequest req;
  req.method = "POST";
  req.url = options_.endpoint.empty() ? "https://sns." + region + ".amazonaws.com/" : options_.endpoint;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  req.body = sns_publish_body(options_.topic_arn, n);
  auto r = http_->send(req, &signing);
  if (r && r->status == 400 && r->body.find("Throttl") != std::string::npos)
    return make_error(ErrorKind::unavailable, "sns Publish: throttled", "Throttling");
  return http_outcome("sns Publish to " + options_.topic_arn, r);
}

// ---- Command -----------------------------------------------------------------------------------
CommandNotifier::CommandNotifier(CommandOptions options) : options_(std::move(options)) {}

Status CommandNotifier::send(const Notification& n) {
  if (options_.argv.empty()) return make_error(ErrorKind::invalid_argument, "command: empty argv (notify.command.argv)");
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return make_error(ErrorKind::unavailable, "command: pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  std::vector<std::string> env_storage;
  for (char** e = environ; e && *e; ++e) env_storage.emplace_back(*e);
  env_storage.push_back("THUMBFLOW_ALARM_NAME=" + n.alarm);
  env_storage.push_back("THUMBFLOW_ALARM_STATE=" + std::string(to_string(n.new_state)));
  env_storage.push_back("THUMBFLOW_ALARM_OLD_STATE=" + std::string(to_string(n.old_state)));
  env_storage.push_back("THUMBFLOW_ALARM_SUBJECT=" + one_line(subject(n)));
  std::vector<char*> envp, argv;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options_.argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  if (rc != 0) {
    ::close(in[1]);
    return make_error(ErrorKind::invalid_argument, "command " + options_.argv[0] + " cannot be started: " + std::strerror(rc));
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  // Feed the payload without blocking forever on a program that does not read it.
  const std::string payload = json_payload(n);
  ::fcntl(in[1], F_SETFL, O_NONBLOCK);
  std::size_t written = 0;
  while (written < payload.size() && std::chrono::steady_clock::now() < deadline) {
    pollfd p{in[1], POLLOUT, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    if (p.revents & (POLLERR | POLLHUP)) break;  // it closed stdin: fine
    const ssize_t w = ::write(in[1], payload.data() + written, payload.size() - written);
    if (w > 0) written += static_cast<std::size_t>(w);
    else if (errno != EAGAIN && errno != EINTR) break;
  }
  ::close(in[1]);
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return make_error(ErrorKind::internal, "command: waitpid failed");
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return make_error(ErrorKind::unavailable, "command " + options_.argv[0] + " did not finish within " +
                                                    std::to_string(options_.timeout.count()) + " ms (killed)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ok_status();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return make_error(ErrorKind::invalid_argument, "command " + options_.argv[0] + " exited with 127 (not found)");
  return make_error(ErrorKind::unavailable,
                    "command " + options_.argv[0] +
                        (WIFEXITED(status) ? " exited with status " + std::to_string(WEXITSTATUS(status))
                                           : " was killed by signal " + std::to_string(WTERMSIG(status))));
}

}  // namespace thumbflow::monitoring
