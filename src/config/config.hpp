// thumbflow's configuration: thumbflow.toml, then THUMBFLOW_* environment variables over it.
// Every field has a documented default (see thumbflow.example.toml); bad configuration is
// refused at start with a message naming the field and the reason, and unknown fields are
// refused too (a typo must not silently fall back to a default).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/limits.hpp"
#include "core/rendition.hpp"

namespace thumbflow::config {

struct ServerConfig {
  std::string data = "thumbflow-data";        // data folder: buckets, queue, catalog, keys
  std::string s3_listen = "127.0.0.1:9000";   // the local S3-compatible endpoint
  std::string console_listen = "127.0.0.1:9001";
  std::string bucket = "image-processing-local";  // created at start with uploads/ and thumbnails/
};

struct StorageConfig {
  std::string kind = "local";  // local | s3
  std::string endpoint;        // s3: empty = AWS
  std::string region;          // s3: empty = from AWS_REGION / AWS_DEFAULT_REGION
  bool path_style = true;
};

struct CatalogConfig {
  std::string kind = "sqlite";  // sqlite | dynamodb
  std::string table = "ImageMetadata";
  std::string endpoint;         // dynamodb: empty = AWS
  std::string region;
};

struct TriggerSection {
  std::string input_prefix = "uploads/";
  std::string output_prefix = "thumbnails/";
  std::vector<std::string> suffixes;
};

struct WorkersConfig {
  unsigned min = 1;
  unsigned max = 0;             // 0 = number of cores
  std::uint32_t idle_timeout_ms = 10'000;
  std::uint32_t scale_up_age_ms = 2'000;
  int max_attempts = 5;
  std::uint32_t lease_ms = 300'000;
  std::uint32_t backoff_base_ms = 1'000;
  std::uint32_t backoff_max_ms = 300'000;
};

// One alarm rule (docs/monitoring.md). Names and vocabularies are checked by validate();
// src/monitoring turns it into a monitoring::AlarmRule and checks that the metric exists.
struct AlarmRuleConfig {
  std::string name = "image-processing-errors";
  std::string description = "An uploaded image could not be processed";
  std::string metric = "thumbflow_images_failed_total";
  std::map<std::string, std::string> labels;  // only datapoints with these label values count
  std::string statistic = "sum";               // sum, average, minimum, maximum, sample_count, p99 (any pNN)
  std::uint32_t period_ms = 60'000;
  unsigned evaluation_periods = 1;
  unsigned datapoints_to_alarm = 1;
  std::string comparison = ">=";               // >=, >, <, <= (or CloudWatch's names)
  double threshold = 1;
  std::string treat_missing_data = "notBreaching";  // missing, ignore, breaching, notBreaching
  std::uint32_t repeat_interval_ms = 0;        // 0: one message per state change only
  std::vector<std::string> notifiers;          // email, webhook, sns, command; empty = every configured one
};

struct MetricsConfig {
  unsigned max_label_sets = 1'000;  // distinct label sets per metric; past it they share "_overflow"
};

struct AlarmsConfig {
  bool enabled = true;
  std::uint32_t evaluation_interval_ms = 10'000;  // how often the rules are evaluated
  unsigned recent_failures = 10;                  // failed objects named in an ALARM message
  unsigned max_datapoints = 100'000;              // kept per watched metric for evaluation
  unsigned history_limit = 10'000;                // rows kept in alarms.db history
  std::vector<AlarmRuleConfig> rules = {AlarmRuleConfig{}};  // [[alarms.rules]] replaces the default
};

struct EmailNotifyConfig {
  std::string url;                       // smtp://host:587 or smtps://host:465; empty = no email
  std::string starttls = "try";          // always, try, never
  bool verify_tls = true;
  std::string username;
  std::string password;
  std::string from = "thumbflow@localhost";
  std::vector<std::string> to;
};

struct WebhookNotifyConfig {
  std::string url;  // http(s)://...; empty = no webhook
  bool verify_tls = true;
};

struct SnsNotifyConfig {
  std::string topic_arn;  // empty = no SNS
  std::string region;     // empty = the topic ARN's
  std::string endpoint;   // empty = AWS
};

struct CommandNotifyConfig {
  std::vector<std::string> argv;  // empty = no command
};

struct NotifyConfig {
  unsigned max_attempts = 5;
  std::uint32_t backoff_base_ms = 1'000;
  std::uint32_t backoff_max_ms = 60'000;
  unsigned queue_capacity = 1'000;
  std::uint32_t timeout_ms = 10'000;  // one attempt of any notifier
  EmailNotifyConfig email;
  WebhookNotifyConfig webhook;
  SnsNotifyConfig sns;
  CommandNotifyConfig command;
  // The notifiers with a destination configured, in this order: email, webhook, sns, command.
  std::vector<std::string> configured() const;
};

struct Config {
  ServerConfig server;
  StorageConfig storage;
  CatalogConfig catalog;
  TriggerSection trigger;
  std::vector<RenditionSpec> renditions = {RenditionSpec{}};
  Limits limits;
  WorkersConfig workers;
  std::string cache_control = "public, max-age=31536000, immutable";
  MetricsConfig metrics;
  AlarmsConfig alarms;
  NotifyConfig notify;

  Status validate() const;
};

// Environment variables, passed explicitly so tests do not depend on the process environment.
using Environment = std::map<std::string, std::string>;
Environment process_environment();

// Defaults, then the file (if given), then the environment. Errors name the field.
Result<Config> load(const std::optional<std::filesystem::path>& file, const Environment& env);
Result<Config> parse_toml(const std::string& text, const std::string& source_name, const Environment& env);

}  // namespace thumbflow::config
