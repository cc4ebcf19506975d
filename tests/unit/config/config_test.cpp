#include <gtest/gtest.h>

#include "config/config.hpp"
#include "test_support.hpp"

namespace thumbflow::config {
namespace {
Result<Config> parse(const std::string& text, Environment env = {}) { return parse_toml(text, "test.toml", env); }

void expect_refused(const std::string& text, const std::string& field, Environment env = {}) {
  auto c = parse(text, env);
  ASSERT_FALSE(c.ok()) << text;
  EXPECT_EQ(c.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(c.error().message.find(field), std::string::npos) << c.error().message;
}
}  // namespace

TEST(Config, the_documented_example_is_exactly_the_defaults) {
  auto c = load(test::source_dir() / "thumbflow.example.toml", {});
  ASSERT_TRUE(c.ok()) << c.error().describe();
  Config d;
  EXPECT_EQ(c->server.data, d.server.data);
  EXPECT_EQ(c->server.s3_listen, d.server.s3_listen);
  EXPECT_EQ(c->server.console_listen, d.server.console_listen);
  EXPECT_EQ(c->server.bucket, d.server.bucket);
  EXPECT_EQ(c->storage.kind, d.storage.kind);
  EXPECT_EQ(c->catalog.table, d.catalog.table);
  EXPECT_EQ(c->trigger.input_prefix, d.trigger.input_prefix);
  EXPECT_EQ(c->trigger.output_prefix, d.trigger.output_prefix);
  ASSERT_EQ(c->renditions.size(), 1u);
  EXPECT_EQ(c->renditions[0].name, "thumbnail");
  EXPECT_EQ(c->renditions[0].width, 128u);
  EXPECT_EQ(c->renditions[0].quality, 80);
  EXPECT_EQ(c->limits.max_pixels, d.limits.max_pixels);
  EXPECT_EQ(c->limits.max_source_bytes, d.limits.max_source_bytes);
  EXPECT_EQ(c->limits.max_dimension, d.limits.max_dimension);
  EXPECT_EQ(c->limits.max_frames, d.limits.max_frames);
  EXPECT_EQ(c->limits.max_jpeg_scans, d.limits.max_jpeg_scans);
  EXPECT_EQ(c->workers.min, d.workers.min);
  EXPECT_EQ(c->workers.max, d.workers.max);
  EXPECT_EQ(c->workers.max_attempts, d.workers.max_attempts);
  EXPECT_EQ(c->workers.lease_ms, d.workers.lease_ms);
  EXPECT_EQ(c->cache_control, d.cache_control);
  EXPECT_EQ(c->metrics.max_label_sets, d.metrics.max_label_sets);
  EXPECT_EQ(c->alarms.enabled, d.alarms.enabled);
  EXPECT_EQ(c->alarms.evaluation_interval_ms, d.alarms.evaluation_interval_ms);
  EXPECT_EQ(c->alarms.recent_failures, d.alarms.recent_failures);
  EXPECT_EQ(c->alarms.max_datapoints, d.alarms.max_datapoints);
  EXPECT_EQ(c->alarms.history_limit, d.alarms.history_limit);
  ASSERT_EQ(c->alarms.rules.size(), 1u);
  const auto& r = c->alarms.rules[0];
  const auto& dr = d.alarms.rules[0];
  EXPECT_EQ(r.name, dr.name);
  EXPECT_EQ(r.description, dr.description);
  EXPECT_EQ(r.metric, dr.metric);
  EXPECT_EQ(r.labels, dr.labels);
  EXPECT_EQ(r.statistic, dr.statistic);
  EXPECT_EQ(r.period_ms, dr.period_ms);
  EXPECT_EQ(r.evaluation_periods, dr.evaluation_periods);
  EXPECT_EQ(r.datapoints_to_alarm, dr.datapoints_to_alarm);
  EXPECT_EQ(r.comparison, dr.comparison);
  EXPECT_EQ(r.threshold, dr.threshold);
  EXPECT_EQ(r.treat_missing_data, dr.treat_missing_data);
  EXPECT_EQ(r.repeat_interval_ms, dr.repeat_interval_ms);
  EXPECT_EQ(r.notifiers, dr.notifiers);
  EXPECT_EQ(c->notify.max_attempts, d.notify.max_attempts);
  EXPECT_EQ(c->notify.backoff_base_ms, d.notify.backoff_base_ms);
  EXPECT_EQ(c->notify.backoff_max_ms, d.notify.backoff_max_ms);
  EXPECT_EQ(c->notify.queue_capacity, d.notify.queue_capacity);
  EXPECT_EQ(c->notify.timeout_ms, d.notify.timeout_ms);
  EXPECT_EQ(c->notify.email.url, d.notify.email.url);
  EXPECT_EQ(c->notify.email.starttls, d.notify.email.starttls);
  EXPECT_EQ(c->notify.email.verify_tls, d.notify.email.verify_tls);
  EXPECT_EQ(c->notify.email.from, d.notify.email.from);
  EXPECT_EQ(c->notify.email.to, d.notify.email.to);
  EXPECT_EQ(c->notify.webhook.url, d.notify.webhook.url);
  EXPECT_EQ(c->notify.sns.topic_arn, d.notify.sns.topic_arn);
  EXPECT_EQ(c->notify.command.argv, d.notify.command.argv);
  EXPECT_TRUE(c->notify.configured().empty());
}

TEST(Config, alarm_rules_and_notifiers_are_read_and_replace_the_default_rule) {
  auto c = parse(R"(
[alarms]
evaluation_interval_ms = 500
[[alarms.rules]]
name = "slow-images"
metric = "thumbflow_image_processing_seconds"
statistic = "p99"
period_ms = 5000
evaluation_periods = 3
datapoints_to_alarm = 2
comparison = "GreaterThanThreshold"
threshold = 2.5
treat_missing_data = "ignore"
repeat_interval_ms = 60000
notifiers = ["webhook"]
[[alarms.rules]]
name = "corrupt-uploads"
metric = "thumbflow_images_failed_total"
labels = { kind = "corrupt" }
threshold = 3
[notify]
max_attempts = 3
[notify.email]
url = "smtp://127.0.0.1:2525"
starttls = "never"
to = ["ops@example.com", "dev@example.com"]
[notify.webhook]
url = "http://127.0.0.1:8080/hook"
[notify.command]
argv = ["/usr/bin/logger", "-t", "thumbflow"]
)",
                 {{"THUMBFLOW_NOTIFY_EMAIL_PASSWORD", "from-env"}});
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->alarms.evaluation_interval_ms, 500u);
  ASSERT_EQ(c->alarms.rules.size(), 2u);
  const auto& slow = c->alarms.rules[0];
  EXPECT_EQ(slow.name, "slow-images");
  EXPECT_EQ(slow.statistic, "p99");
  EXPECT_EQ(slow.period_ms, 5000u);
  EXPECT_EQ(slow.evaluation_periods, 3u);
  EXPECT_EQ(slow.datapoints_to_alarm, 2u);
  EXPECT_EQ(slow.comparison, "GreaterThanThreshold");
  EXPECT_DOUBLE_EQ(slow.threshold, 2.5);
  EXPECT_EQ(slow.treat_missing_data, "ignore");
  EXPECT_EQ(slow.repeat_interval_ms, 60000u);
  EXPECT_EQ(slow.notifiers, (std::vector<std::string>{"webhook"}));
  const auto& corrupt = c->alarms.rules[1];
  EXPECT_EQ(corrupt.labels, (std::map<std::string, std::string>{{"kind", "corrupt"}}));
  EXPECT_DOUBLE_EQ(corrupt.threshold, 3.0);
  EXPECT_EQ(corrupt.statistic, "sum") << "unset fields keep the documented default";
  EXPECT_EQ(c->notify.max_attempts, 3u);
  EXPECT_EQ(c->notify.email.starttls, "never");
  EXPECT_EQ(c->notify.email.password, "from-env");
  EXPECT_EQ(c->notify.email.to, (std::vector<std::string>{"ops@example.com", "dev@example.com"}));
  EXPECT_EQ(c->notify.command.argv, (std::vector<std::string>{"/usr/bin/logger", "-t", "thumbflow"}));
  EXPECT_EQ(c->notify.configured(), (std::vector<std::string>{"email", "webhook", "command"}));
}

