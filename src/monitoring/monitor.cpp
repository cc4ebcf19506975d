#include "monitoring/monitor.hpp"

#include "monitoring/notifiers.hpp"

namespace thumbflow::monitoring {

std::filesystem::path alarms_db_path(const std::filesystem::path& data) { return data / ".thumbflow" / "alarms.db"; }

Result<AlarmRule> rule_from_config(const config::AlarmRuleConfig& c, std::size_t index) {
  const std::string base = "configuration field 'alarms.rules[" + std::to_string(index) + "].";
  auto field = [&](const char* name, const Error& e) { return make_error(ErrorKind::invalid_argument, base + name + "': " + e.message); };
  AlarmRule r;
  r.name = c.name;
  r.description = c.description;
  r.metric = c.metric;
  r.labels = c.labels;
  auto stat = parse_statistic(c.statistic);
  if (!stat) return field("statistic", stat.error());
  r.statistic = *stat;
  auto cmp = parse_comparison(c.comparison);
  if (!cmp) return field("comparison", cmp.error());
  r.comparison = *cmp;
  auto missing = parse_missing_data(c.treat_missing_data);
  if (!missing) return field("treat_missing_data", missing.error());
  r.missing_data = *missing;
  r.period = std::chrono::milliseconds(c.period_ms);
  r.evaluation_periods = static_cast<int>(c.evaluation_periods);
  r.datapoints_to_alarm = static_cast<int>(c.datapoints_to_alarm);
  r.threshold = c.threshold;
  r.repeat_interval = std::chrono::milliseconds(c.repeat_interval_ms);
  r.notifiers = c.notifiers;
  return r;
}

Result<std::vector<AlarmRule>> rules_from_config(const config::Config& c) {
  std::vector<AlarmRule> out;
  for (std::size_t i = 0; i < c.alarms.rules.size(); ++i) {
    auto r = rule_from_config(c.alarms.rules[i], i);
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  return out;
}

std::vector<std::unique_ptr<Notifier>> notifiers_from_config(const config::NotifyConfig& c) {
  const std::chrono::milliseconds timeout(c.timeout_ms);
  std::vector<std::unique_ptr<Notifier>> out;
  if (!c.email.url.empty()) {
    SmtpOptions o;
    o.url = c.email.url;
    o.starttls = c.email.starttls;
    o.verify_tls = c.email.verify_tls;
    o.username = c.email.username;
    o.password = c.email.password;
    o.from = c.email.from;
    o.to = c.email.to;
    o.timeout = timeout;
    out.push_back(std::make_unique<SmtpNotifier>(std::move(o)));
  }
  if (!c.webhook.url.empty()) out.push_back(std::make_unique<WebhookNotifier>(WebhookOptions{c.webhook.url, timeout, c.webhook.verify_tls}));
  if (!c.sns.topic_arn.empty()) {
    SnsOptions o;
    o.topic_arn = c.sns.topic_arn;
    o.region = c.sns.region;
    o.endpoint = c.sns.endpoint;
    o.timeout = timeout;
    out.push_back(std::make_unique<SnsNotifier>(std::move(o)));
  }
  if (!c.command.argv.empty()) out.push_back(std::make_unique<CommandNotifier>(CommandOptions{c.command.argv, timeout}));
  return out;
}

DispatchOptions dispatch_options(const config::NotifyConfig& c) {
  DispatchOptions o;
  o.max_attempts = static_cast<int>(c.max_attempts);
  o.backoff_base = std::chrono::milliseconds(c.backoff_base_ms);
  o.backoff_max = std::chrono::milliseconds(c.backoff_max_ms);
  o.queue_capacity = c.queue_capacity;
  return o;
}

Result<std::unique_ptr<Monitor>> Monitor::open(const config::Config& config, const std::filesystem::path& data) {
  RegistryOptions ro;
  ro.max_children_per_family = config.metrics.max_label_sets;
  std::unique_ptr<Monitor> m(new Monitor(std::move(ro)));
  m->metrics_ = std::make_unique<ServiceMetrics>(m->registry_);
  if (!config.alarms.enabled) return m;
  auto rules = rules_from_config(config);
  if (!rules) return rules.error();
  auto store = AlarmStore::open(alarms_db_path(data), static_cast<int>(config.alarms.history_limit));
  if (!store) return store.error();
  m->store_ = std::move(*store);
  AlarmStore* s = m->store_.get();
  auto& counters = m->registry_.counter("thumbflow_notifications_total",
                                        "Alarm messages by notifier and outcome (sent, failed after retries, dropped)",
                                        {"notifier", "result"});
  m->dispatcher_ = std::make_unique<Dispatcher>(
      notifiers_from_config(config.notify), dispatch_options(config.notify),
      [s](std::int64_t id, const Delivery& d) { (void)s->record_delivery(id, d); }, &counters);
  AlarmOptions o;
  o.rules = std::move(*rules);
  o.evaluation_interval = std::chrono::milliseconds(config.alarms.evaluation_interval_ms);
  o.recent_failures = config.alarms.recent_failures;
  o.max_datapoints = config.alarms.max_datapoints;
  m->alarms_ = std::make_unique<AlarmService>(m->registry_, *m->store_, *m->dispatcher_, std::move(o));
  if (auto st = m->alarms_->prepare(); !st) return st.error();
  return m;
}

Monitor::~Monitor() { stop(); }

void Monitor::start() {
  if (alarms_) alarms_->start();
}

void Monitor::stop() {
  if (alarms_) alarms_->stop();
  if (dispatcher_) dispatcher_->stop();
}

void Monitor::image_failed(const ImageRecord& record) {
  // Remembered before it is counted: an evaluation that sees the datapoint also sees the object.
  if (alarms_)
    alarms_->record_failure({unix_now_ms(), "s3://" + record.bucket + "/" + record.original_key,
                             record.error_kind, record.error_message});
  metrics_->image_failed(record);
}

}  // namespace thumbflow::monitoring
