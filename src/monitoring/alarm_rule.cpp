#include "monitoring/alarm_rule.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace thumbflow::monitoring {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string clock_time(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

}  // namespace

std::string_view to_string(AlarmState s) {
  switch (s) {
    case AlarmState::ok: return "OK";
    case AlarmState::alarm: return "ALARM";
    case AlarmState::insufficient_data: return "INSUFFICIENT_DATA";
  }
  return "INSUFFICIENT_DATA";
}

Result<AlarmState> parse_alarm_state(std::string_view s) {
  if (s == "OK") return AlarmState::ok;
  if (s == "ALARM") return AlarmState::alarm;
  if (s == "INSUFFICIENT_DATA") return AlarmState::insufficient_data;
  return make_error(ErrorKind::invalid_argument, "unknown alarm state '" + std::string(s) + "'");
}

Result<Statistic> parse_statistic(std::string_view text) {
  const std::string s = lower(text);
  Statistic st;
  if (s == "sum") st.kind = Statistic::Kind::sum;
  else if (s == "average" || s == "avg") st.kind = Statistic::Kind::average;
  else if (s == "minimum" || s == "min") st.kind = Statistic::Kind::minimum;
  else if (s == "maximum" || s == "max") st.kind = Statistic::Kind::maximum;
  else if (s == "sample_count" || s == "samplecount") st.kind = Statistic::Kind::sample_count;
  else if (s.size() > 1 && s[0] == 'p') {
    double p = 0;
    auto [end, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), p);
    if (ec != std::errc() || end != s.data() + s.size() || !(p > 0 && p <= 100))
      return make_error(ErrorKind::invalid_argument, "'" + std::string(text) + "' is not a percentile p0..p100 (p99, p99.9)");
    st.kind = Statistic::Kind::percentile;
    st.percentile = p;
  } else {
    return make_error(ErrorKind::invalid_argument, "'" + std::string(text) +
                                                       "' is not a statistic (sum, average, minimum, maximum, "
                                                       "sample_count, p99...)");
  }
  return st;
}

std::string to_string(const Statistic& s) {
  switch (s.kind) {
    case Statistic::Kind::sum: return "sum";
    case Statistic::Kind::average: return "average";
    case Statistic::Kind::minimum: return "minimum";
    case Statistic::Kind::maximum: return "maximum";
    case Statistic::Kind::sample_count: return "sample_count";
    case Statistic::Kind::percentile: return "p" + number(s.percentile);
  }
  return "sum";
}

double compute_statistic(const Statistic& s, std::vector<double> values) {
  if (values.empty()) return std::nan("");
  switch (s.kind) {
    case Statistic::Kind::sum: {
      double sum = 0;
      for (double v : values) sum += v;
      return sum;
    }
    case Statistic::Kind::average: {
      double sum = 0;
      for (double v : values) sum += v;
      return sum / static_cast<double>(values.size());
    }
    case Statistic::Kind::minimum: return *std::min_element(values.begin(), values.end());
    case Statistic::Kind::maximum: return *std::max_element(values.begin(), values.end());
    case Statistic::Kind::sample_count: return static_cast<double>(values.size());
    case Statistic::Kind::percentile: {
      // Nearest rank: the smallest value with at least p% of the values at or below it.
      std::sort(values.begin(), values.end());
      // (The small epsilon keeps 99.9% of 1000 at rank 999 despite binary rounding.)
      const double rank = std::ceil(s.percentile / 100.0 * static_cast<double>(values.size()) - 1e-9);
      const auto index = static_cast<std::size_t>(std::max(1.0, rank)) - 1;
      return values[std::min(index, values.size() - 1)];
    }
  }
  return std::nan("");
}

Result<Comparison> parse_comparison(std::string_view s) {
  if (s == ">=" || s == "GreaterThanOrEqualToThreshold") return Comparison::greater_or_equal;
  if (s == ">" || s == "GreaterThanThreshold") return Comparison::greater;
  if (s == "<" || s == "LessThanThreshold") return Comparison::less;
  if (s == "<=" || s == "LessThanOrEqualToThreshold") return Comparison::less_or_equal;
  return make_error(ErrorKind::invalid_argument,
                    "'" + std::string(s) + "' is not a comparison (>=, >, <, <= or GreaterThanOrEqualToThreshold...)");
}

std::string_view symbol(Comparison c) {
  switch (c) {
    case Comparison::greater_or_equal: return ">=";
    case Comparison::greater: return ">";
    case Comparison::less: return "<";
    case Comparison::less_or_equal: return "<=";
  }
  return ">=";
}

std::string_view describe(Comparison c) {
  switch (c) {
    case Comparison::greater_or_equal: return "greater than or equal to";
    case Comparison::greater: return "greater than";
    case Comparison::less: return "less than";
    case Comparison::less_or_equal: return "less than or equal to";
  }
  return "";
}

bool breaches(Comparison c, double value, double threshold) {
  switch (c) {
    case Comparison::greater_or_equal: return value >= threshold;
    case Comparison::greater: return value > threshold;
    case Comparison::less: return value < threshold;
    case Comparison::less_or_equal: return value <= threshold;
  }
  return false;
}

Result<MissingData> parse_missing_data(std::string_view s) {
  if (s == "missing") return MissingData::missing;
  if (s == "ignore") return MissingData::ignore;
  if (s == "breaching") return MissingData::breaching;
  if (s == "notBreaching" || s == "not_breaching") return MissingData::not_breaching;
  return make_error(ErrorKind::invalid_argument,
                    "'" + std::string(s) + "' is not a missing-data treatment (missing, ignore, breaching, notBreaching)");
}

