// What an alarm message says, independent of how it travels: the alarm, the state change, the
// value against the threshold, why, and the most recent failed objects with their error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "monitoring/alarm_rule.hpp"

namespace thumbflow::monitoring {

struct FailedObject {
  std::int64_t at_ms = 0;
  std::string uri;         // s3://bucket/key
  std::string error_kind;  // corrupt, unsupported_format, ...
  std::string message;
};

enum class NotificationKind { transition, repeat, test };
std::string_view to_string(NotificationKind k);

struct Notification {
  NotificationKind kind = NotificationKind::transition;
  std::string alarm;
  std::string description;
  std::string rule_summary;  // AlarmRule::summary()
  AlarmState old_state = AlarmState::insufficient_data;
  AlarmState new_state = AlarmState::insufficient_data;
  std::optional<double> value;
  double threshold = 0;
  std::string comparison;  // ">="
  std::string reason;
  std::int64_t at_ms = 0;
  std::vector<FailedObject> recent_failures;  // newest first
  std::string host;                           // which machine sent it
  std::int64_t history_id = 0;                // the alarms.db history row it belongs to
};

Notification make_notification(const AlarmRule& rule, NotificationKind kind, AlarmState old_state,
                               const RuleStatus& status, std::int64_t at_ms);

// "[thumbflow] ALARM: image-processing-errors (OK -> ALARM)"
std::string subject(const Notification& n);
// Plain text, several lines: for mail bodies, SNS messages, Slack's `text`.
std::string text_body(const Notification& n);
// {"text": <subject + body>, "alarm": ..., "oldState": ..., "newState": ..., "value": ...,
//  "threshold": ..., "reason": ..., "time": ..., "recentFailures": [...]}
std::string json_payload(const Notification& n);
std::string iso_time(std::int64_t unix_ms);
std::string host_name();

}  // namespace thumbflow::monitoring
