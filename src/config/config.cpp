#include "config/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <type_traits>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <toml.hpp>

extern char** environ;

namespace thumbflow::config {
namespace {

enum class Type { string, integer, boolean, list };

struct Field {
  const char* path;  // "section.field"
  Type type;
  std::function<Status(Config&, const std::string&)> set;
  const char* alias = nullptr;  // an extra environment variable name
};

Error field_error(const std::string& path, const std::string& why) {
  return make_error(ErrorKind::invalid_argument, "configuration field '" + path + "': " + why);
}

template <typename T>
Status parse_uint(const std::string& path, const std::string& text, T& out, std::uint64_t max) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty())
    return field_error(path, "'" + text + "' is not a non-negative whole number");
  if (v > max) return field_error(path, std::to_string(v) + " is over the maximum of " + std::to_string(max));
  out = static_cast<T>(v);
  return ok_status();
}

Status parse_bool(const std::string& path, const std::string& text, bool& out) {
  if (text == "true" || text == "1" || text == "yes") out = true;
  else if (text == "false" || text == "0" || text == "no") out = false;
  else return field_error(path, "'" + text + "' is not true or false");
  return ok_status();
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) if (!item.empty()) out.push_back(item);
  return out;
}

// Lists travel as strings joined by '\x1f' internally (from TOML arrays) or ',' (from the
// environment).
std::vector<std::string> list_value(const std::string& text) {
  if (text.find('\x1f') != std::string::npos || text.empty()) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, '\x1f')) out.push_back(item);
    return out;
  }
  return split_list(text);
}

#define STR(path, member) \
  Field { path, Type::string, [](Config& c, const std::string& text) { c.member = text; return ok_status(); } }
#define UINT(path, member, max)                                                       \
  Field {                                                                            \
    path, Type::integer, [](Config& c, const std::string& text) { return parse_uint(path, text, c.member, max); } \
  }
#define BOOL(path, member) \
  Field { path, Type::boolean, [](Config& c, const std::string& text) { return parse_bool(path, text, c.member); } }

