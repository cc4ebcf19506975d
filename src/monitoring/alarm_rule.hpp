// Alarm rules, CloudWatch-like, and their evaluation: pure functions over datapoints and a
// clock value, so every statistic, the treatment of missing data and "M out of N" are tested
// without threads or sleeps.
//
// Semantics (docs/monitoring.md says the same for users):
// - Time is cut into periods aligned to the Unix epoch (multiples of period_ms). At time t the
//   rule looks at the evaluation_periods most recent *complete* periods; each has a value (the
//   statistic over its datapoints) or is missing (no datapoint).
// - A period breaches when `value <comparison> threshold`. Missing periods are treated as
//   breaching, not breaching, or left out (missing, ignore).
// - ALARM when at least datapoints_to_alarm of the counted periods breach; when fewer periods
//   than that have data (missing/ignore), ALARM when every one of them breaches. Otherwise OK.
//   With no period counted: INSUFFICIENT_DATA (missing) or the current state kept (ignore).
// - Actions fire on state changes only: one message when a rule enters ALARM and one when it
//   leaves it; INSUFFICIENT_DATA <-> OK changes are recorded in the history without a message.
//   While in ALARM, repeat_interval_ms > 0 sends a reminder that often.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace thumbflow::monitoring {

enum class AlarmState { ok, alarm, insufficient_data };
std::string_view to_string(AlarmState s);  // OK, ALARM, INSUFFICIENT_DATA
Result<AlarmState> parse_alarm_state(std::string_view s);

struct Statistic {
  enum class Kind { sum, average, minimum, maximum, sample_count, percentile };
  Kind kind = Kind::sum;
  double percentile = 99;  // for Kind::percentile: 0 < p <= 100
};
// sum, average, minimum, maximum, sample_count, or pNN / pNN.N (p99, p99.9); CloudWatch's
// capitalised names (Sum, Average, Minimum, Maximum, SampleCount) are accepted too.
Result<Statistic> parse_statistic(std::string_view s);
std::string to_string(const Statistic& s);
// The statistic over values (not empty). Percentiles use the nearest-rank method.
double compute_statistic(const Statistic& s, std::vector<double> values);

enum class Comparison { greater_or_equal, greater, less, less_or_equal };
// >=, >, <, <= or CloudWatch's GreaterThanOrEqualToThreshold, GreaterThanThreshold,
// LessThanThreshold, LessThanOrEqualToThreshold.
Result<Comparison> parse_comparison(std::string_view s);
std::string_view symbol(Comparison c);
std::string_view describe(Comparison c);  // "greater than or equal to"
bool breaches(Comparison c, double value, double threshold);

enum class MissingData { missing, ignore, breaching, not_breaching };
// missing, ignore, breaching, notBreaching (not_breaching accepted)
Result<MissingData> parse_missing_data(std::string_view s);
std::string_view to_string(MissingData m);

struct AlarmRule {
  std::string name;
  std::string description;
  std::string metric;                         // a registry family, e.g. thumbflow_images_failed_total
  std::map<std::string, std::string> labels;  // only datapoints with these label values count
  Statistic statistic;
  std::chrono::milliseconds period{60'000};
  int evaluation_periods = 1;
  int datapoints_to_alarm = 1;
  Comparison comparison = Comparison::greater_or_equal;
  double threshold = 1;
  MissingData missing_data = MissingData::not_breaching;
  std::chrono::milliseconds repeat_interval{0};  // 0: no reminders while in ALARM
  std::vector<std::string> notifiers;            // names; empty = every configured notifier
  // "sum(thumbflow_images_failed_total) >= 1 for 1 of 1 period of 60 s"
  std::string summary() const;
};

// The rule "image-processing-errors": any failed image within a minute.
AlarmRule default_failure_rule();

struct Sample {
  std::int64_t at_ms = 0;
  double value = 0;
};

struct PeriodValue {
  std::int64_t start_ms = 0, end_ms = 0;
  std::optional<double> value;  // nullopt: no datapoint in the period
  bool breaching = false;       // after the missing-data treatment
  bool counted = false;         // false for a missing period left out
};

struct Evaluation {
  AlarmState state = AlarmState::insufficient_data;
  std::vector<PeriodValue> periods;  // oldest first
  std::optional<double> value;       // the newest period's value, when it has one
  int breaching = 0, counted = 0;
  std::string reason;  // "Threshold crossed: 1 of the last 1 periods ... "
};

// Evaluates `rule` at now_ms over `samples` (already filtered by metric and labels; any order).
// `current` is kept for MissingData::ignore when no period has data.
Evaluation evaluate_rule(const AlarmRule& rule, std::span<const Sample> samples, std::int64_t now_ms, AlarmState current);

// The earliest time a sample can still matter to `rule` at now_ms.
std::int64_t window_start(const AlarmRule& rule, std::int64_t now_ms);

// What a rule remembers between evaluations (persisted in alarms.db).
struct RuleStatus {
  AlarmState state = AlarmState::insufficient_data;
  std::int64_t since_ms = 0;          // when it entered this state
  std::int64_t last_notified_ms = 0;  // last message (transition or reminder)
  std::optional<double> value;
  std::string reason;
};

enum class Action { none, notify_transition, notify_repeat };

struct Step {
  bool changed = false;
  AlarmState old_state = AlarmState::insufficient_data;
  Action action = Action::none;
};

// Applies an evaluation to a rule's status: records a change, decides whether a message goes
// out (entering or leaving ALARM; a reminder every repeat_interval while in ALARM).
Step advance(const AlarmRule& rule, RuleStatus& status, const Evaluation& evaluation, std::int64_t now_ms);

}  // namespace thumbflow::monitoring