std::string_view to_string(MissingData m) {
  switch (m) {
    case MissingData::missing: return "missing";
    case MissingData::ignore: return "ignore";
    case MissingData::breaching: return "breaching";
    case MissingData::not_breaching: return "notBreaching";
  }
  return "missing";
}

std::string AlarmRule::summary() const {
  std::string label_text;
  for (const auto& [k, v] : labels) label_text += (label_text.empty() ? "{" : ",") + k + "=\"" + v + "\"";
  if (!label_text.empty()) label_text += "}";
  return to_string(statistic) + "(" + metric + label_text + ") " + std::string(symbol(comparison)) + " " +
         number(threshold) + " for " + std::to_string(datapoints_to_alarm) + " of " +
         std::to_string(evaluation_periods) + " period(s) of " + seconds_text(period);
}

AlarmRule default_failure_rule() {
  AlarmRule r;
  r.name = "image-processing-errors";
  r.description = "An uploaded image could not be processed";
  r.metric = "thumbflow_images_failed_total";
  r.statistic.kind = Statistic::Kind::sum;
  r.period = std::chrono::milliseconds(60'000);
  r.evaluation_periods = 1;
  r.datapoints_to_alarm = 1;
  r.comparison = Comparison::greater_or_equal;
  r.threshold = 1;
  r.missing_data = MissingData::not_breaching;
  return r;
}

std::int64_t window_start(const AlarmRule& rule, std::int64_t now_ms) {
  const std::int64_t p = std::max<std::int64_t>(1, rule.period.count());
  const std::int64_t end = now_ms / p * p;
  return end - p * rule.evaluation_periods;
}

Evaluation evaluate_rule(const AlarmRule& rule, std::span<const Sample> samples, std::int64_t now_ms, AlarmState current) {
  Evaluation e;
  const std::int64_t p = std::max<std::int64_t>(1, rule.period.count());
  const int n = std::max(1, rule.evaluation_periods);
  const int m = std::clamp(rule.datapoints_to_alarm, 1, n);
  const std::int64_t end = now_ms / p * p;
  std::vector<std::vector<double>> buckets(static_cast<std::size_t>(n));
  const std::int64_t start = end - p * n;
  for (const Sample& s : samples) {
    if (s.at_ms < start || s.at_ms >= end) continue;
    buckets[static_cast<std::size_t>((s.at_ms - start) / p)].push_back(s.value);
  }
  std::string points;
  for (int i = 0; i < n; ++i) {
    PeriodValue pv;
    pv.start_ms = start + p * i;
    pv.end_ms = pv.start_ms + p;
    auto& values = buckets[static_cast<std::size_t>(i)];
    if (!values.empty()) {
      pv.value = compute_statistic(rule.statistic, std::move(values));
      pv.counted = true;
      pv.breaching = breaches(rule.comparison, *pv.value, rule.threshold);
    } else if (rule.missing_data == MissingData::breaching) {
      pv.counted = true;
      pv.breaching = true;
    } else if (rule.missing_data == MissingData::not_breaching) {
      pv.counted = true;
    }
    if (pv.counted) ++e.counted;
    if (pv.breaching) ++e.breaching;
    if (!points.empty()) points += ", ";
    points += (pv.value ? number(*pv.value) : std::string("missing")) + " (" + clock_time(pv.start_ms) + ")";
    e.periods.push_back(pv);
  }
  e.value = e.periods.back().value;
  const std::string threshold_text =
      " " + std::string(describe(rule.comparison)) + " the threshold (" + number(rule.threshold) + ")";
  if (e.counted == 0) {
    e.state = rule.missing_data == MissingData::ignore ? current : AlarmState::insufficient_data;
    e.reason = "No data in the last " + std::to_string(n) + " period(s) of " + seconds_text(rule.period) +
               (rule.missing_data == MissingData::ignore ? " (missing data ignored: state kept)" : "");
    return e;
  }
  const bool alarm = e.breaching >= std::min(m, e.counted) && e.breaching > 0;
  e.state = alarm ? AlarmState::alarm : AlarmState::ok;
  e.reason = std::string(alarm ? "Threshold crossed: " : "Threshold not crossed: ") + std::to_string(e.breaching) +
             " of the last " + std::to_string(n) + " period(s) of " + seconds_text(rule.period) + " [" + points + "] " +
             (e.breaching == 1 ? "was" : "were") + threshold_text + " (" + std::to_string(m) + " needed)";
  return e;
}

Step advance(const AlarmRule& rule, RuleStatus& status, const Evaluation& evaluation, std::int64_t now_ms) {
  Step step;
  step.old_state = status.state;
  status.value = evaluation.value;
  if (evaluation.state != status.state) {
    step.changed = true;
    status.state = evaluation.state;
    status.since_ms = now_ms;
    status.reason = evaluation.reason;
    if (step.old_state == AlarmState::alarm || status.state == AlarmState::alarm) {
      step.action = Action::notify_transition;
      status.last_notified_ms = now_ms;
    }
    return step;
  }
  status.reason = evaluation.reason;
  if (status.state == AlarmState::alarm && rule.repeat_interval.count() > 0 &&
      now_ms - status.last_notified_ms >= rule.repeat_interval.count()) {
    step.action = Action::notify_repeat;
    status.last_notified_ms = now_ms;
  }
  return step;
}

}  // namespace thumbflow::monitoring