const std::vector<Field>& fields() {
  static const std::vector<Field> f = [] {
    std::vector<Field> all = {
        STR("server.data", server.data),
        STR("server.s3_listen", server.s3_listen),
        STR("server.console_listen", server.console_listen),
        STR("server.bucket", server.bucket),
        STR("storage.kind", storage.kind),
        STR("storage.endpoint", storage.endpoint),
        STR("storage.region", storage.region),
        BOOL("storage.path_style", storage.path_style),
        STR("catalog.kind", catalog.kind),
        STR("catalog.table", catalog.table),
        STR("catalog.endpoint", catalog.endpoint),
        STR("catalog.region", catalog.region),
        STR("trigger.input_prefix", trigger.input_prefix),
        STR("trigger.output_prefix", trigger.output_prefix),
        Field{"trigger.suffixes", Type::list,
              [](Config& c, const std::string& text) {
                c.trigger.suffixes = list_value(text);
                return ok_status();
              }},
        UINT("limits.max_pixels", limits.max_pixels, 10'000'000'000ULL),
        UINT("limits.max_source_bytes", limits.max_source_bytes, 5ULL << 30),
        UINT("limits.max_dimension", limits.max_dimension, 1'000'000ULL),
        UINT("limits.max_frames", limits.max_frames, 1'000'000ULL),
        UINT("limits.max_jpeg_scans", limits.max_jpeg_scans, 1'000'000ULL),
        UINT("workers.min", workers.min, 1024),
        UINT("workers.max", workers.max, 1024),
        UINT("workers.idle_timeout_ms", workers.idle_timeout_ms, 86'400'000ULL),
        UINT("workers.scale_up_age_ms", workers.scale_up_age_ms, 86'400'000ULL),
        UINT("workers.max_attempts", workers.max_attempts, 100),
        UINT("workers.lease_ms", workers.lease_ms, 86'400'000ULL),
        UINT("workers.backoff_base_ms", workers.backoff_base_ms, 86'400'000ULL),
        UINT("workers.backoff_max_ms", workers.backoff_max_ms, 86'400'000ULL),
        STR("output.cache_control", cache_control),
        UINT("metrics.max_label_sets", metrics.max_label_sets, 1'000'000ULL),
        BOOL("alarms.enabled", alarms.enabled),
        UINT("alarms.evaluation_interval_ms", alarms.evaluation_interval_ms, 86'400'000ULL),
        UINT("alarms.recent_failures", alarms.recent_failures, 1000),
        UINT("alarms.max_datapoints", alarms.max_datapoints, 10'000'000ULL),
        UINT("alarms.history_limit", alarms.history_limit, 10'000'000ULL),
        UINT("notify.max_attempts", notify.max_attempts, 100),
        UINT("notify.backoff_base_ms", notify.backoff_base_ms, 86'400'000ULL),
        UINT("notify.backoff_max_ms", notify.backoff_max_ms, 86'400'000ULL),
        UINT("notify.queue_capacity", notify.queue_capacity, 1'000'000ULL),
        UINT("notify.timeout_ms", notify.timeout_ms, 3'600'000ULL),
        STR("notify.email.url", notify.email.url),
        STR("notify.email.starttls", notify.email.starttls),
        BOOL("notify.email.verify_tls", notify.email.verify_tls),
        STR("notify.email.username", notify.email.username),
        STR("notify.email.password", notify.email.password),
        STR("notify.email.from", notify.email.from),
        Field{"notify.email.to", Type::list,
              [](Config& c, const std::string& text) {
                c.notify.email.to = list_value(text);
                return ok_status();
              }},
        STR("notify.webhook.url", notify.webhook.url),
        BOOL("notify.webhook.verify_tls", notify.webhook.verify_tls),
        STR("notify.sns.topic_arn", notify.sns.topic_arn),
        STR("notify.sns.region", notify.sns.region),
        STR("notify.sns.endpoint", notify.sns.endpoint),
        Field{"notify.command.argv", Type::list,
              [](Config& c, const std::string& text) {
                c.notify.command.argv = list_value(text);
                return ok_status();
              }},
    };
    auto alias = [&](const char* path, const char* name) {
      for (auto& field : all)
        if (std::string(field.path) == path) field.alias = name;
    };
    // The short names the Lambda home documents.
    alias("catalog.table", "THUMBFLOW_TABLE");
    alias("storage.endpoint", "THUMBFLOW_S3_ENDPOINT");
    alias("catalog.endpoint", "THUMBFLOW_DYNAMODB_ENDPOINT");
    alias("server.data", "THUMBFLOW_DATA");
    alias("trigger.output_prefix", "THUMBFLOW_OUTPUT_PREFIX");
    return all;
  }();
  return f;
}

std::string env_name(const std::string& path) {
  std::string n = "THUMBFLOW_";
  for (char c : path) n += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return n;
}

// A scalar TOML value as the text a field parser reads, with a type check.
Result<std::string> scalar_text(const std::string& path, const toml::value& v, Type type) {
  switch (type) {
    case Type::string:
      if (!v.is_string()) return field_error(path, "must be a string");
      return std::string(v.as_string().str);
    case Type::integer:
      if (!v.is_integer()) return field_error(path, "must be a whole number");
      if (v.as_integer() < 0) return field_error(path, "must not be negative");
      return std::to_string(v.as_integer());
    case Type::boolean:
      if (!v.is_boolean()) return field_error(path, "must be true or false");
      return std::string(v.as_boolean() ? "true" : "false");
    case Type::list: {
      if (!v.is_array()) return field_error(path, "must be an array of strings");
      std::string joined;
      for (const auto& item : v.as_array()) {
        if (!item.is_string()) return field_error(path, "must be an array of strings");
        if (!joined.empty()) joined += '\x1f';
        joined += item.as_string().str;
      }
      return joined;
    }
  }
  return std::string();
}

Result<RenditionSpec> parse_rendition(const toml::value& t, std::size_t index) {
  std::string base = "renditions[" + std::to_string(index) + "]";
  if (!t.is_table()) return field_error(base, "must be a table");
  RenditionSpec r;
  if (index > 0) r.name.clear();
  for (const auto& [key, value] : t.as_table()) {
    std::string path = base + "." + key;
    if (key == "name") {
      if (!value.is_string()) return field_error(path, "must be a string");
      r.name = value.as_string().str;
    } else if (key == "width" || key == "height" || key == "quality") {
      if (!value.is_integer() || value.as_integer() < 1) return field_error(path, "must be a positive whole number");
      auto n = value.as_integer();
      if (key == "quality" && n > 100) return field_error(path, "must be 1..100");
      if (n > 32767) return field_error(path, "must be at most 32767");
      if (key == "width") r.width = static_cast<std::uint32_t>(n);
      if (key == "height") r.height = static_cast<std::uint32_t>(n);
      if (key == "quality") r.quality = static_cast<int>(n);
    } else if (key == "format") {
      if (!value.is_string()) return field_error(path, "must be a string");
      auto f = parse_output_format(value.as_string().str);
      if (!f) return field_error(path, f.error().message);
      r.format = *f;
    } else if (key == "upscale") {
      if (!value.is_boolean()) return field_error(path, "must be true or false");
      r.upscale = value.as_boolean();
    } else if (key == "background") {
      if (!value.is_string()) return field_error(path, "must be a string");
      auto c = parse_rgb(value.as_string().str);
      if (!c) return field_error(path, c.error().message);
      r.background = *c;
    } else {
      return field_error(path, "unknown field (known: name, width, height, format, quality, upscale, background)");
    }
  }
  if (r.name.empty()) return field_error(base + ".name", "every rendition after the first needs a name");
  return r;
}

// "name:WxH:format[:quality]" entries separated by ','.
Result<std::vector<RenditionSpec>> parse_renditions_env(const std::string& text) {
  std::vector<RenditionSpec> out;
  for (const auto& item : split_list(text)) {
    std::vector<std::string> parts;
    std::stringstream ss(item);
    std::string p;
    while (std::getline(ss, p, ':')) parts.push_back(p);
    if (parts.size() < 3 || parts.size() > 4)
      return field_error("THUMBFLOW_RENDITIONS", "'" + item + "' is not name:WxH:format[:quality]");
    RenditionSpec r;
    r.name = parts[0];
    auto size = parse_size(parts[1]);
    if (!size) return field_error("THUMBFLOW_RENDITIONS", size.error().message);
    r.width = size->width;
    r.height = size->height;
    auto f = parse_output_format(parts[2]);
    if (!f) return field_error("THUMBFLOW_RENDITIONS", f.error().message);
    r.format = *f;
    if (parts.size() == 4) {
      if (auto st = parse_uint("THUMBFLOW_RENDITIONS", parts[3], r.quality, 100); !st) return st.error();
    }
    out.push_back(r);
  }
  if (out.empty()) return field_error("THUMBFLOW_RENDITIONS", "no rendition given");
  return out;
}

Result<AlarmRuleConfig> parse_alarm_rule(const toml::value& t, std::size_t index) {
  const std::string base = "alarms.rules[" + std::to_string(index) + "]";
  if (!t.is_table()) return field_error(base, "must be a table ([[alarms.rules]])");
  AlarmRuleConfig r;
  r.name.clear();
  r.description.clear();
  r.metric.clear();
  auto text = [&](const std::string& path, const toml::value& v, std::string& out) -> Status {
    if (!v.is_string()) return field_error(path, "must be a string");
    out = v.as_string().str;
    return ok_status();
  };
  auto whole = [&](const std::string& path, const toml::value& v, auto& out, std::int64_t min, std::int64_t max) -> Status {
    if (!v.is_integer()) return field_error(path, "must be a whole number");
    const auto n = v.as_integer();
    if (n < min || n > max)
      return field_error(path, "must be " + std::to_string(min) + ".." + std::to_string(max) + ", not " + std::to_string(n));
    out = static_cast<std::remove_reference_t<decltype(out)>>(n);
    return ok_status();
  };
  for (const auto& [key, value] : t.as_table()) {
    const std::string path = base + "." + key;
    Status st = ok_status();
    if (key == "name") st = text(path, value, r.name);
    else if (key == "description") st = text(path, value, r.description);
    else if (key == "metric") st = text(path, value, r.metric);
    else if (key == "statistic") st = text(path, value, r.statistic);
    else if (key == "comparison") st = text(path, value, r.comparison);
    else if (key == "treat_missing_data") st = text(path, value, r.treat_missing_data);
    else if (key == "period_ms") st = whole(path, value, r.period_ms, 1, 86'400'000);
    else if (key == "evaluation_periods") st = whole(path, value, r.evaluation_periods, 1, 1000);
    else if (key == "datapoints_to_alarm") st = whole(path, value, r.datapoints_to_alarm, 1, 1000);
    else if (key == "repeat_interval_ms") st = whole(path, value, r.repeat_interval_ms, 0, 86'400'000);
    else if (key == "threshold") {
      if (value.is_integer()) r.threshold = static_cast<double>(value.as_integer());
      else if (value.is_floating()) r.threshold = value.as_floating();
      else st = field_error(path, "must be a number");
    } else if (key == "labels") {
      if (!value.is_table()) {
        st = field_error(path, "must be a table of strings, e.g. { kind = \"corrupt\" }");
      } else {
        for (const auto& [lk, lv] : value.as_table()) {
          if (!lv.is_string()) {
            st = field_error(path + "." + lk, "must be a string");
            break;
          }
          r.labels[lk] = lv.as_string().str;
        }
      }
    } else if (key == "notifiers") {
      if (!value.is_array()) {
        st = field_error(path, "must be an array of strings");
      } else {
        for (const auto& item : value.as_array()) {
          if (!item.is_string()) {
            st = field_error(path, "must be an array of strings");
            break;
          }
          r.notifiers.push_back(item.as_string().str);
        }
      }
    } else {
      st = field_error(path, "unknown field (known: name, description, metric, labels, statistic, period_ms, "
                             "evaluation_periods, datapoints_to_alarm, comparison, threshold, treat_missing_data, "
                             "repeat_interval_ms, notifiers)");
    }
    if (!st) return st.error();
  }
  return r;
}

// Whether some field lives under "prefix." (a known sub-table such as [notify.email]).
bool known_table(const std::string& prefix) {
  for (const auto& f : fields())
    if (std::string(f.path).rfind(prefix + ".", 0) == 0) return true;
  return false;
}

Status apply_table(Config& c, const std::string& prefix, const toml::value& table) {
  for (const auto& [key, v] : table.as_table()) {
    std::string path = prefix + "." + key;
    if (path == "alarms.rules") {
      if (!v.is_array()) return field_error(path, "must be an array of tables ([[alarms.rules]])");
      std::vector<AlarmRuleConfig> rules;
      for (std::size_t i = 0; i < v.as_array().size(); ++i) {
        auto r = parse_alarm_rule(v.as_array()[i], i);
        if (!r) return r.error();
        rules.push_back(std::move(*r));
      }
      c.alarms.rules = std::move(rules);
      continue;
    }
    const Field* field = nullptr;
    for (const auto& f : fields())
      if (path == f.path) field = &f;
    if (!field && v.is_table() && known_table(path)) {
      if (auto st = apply_table(c, path, v); !st) return st;
      continue;
    }
    if (!field) return field_error(path, "unknown field");
    auto text = scalar_text(path, v, field->type);
    if (!text) return text.error();
    if (auto st = field->set(c, *text); !st) return st;
  }
  return ok_status();
}

Status apply_toml(Config& c, const toml::value& root) {
  if (!root.is_table()) return field_error("(root)", "must be a table");
  for (const auto& [section, value] : root.as_table()) {
    if (section == "renditions") {
      if (!value.is_array()) return field_error("renditions", "must be an array of tables ([[renditions]])");
      std::vector<RenditionSpec> specs;
      for (std::size_t i = 0; i < value.as_array().size(); ++i) {
        auto r = parse_rendition(value.as_array()[i], i);
        if (!r) return r.error();
        specs.push_back(*r);
      }
      if (specs.empty()) return field_error("renditions", "at least one rendition is needed");
      c.renditions = std::move(specs);
      continue;
    }
    if (!value.is_table()) return field_error(section, "must be a table ([" + section + "])");
    if (auto st = apply_table(c, section, value); !st) return st;
  }
  return ok_status();
}

Status apply_env(Config& c, const Environment& env) {
  for (const auto& f : fields()) {
    for (const std::string& name : {env_name(f.path), std::string(f.alias ? f.alias : "")}) {
      if (name.empty()) continue;
      auto it = env.find(name);
      if (it == env.end()) continue;
      if (auto st = f.set(c, it->second); !st)
        return make_error(ErrorKind::invalid_argument, st.error().message + " (from " + name + ")");
    }
  }
  if (auto it = env.find("THUMBFLOW_RENDITIONS"); it != env.end()) {
    auto specs = parse_renditions_env(it->second);
    if (!specs) return specs.error();
    c.renditions = std::move(*specs);
  }
  return ok_status();
}

bool one_of(const std::string& v, std::initializer_list<const char*> options) {
  for (const char* o : options)
    if (v == o) return true;
  return false;
}

// The vocabularies of src/monitoring/alarm_rule.hpp (parse_statistic, parse_comparison,
// parse_missing_data), restated so a bad rule fails at load time naming its field; a monitoring
// test checks that every value accepted here parses there.
bool valid_statistic(const std::string& s) {
  if (one_of(s, {"sum", "average", "minimum", "maximum", "sample_count", "Sum", "Average", "Minimum", "Maximum",
                 "SampleCount"}))
    return true;
  if (s.size() < 2 || s[0] != 'p') return false;
  double p = 0;
  auto [end, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), p);
  return ec == std::errc() && end == s.data() + s.size() && p > 0 && p <= 100;
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 128) return false;
  for (char ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') return false;
  return true;
}