TEST(Config, bad_alarm_and_notify_settings_are_refused_naming_the_field) {
  expect_refused("[[alarms.rules]]\nname = \"a\"\nmetric = \"m\"\nstatistic = \"median\"\n", "alarms.rules[0].statistic");
  expect_refused("[[alarms.rules]]\nname = \"a\"\nmetric = \"m\"\nstatistic = \"p101\"\n", "alarms.rules[0].statistic");
  expect_refused("[[alarms.rules]]\nname = \"a\"\nmetric = \"m\"\ncomparison = \"==\"\n", "alarms.rules[0].comparison");
  expect_refused("[[alarms.rules]]\nname = \"a\"\nmetric = \"m\"\ntreat_missing_data = \"zero\"\n",
                 "alarms.rules[0].treat_missing_data");
  expect_refused("[[alarms.rules]]\nname = \"a\"\nmetric = \"m\"\nperiod_ms = 10\n", "alarms.rules[0].period_ms");
  expect_refused("[[alarms.rules]]\nname = \"a\"\nmetric = \"m\"\nevaluation_periods = 2\ndatapoints_to_alarm = 3\n",
                 "alarms.rules[0].datapoints_to_alarm");
  expect_refused("[[alarms.rules]]\nmetric = \"m\"\n", "alarms.rules[0].name");
  expect_refused("[[alarms.rules]]\nname = \"a\"\n", "alarms.rules[0].metric");
  expect_refused("[[alarms.rules]]\nname = \"a\"\nmetric = \"m\"\n[[alarms.rules]]\nname = \"a\"\nmetric = \"m\"\n",
                 "used twice");
  expect_refused("[[alarms.rules]]\nname = \"a\"\nmetric = \"m\"\nthreshold = \"high\"\n", "alarms.rules[0].threshold");
  expect_refused("[[alarms.rules]]\nname = \"a\"\nmetric = \"m\"\nsevertiy = 1\n", "alarms.rules[0].severtiy");
  expect_refused("[[alarms.rules]]\nname = \"a\"\nmetric = \"m\"\nnotifiers = [\"pager\"]\n", "alarms.rules[0].notifiers");
  expect_refused("[[alarms.rules]]\nname = \"a\"\nmetric = \"m\"\nnotifiers = [\"email\"]\n", "not configured");
  expect_refused("[alarms]\nevaluation_interval_ms = 5\n", "alarms.evaluation_interval_ms");
  expect_refused("[metrics]\nmax_label_sets = 0\n", "metrics.max_label_sets");
  expect_refused("[notify.email]\nurl = \"http://mail\"\nto = [\"a@b\"]\n", "notify.email.url");
  expect_refused("[notify.email]\nurl = \"smtp://mail\"\n", "notify.email.to");
  expect_refused("[notify.email]\nstarttls = \"maybe\"\n", "notify.email.starttls");
  expect_refused("[notify.email]\nport = 25\n", "notify.email.port");
  expect_refused("[notify.pager]\nurl = \"x\"\n", "notify.pager");
  expect_refused("[notify.webhook]\nurl = \"ftp://x\"\n", "notify.webhook.url");
  expect_refused("[notify.sns]\ntopic_arn = \"my-topic\"\n", "notify.sns.topic_arn");
  expect_refused("[notify]\nmax_attempts = 0\n", "notify.max_attempts");
  expect_refused("[notify]\nbackoff_base_ms = 5000\nbackoff_max_ms = 10\n", "notify.backoff_max_ms");
  expect_refused("", "notify.max_attempts", {{"THUMBFLOW_NOTIFY_MAX_ATTEMPTS", "x"}});
}

