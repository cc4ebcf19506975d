#include <gtest/gtest.h>

#include "config/config.hpp"
#include "monitoring/alarm_rule.hpp"
#include "monitoring/monitor.hpp"

namespace thumbflow::monitoring {
namespace {

Statistic stat(const char* s) {
  auto r = parse_statistic(s);
  EXPECT_TRUE(r.ok()) << s;
  return r.ok() ? *r : Statistic{};
}

AlarmRule rule(int periods = 1, int to_alarm = 1, MissingData missing = MissingData::not_breaching) {
  AlarmRule r;
  r.name = "r";
  r.metric = "m";
  r.period = std::chrono::milliseconds(10'000);
  r.evaluation_periods = periods;
  r.datapoints_to_alarm = to_alarm;
  r.comparison = Comparison::greater_or_equal;
  r.threshold = 1;
  r.missing_data = missing;
  return r;
}

// now = 100 s: the complete periods of 10 s are [90,100), [80,90), ... A sample at second s.
constexpr std::int64_t kNow = 100'000;
Sample at(double seconds, double value = 1) { return {static_cast<std::int64_t>(seconds * 1000), value}; }

}  // namespace

TEST(Statistic, every_statistic_over_the_same_values) {
  const std::vector<double> v = {4, 1, 3, 2, 10};
  EXPECT_DOUBLE_EQ(compute_statistic(stat("sum"), v), 20);
  EXPECT_DOUBLE_EQ(compute_statistic(stat("average"), v), 4);
  EXPECT_DOUBLE_EQ(compute_statistic(stat("minimum"), v), 1);
  EXPECT_DOUBLE_EQ(compute_statistic(stat("maximum"), v), 10);
  EXPECT_DOUBLE_EQ(compute_statistic(stat("sample_count"), v), 5);
  EXPECT_DOUBLE_EQ(compute_statistic(stat("p50"), v), 3);
  EXPECT_DOUBLE_EQ(compute_statistic(stat("p99"), v), 10);
}

TEST(Statistic, p99_is_the_nearest_rank_over_many_values) {
  std::vector<double> v;
  for (int i = 1; i <= 1000; ++i) v.push_back(i);
  EXPECT_DOUBLE_EQ(compute_statistic(stat("p99"), v), 990);
  EXPECT_DOUBLE_EQ(compute_statistic(stat("p99.9"), v), 999);
  EXPECT_DOUBLE_EQ(compute_statistic(stat("p100"), v), 1000);
  EXPECT_DOUBLE_EQ(compute_statistic(stat("p0.1"), v), 1);
}

TEST(Statistic, names_cloudwatch_names_and_bad_names) {
  EXPECT_EQ(stat("Sum").kind, Statistic::Kind::sum);
  EXPECT_EQ(stat("SampleCount").kind, Statistic::Kind::sample_count);
  EXPECT_EQ(to_string(stat("p99")), "p99");
  EXPECT_EQ(to_string(stat("p99.9")), "p99.9");
  EXPECT_FALSE(parse_statistic("median").ok());
  EXPECT_FALSE(parse_statistic("p0").ok());
  EXPECT_FALSE(parse_statistic("p101").ok());
  EXPECT_FALSE(parse_statistic("p9x").ok());
  EXPECT_TRUE(parse_comparison("GreaterThanOrEqualToThreshold").ok());
  EXPECT_FALSE(parse_comparison("==").ok());
  EXPECT_TRUE(parse_missing_data("notBreaching").ok());
  EXPECT_FALSE(parse_missing_data("zero").ok());
}

TEST(Comparison, each_operator_at_the_threshold_and_either_side) {
  EXPECT_TRUE(breaches(Comparison::greater_or_equal, 1, 1));
  EXPECT_FALSE(breaches(Comparison::greater_or_equal, 0.99, 1));
  EXPECT_FALSE(breaches(Comparison::greater, 1, 1));
  EXPECT_TRUE(breaches(Comparison::greater, 1.01, 1));
  EXPECT_FALSE(breaches(Comparison::less, 1, 1));
  EXPECT_TRUE(breaches(Comparison::less, 0.5, 1));
  EXPECT_TRUE(breaches(Comparison::less_or_equal, 1, 1));
  EXPECT_FALSE(breaches(Comparison::less_or_equal, 1.5, 1));
}

TEST(Evaluate, one_failure_in_the_last_complete_period_alarms_and_the_period_in_progress_does_not_count) {
  const AlarmRule r = rule();
  std::vector<Sample> s = {at(95)};
  auto e = evaluate_rule(r, s, kNow, AlarmState::ok);
  EXPECT_EQ(e.state, AlarmState::alarm) << e.reason;
  ASSERT_TRUE(e.value);
  EXPECT_EQ(*e.value, 1);
  EXPECT_NE(e.reason.find("greater than or equal to the threshold (1)"), std::string::npos) << e.reason;
  // The same failure in the period still running is not looked at yet (CloudWatch does the same).
  s = {at(100.5)};
  EXPECT_EQ(evaluate_rule(r, s, kNow + 600, AlarmState::ok).state, AlarmState::ok);
  // Nor is one older than the window.
  s = {at(85)};
  EXPECT_EQ(evaluate_rule(r, s, kNow, AlarmState::ok).state, AlarmState::ok);
}

TEST(Evaluate, the_statistic_decides_whether_a_period_breaches) {
  AlarmRule r = rule();
  r.threshold = 2;
  r.comparison = Comparison::greater;
  const std::vector<Sample> s = {at(91, 1), at(92, 1), at(93, 2.5)};
  r.statistic = stat("sum");
  EXPECT_EQ(evaluate_rule(r, s, kNow, AlarmState::ok).state, AlarmState::alarm);  // 4.5 > 2
  r.statistic = stat("average");
  EXPECT_EQ(evaluate_rule(r, s, kNow, AlarmState::ok).state, AlarmState::ok);  // 1.5
  r.statistic = stat("maximum");
  EXPECT_EQ(evaluate_rule(r, s, kNow, AlarmState::ok).state, AlarmState::alarm);  // 2.5
  r.statistic = stat("minimum");
  EXPECT_EQ(evaluate_rule(r, s, kNow, AlarmState::ok).state, AlarmState::ok);  // 1
  r.statistic = stat("sample_count");
  EXPECT_EQ(evaluate_rule(r, s, kNow, AlarmState::ok).state, AlarmState::alarm);  // 3
  r.statistic = stat("p99");
  auto e = evaluate_rule(r, s, kNow, AlarmState::ok);
  EXPECT_EQ(e.state, AlarmState::alarm);
  EXPECT_DOUBLE_EQ(*e.value, 2.5);
}

TEST(Evaluate, m_out_of_n_periods_must_breach) {
  const AlarmRule r = rule(3, 2);
  // Periods [70,80) [80,90) [90,100): one breaching of three is not enough...
  std::vector<Sample> s = {at(75, 0), at(85, 0), at(95, 1)};
  auto e = evaluate_rule(r, s, kNow, AlarmState::ok);
  EXPECT_EQ(e.state, AlarmState::ok) << e.reason;
  EXPECT_EQ(e.breaching, 1);
  // ...two are, in any order.
  s = {at(75, 1), at(85, 0), at(95, 1)};
  e = evaluate_rule(r, s, kNow, AlarmState::ok);
  EXPECT_EQ(e.state, AlarmState::alarm) << e.reason;
  EXPECT_EQ(e.periods.size(), 3u);
  EXPECT_TRUE(e.periods[0].breaching);
  EXPECT_FALSE(e.periods[1].breaching);
  EXPECT_EQ(e.periods[0].start_ms, 70'000);
}

TEST(Evaluate, missing_data_treatments) {
  const std::vector<Sample> none;
  EXPECT_EQ(evaluate_rule(rule(2, 1, MissingData::missing), none, kNow, AlarmState::ok).state,
            AlarmState::insufficient_data);
  EXPECT_EQ(evaluate_rule(rule(2, 1, MissingData::ignore), none, kNow, AlarmState::alarm).state, AlarmState::alarm)
      << "ignore keeps the current state";
  EXPECT_EQ(evaluate_rule(rule(2, 1, MissingData::ignore), none, kNow, AlarmState::ok).state, AlarmState::ok);
  EXPECT_EQ(evaluate_rule(rule(2, 1, MissingData::breaching), none, kNow, AlarmState::ok).state, AlarmState::alarm);
  EXPECT_EQ(evaluate_rule(rule(2, 1, MissingData::not_breaching), none, kNow, AlarmState::alarm).state, AlarmState::ok);

  // Some data: missing periods count as breaching or not, or are left out.
  const std::vector<Sample> one_ok = {at(95, 0)};
  EXPECT_EQ(evaluate_rule(rule(2, 2, MissingData::breaching), one_ok, kNow, AlarmState::ok).state, AlarmState::ok);
  EXPECT_EQ(evaluate_rule(rule(2, 1, MissingData::breaching), one_ok, kNow, AlarmState::ok).state, AlarmState::alarm);
  EXPECT_EQ(evaluate_rule(rule(2, 1, MissingData::missing), one_ok, kNow, AlarmState::alarm).state, AlarmState::ok);
  // Fewer periods with data than datapoints_to_alarm: every one of them breaching is enough.
  const std::vector<Sample> one_bad = {at(95, 5)};
  EXPECT_EQ(evaluate_rule(rule(3, 3, MissingData::missing), one_bad, kNow, AlarmState::ok).state, AlarmState::alarm);
  EXPECT_EQ(evaluate_rule(rule(3, 3, MissingData::not_breaching), one_bad, kNow, AlarmState::ok).state, AlarmState::ok);
  const std::vector<Sample> mixed = {at(85, 0), at(95, 5)};
  EXPECT_EQ(evaluate_rule(rule(3, 3, MissingData::missing), mixed, kNow, AlarmState::ok).state, AlarmState::ok);
}

TEST(Advance, messages_go_out_on_entering_and_leaving_alarm_only) {
  const AlarmRule r = rule();
  RuleStatus st;  // INSUFFICIENT_DATA
  Evaluation ok;
  ok.state = AlarmState::ok;
  Evaluation alarm;
  alarm.state = AlarmState::alarm;
  alarm.value = 3;
  auto s = advance(r, st, ok, 1000);
  EXPECT_TRUE(s.changed);
  EXPECT_EQ(s.action, Action::none) << "INSUFFICIENT_DATA -> OK is recorded, not announced";
  s = advance(r, st, ok, 2000);
  EXPECT_FALSE(s.changed);
  EXPECT_EQ(s.action, Action::none);
  s = advance(r, st, alarm, 3000);
  EXPECT_TRUE(s.changed);
  EXPECT_EQ(s.old_state, AlarmState::ok);
  EXPECT_EQ(s.action, Action::notify_transition);
  EXPECT_EQ(st.since_ms, 3000);
  EXPECT_EQ(*st.value, 3);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(advance(r, st, alarm, 4000 + i * 1000).action, Action::none) << "one message per change";
  s = advance(r, st, ok, 10'000);
  EXPECT_EQ(s.action, Action::notify_transition);
  EXPECT_EQ(s.old_state, AlarmState::alarm);
  Evaluation insufficient;
  s = advance(r, st, alarm, 11'000);
  s = advance(r, st, insufficient, 12'000);
  EXPECT_EQ(s.action, Action::notify_transition) << "leaving ALARM for INSUFFICIENT_DATA is announced";
}

TEST(Advance, a_repeat_interval_reminds_while_in_alarm) {
  AlarmRule r = rule();
  r.repeat_interval = std::chrono::milliseconds(5000);
  RuleStatus st;
  Evaluation alarm;
  alarm.state = AlarmState::alarm;
  EXPECT_EQ(advance(r, st, alarm, 10'000).action, Action::notify_transition);
  EXPECT_EQ(advance(r, st, alarm, 12'000).action, Action::none);
  EXPECT_EQ(advance(r, st, alarm, 14'999).action, Action::none);
  EXPECT_EQ(advance(r, st, alarm, 15'000).action, Action::notify_repeat);
  EXPECT_EQ(advance(r, st, alarm, 16'000).action, Action::none);
  EXPECT_EQ(advance(r, st, alarm, 20'000).action, Action::notify_repeat);
  Evaluation ok;
  ok.state = AlarmState::ok;
  EXPECT_EQ(advance(r, st, ok, 21'000).action, Action::notify_transition);
  EXPECT_EQ(advance(r, st, ok, 40'000).action, Action::none) << "no reminders in OK";
}

TEST(RuleFromConfig, every_value_the_configuration_accepts_parses_in_monitoring) {
  config::AlarmRuleConfig c;
  for (const char* s : {"sum", "average", "minimum", "maximum", "sample_count", "Sum", "Average", "Minimum", "Maximum",
                        "SampleCount", "p99", "p99.9", "p50"}) {
    c.statistic = s;
    EXPECT_TRUE(rule_from_config(c, 0).ok()) << s;
  }
  c.statistic = "sum";
  for (const char* s : {">=", ">", "<", "<=", "GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
                        "LessThanOrEqualToThreshold"}) {
    c.comparison = s;
    EXPECT_TRUE(rule_from_config(c, 0).ok()) << s;
  }
  c.comparison = ">=";
  for (const char* s : {"missing", "ignore", "breaching", "notBreaching", "not_breaching"}) {
    c.treat_missing_data = s;
    EXPECT_TRUE(rule_from_config(c, 0).ok()) << s;
  }
  // The default configuration's rule is the documented default rule.
  auto r = rule_from_config(config::AlarmRuleConfig{}, 0);
  ASSERT_TRUE(r.ok());
  const AlarmRule d = default_failure_rule();
  EXPECT_EQ(r->name, d.name);
  EXPECT_EQ(r->metric, d.metric);
  EXPECT_EQ(r->period, d.period);
  EXPECT_EQ(r->missing_data, d.missing_data);
  EXPECT_EQ(r->comparison, d.comparison);
  EXPECT_EQ(r->threshold, d.threshold);
  EXPECT_EQ(r->summary(), "sum(thumbflow_images_failed_total) >= 1 for 1 of 1 period(s) of 60 s");
}

}  // namespace thumbflow::monitoring