Status validate_alarms(const Config& c) {
  auto bad = [](const std::string& path, const std::string& why) { return field_error(path, why); };
  if (c.metrics.max_label_sets < 1) return bad("metrics.max_label_sets", "must be at least 1");
  const auto& a = c.alarms;
  if (a.evaluation_interval_ms < 100) return bad("alarms.evaluation_interval_ms", "must be at least 100");
  if (a.max_datapoints < 100) return bad("alarms.max_datapoints", "must be at least 100");
  const auto configured = c.notify.configured();
  for (std::size_t i = 0; i < a.rules.size(); ++i) {
    const auto& r = a.rules[i];
    const std::string base = "alarms.rules[" + std::to_string(i) + "]";
    if (!valid_name(r.name)) return bad(base + ".name", "'" + r.name + "' must be 1..128 of A-Z a-z 0-9 - _ .");
    for (std::size_t j = 0; j < i; ++j)
      if (a.rules[j].name == r.name) return bad(base + ".name", "'" + r.name + "' is used twice");
    if (r.metric.empty()) return bad(base + ".metric", "must name a metric (see docs/monitoring.md)");
    if (!valid_statistic(r.statistic))
      return bad(base + ".statistic", "'" + r.statistic + "' is not sum, average, minimum, maximum, sample_count or pNN");
    if (!one_of(r.comparison, {">=", ">", "<", "<=", "GreaterThanOrEqualToThreshold", "GreaterThanThreshold",
                               "LessThanThreshold", "LessThanOrEqualToThreshold"}))
      return bad(base + ".comparison", "'" + r.comparison + "' is not >=, >, < or <=");
    if (!one_of(r.treat_missing_data, {"missing", "ignore", "breaching", "notBreaching", "not_breaching"}))
      return bad(base + ".treat_missing_data",
                 "'" + r.treat_missing_data + "' is not missing, ignore, breaching or notBreaching");
    if (r.period_ms < 1000) return bad(base + ".period_ms", "must be at least 1000");
    if (r.evaluation_periods < 1) return bad(base + ".evaluation_periods", "must be at least 1");
    if (r.datapoints_to_alarm < 1 || r.datapoints_to_alarm > r.evaluation_periods)
      return bad(base + ".datapoints_to_alarm", "must be 1..evaluation_periods (" + std::to_string(r.evaluation_periods) + ")");
    if (static_cast<std::uint64_t>(r.period_ms) * r.evaluation_periods > 7ULL * 86'400'000ULL)
      return bad(base + ".evaluation_periods", "period_ms x evaluation_periods must be at most 7 days");
    if (r.repeat_interval_ms != 0 && r.repeat_interval_ms < 1000)
      return bad(base + ".repeat_interval_ms", "must be 0 (no reminders) or at least 1000");
    for (const auto& n : r.notifiers) {
      if (!one_of(n, {"email", "webhook", "sns", "command"}))
        return bad(base + ".notifiers", "'" + n + "' is not email, webhook, sns or command");
      if (std::find(configured.begin(), configured.end(), n) == configured.end())
        return bad(base + ".notifiers", "'" + n + "' is not configured (set its [notify." + n + "] destination)");
    }
  }
  const auto& n = c.notify;
  if (n.max_attempts < 1) return bad("notify.max_attempts", "must be at least 1");
  if (n.backoff_base_ms < 1) return bad("notify.backoff_base_ms", "must be at least 1");
  if (n.backoff_max_ms < n.backoff_base_ms) return bad("notify.backoff_max_ms", "must be at least notify.backoff_base_ms");
  if (n.queue_capacity < 1) return bad("notify.queue_capacity", "must be at least 1");
  if (n.timeout_ms < 100) return bad("notify.timeout_ms", "must be at least 100");
  if (!n.email.url.empty()) {
    if (n.email.url.rfind("smtp://", 0) != 0 && n.email.url.rfind("smtps://", 0) != 0)
      return bad("notify.email.url", "'" + n.email.url + "' must start with smtp:// or smtps://");
    if (n.email.to.empty()) return bad("notify.email.to", "needs at least one recipient when notify.email.url is set");
    if (n.email.from.empty()) return bad("notify.email.from", "must not be empty");
  }
  if (!one_of(n.email.starttls, {"always", "try", "never"}))
    return bad("notify.email.starttls", "'" + n.email.starttls + "' is not always, try or never");
  if (!n.webhook.url.empty() && n.webhook.url.rfind("http://", 0) != 0 && n.webhook.url.rfind("https://", 0) != 0)
    return bad("notify.webhook.url", "'" + n.webhook.url + "' must start with http:// or https://");
  if (!n.sns.topic_arn.empty()) {
    int colons = 0;
    for (char ch : n.sns.topic_arn) colons += ch == ':';
    if (n.sns.topic_arn.rfind("arn:", 0) != 0 || n.sns.topic_arn.find(":sns:") == std::string::npos || colons != 5)
      return bad("notify.sns.topic_arn", "'" + n.sns.topic_arn + "' is not arn:aws:sns:REGION:ACCOUNT:NAME");
  }
  return ok_status();
}

}  // namespace