TEST(Config, reads_every_section) {
  auto c = parse(R"(
[server]
data = "/srv/thumbs"
[storage]
kind = "s3"
endpoint = "http://127.0.0.1:7480"
path_style = false
[catalog]
kind = "dynamodb"
table = "Images"
[trigger]
suffixes = [".jpg", ".png"]
[[renditions]]
name = "small"
width = 64
height = 64
[[renditions]]
name = "medium"
width = 512
height = 512
format = "webp"
quality = 70
background = "#000000"
[limits]
max_pixels = 5000000
[workers]
min = 2
max = 6
)");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->server.data, "/srv/thumbs");
  EXPECT_EQ(c->storage.kind, "s3");
  EXPECT_FALSE(c->storage.path_style);
  EXPECT_EQ(c->catalog.table, "Images");
  EXPECT_EQ(c->trigger.suffixes, (std::vector<std::string>{".jpg", ".png"}));
  ASSERT_EQ(c->renditions.size(), 2u);
  EXPECT_EQ(c->renditions[1].format, OutputFormat::webp);
  EXPECT_EQ(c->renditions[1].background, (Rgb{0, 0, 0}));
  EXPECT_EQ(c->limits.max_pixels, 5000000u);
  EXPECT_EQ(c->workers.max, 6u);
}

