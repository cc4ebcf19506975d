#include "monitoring/notification.hpp"

#include <unistd.h>

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace thumbflow::monitoring {

std::string_view to_string(NotificationKind k) {
  switch (k) {
    case NotificationKind::transition: return "transition";
    case NotificationKind::repeat: return "repeat";
    case NotificationKind::test: return "test";
  }
  return "transition";
}

std::string iso_time(std::int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(unix_ms % 1000));
  return out;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

Notification make_notification(const AlarmRule& rule, NotificationKind kind, AlarmState old_state,
                               const RuleStatus& status, std::int64_t at_ms) {
  Notification n;
  n.kind = kind;
  n.alarm = rule.name;
  n.description = rule.description;
  n.rule_summary = rule.summary();
  n.old_state = old_state;
  n.new_state = status.state;
  n.value = status.value;
  n.threshold = rule.threshold;
  n.comparison = std::string(symbol(rule.comparison));
  n.reason = status.reason;
  n.at_ms = at_ms;
  n.host = host_name();
  return n;
}

namespace {
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

std::string subject(const Notification& n) {
  std::string s = "[thumbflow] ";
  switch (n.kind) {
    case NotificationKind::test: s += "TEST: "; break;
    case NotificationKind::repeat: s += "STILL "; break;
    case NotificationKind::transition: break;
  }
  s += std::string(to_string(n.new_state)) + ": " + n.alarm;
  if (n.kind == NotificationKind::transition)
    s += " (" + std::string(to_string(n.old_state)) + " -> " + std::string(to_string(n.new_state)) + ")";
  return s;
}

std::string text_body(const Notification& n) {
  std::string b;
  if (n.kind == NotificationKind::test)
    b += "This is a test notification sent by `thumbflow alarms test`; nothing is wrong.\n\n";
  b += "Alarm:      " + n.alarm + "\n";
  if (!n.description.empty()) b += "About:      " + n.description + "\n";
  b += "State:      " + std::string(to_string(n.old_state)) + " -> " + std::string(to_string(n.new_state)) + "\n";
  b += "Rule:       " + n.rule_summary + "\n";
  b += "Value:      " + (n.value ? number(*n.value) : std::string("no data")) + " (threshold " + n.comparison + " " +
       number(n.threshold) + ")\n";
  b += "Reason:     " + n.reason + "\n";
  b += "Time:       " + iso_time(n.at_ms) + "\n";
  b += "Host:       " + n.host + "\n";
  if (!n.recent_failures.empty()) {
    b += "\nMost recent failed objects (newest first):\n";
    for (const auto& f : n.recent_failures)
      b += "  " + f.uri + "  " + f.error_kind + ": " + f.message + "  (" + iso_time(f.at_ms) + ")\n";
  }
  return b;
}

std::string json_payload(const Notification& n) {
  nlohmann::json failures = nlohmann::json::array();
  for (const auto& f : n.recent_failures)
    failures.push_back({{"object", f.uri}, {"errorKind", f.error_kind}, {"error", f.message}, {"time", iso_time(f.at_ms)}});
  nlohmann::json j = {{"text", subject(n) + "\n" + text_body(n)},
                      {"kind", to_string(n.kind)},
                      {"alarm", n.alarm},
                      {"description", n.description},
                      {"rule", n.rule_summary},
                      {"oldState", to_string(n.old_state)},
                      {"newState", to_string(n.new_state)},
                      {"threshold", n.threshold},
                      {"comparison", n.comparison},
                      {"reason", n.reason},
                      {"time", iso_time(n.at_ms)},
                      {"host", n.host},
                      {"recentFailures", failures}};
  j["value"] = n.value ? nlohmann::json(*n.value) : nlohmann::json(nullptr);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace thumbflow::monitoring