std::vector<std::string> NotifyConfig::configured() const {
  std::vector<std::string> out;
  if (!email.url.empty()) out.push_back("email");
  if (!webhook.url.empty()) out.push_back("webhook");
  if (!sns.topic_arn.empty()) out.push_back("sns");
  if (!command.argv.empty()) out.push_back("command");
  return out;
}

Status Config::validate() const {
  auto bad = [](const std::string& path, const std::string& why) { return field_error(path, why); };
  if (server.data.empty()) return bad("server.data", "must not be empty");
  if (storage.kind != "local" && storage.kind != "s3") return bad("storage.kind", "must be local or s3, not '" + storage.kind + "'");
  if (catalog.kind != "sqlite" && catalog.kind != "dynamodb")
    return bad("catalog.kind", "must be sqlite or dynamodb, not '" + catalog.kind + "'");
  if (catalog.table.empty()) return bad("catalog.table", "must not be empty");
  if (workers.max != 0 && workers.min > workers.max)
    return bad("workers.min", std::to_string(workers.min) + " is more than workers.max " + std::to_string(workers.max));
  if (workers.max_attempts < 1) return bad("workers.max_attempts", "must be at least 1");
  if (workers.lease_ms < 1000) return bad("workers.lease_ms", "must be at least 1000");
  if (limits.max_pixels == 0) return bad("limits.max_pixels", "must be positive");
  if (limits.max_source_bytes == 0) return bad("limits.max_source_bytes", "must be positive");
  if (limits.max_dimension == 0) return bad("limits.max_dimension", "must be positive");
  if (limits.max_frames == 0) return bad("limits.max_frames", "must be positive");
  if (limits.max_jpeg_scans == 0) return bad("limits.max_jpeg_scans", "must be positive");
  if (renditions.empty()) return bad("renditions", "at least one rendition is needed");
  for (std::size_t i = 0; i < renditions.size(); ++i) {
    if (auto st = renditions[i].validate(); !st) return bad("renditions[" + std::to_string(i) + "]", st.error().message);
    for (std::size_t j = 0; j < i; ++j)
      if (renditions[j].name == renditions[i].name)
        return bad("renditions[" + std::to_string(i) + "].name", "'" + renditions[i].name + "' is used twice");
  }
  // The same rules as the pipeline's TriggerConfig::validate, restated so configuration fails
  // at load time with the field's name.
  const auto& in = trigger.input_prefix;
  const auto& out = trigger.output_prefix;
  if (out.empty()) return bad("trigger.output_prefix", "must not be empty: every key would be an output");
  if (out.compare(0, in.size(), in) == 0)
    return bad("trigger.output_prefix", "'" + out + "' is inside trigger.input_prefix '" + in +
                                            "': every thumbnail written would trigger processing again");
  if (in.compare(0, out.size(), out) == 0)
    return bad("trigger.input_prefix", "'" + in + "' is inside trigger.output_prefix '" + out + "'");
  return validate_alarms(*this);
}

Environment process_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos && kv.rfind("THUMBFLOW_", 0) == 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

Result<Config> parse_toml(const std::string& text, const std::string& source_name, const Environment& env) {
  Config c;
  try {
    std::istringstream in(text);
    toml::value root = toml::parse(in, source_name);
    if (auto st = apply_toml(c, root); !st) return make_error(ErrorKind::invalid_argument, source_name + ": " + st.error().message);
  } catch (const std::exception& e) {
    return make_error(ErrorKind::invalid_argument, source_name + " is not valid TOML: " + e.what());
  }
  if (auto st = apply_env(c, env); !st) return st.error();
  if (auto st = c.validate(); !st) return st.error();
  return c;
}

Result<Config> load(const std::optional<std::filesystem::path>& file, const Environment& env) {
  if (!file) {
    Config c;
    if (auto st = apply_env(c, env); !st) return st.error();
    if (auto st = c.validate(); !st) return st.error();
    return c;
  }
  std::ifstream in(*file);
  if (!in) return make_error(ErrorKind::invalid_argument, "cannot read configuration file " + file->string());
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_toml(ss.str(), file->string(), env);
}

}  // namespace thumbflow::config