TEST(Config, environment_overrides_the_file) {
  Environment env = {{"THUMBFLOW_WORKERS_MAX", "3"},
                     {"THUMBFLOW_TABLE", "FromAlias"},
                     {"THUMBFLOW_TRIGGER_SUFFIXES", ".jpg,.jpeg"},
                     {"THUMBFLOW_S3_ENDPOINT", "http://127.0.0.1:1"},
                     {"THUMBFLOW_RENDITIONS", "thumbnail:100x50:png,big:800x800:avif:60"}};
  auto c = parse("[workers]\nmax = 8\n", env);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->workers.max, 3u);
  EXPECT_EQ(c->catalog.table, "FromAlias");
  EXPECT_EQ(c->trigger.suffixes, (std::vector<std::string>{".jpg", ".jpeg"}));
  EXPECT_EQ(c->storage.endpoint, "http://127.0.0.1:1");
  ASSERT_EQ(c->renditions.size(), 2u);
  EXPECT_EQ(c->renditions[0].width, 100u);
  EXPECT_EQ(c->renditions[0].format, OutputFormat::png);
  EXPECT_EQ(c->renditions[1].quality, 60);
}

TEST(Config, bad_configuration_is_refused_naming_the_field_and_reason) {
  expect_refused("[workers]\nmaxx = 3\n", "workers.maxx");
  expect_refused("[wrokers]\nmax = 3\n", "wrokers");
  expect_refused("[workers]\nmax = \"three\"\n", "workers.max");
  expect_refused("[workers]\nmax = -1\n", "workers.max");
  expect_refused("[workers]\nmin = 5\nmax = 2\n", "workers.min");
  expect_refused("[storage]\nkind = \"ftp\"\n", "storage.kind");
  expect_refused("[trigger]\ninput_prefix = \"\"\n", "trigger.output_prefix");
  expect_refused("[trigger]\noutput_prefix = \"uploads/thumbs/\"\n", "trigger processing again");
  expect_refused("[[renditions]]\nformat = \"bmp\"\n", "renditions[0].format");
  expect_refused("[[renditions]]\nquality = 101\n", "renditions[0].quality");
  expect_refused("[[renditions]]\nname = \"a\"\n[[renditions]]\nname = \"a\"\n", "used twice");
  expect_refused("[[renditions]]\nname = \"a\"\n[[renditions]]\nwidth = 10\n", "renditions[1].name");
  expect_refused("[limits]\nmax_pixels = 0\n", "limits.max_pixels");
  expect_refused("this is = not = toml", "not valid TOML");
  expect_refused("", "workers.max", {{"THUMBFLOW_WORKERS_MAX", "lots"}});
  expect_refused("", "THUMBFLOW_RENDITIONS", {{"THUMBFLOW_RENDITIONS", "thumb:0x0:jpeg"}});
}

TEST(Config, a_missing_file_is_a_clear_error) {
  auto c = load(std::filesystem::path("/nonexistent/thumbflow.toml"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("/nonexistent/thumbflow.toml"), std::string::npos);
}

}  // namespace thumbflow::config
