// The monitoring of one thumbflow process, built from its configuration: the registry and the
// service metrics, the notifiers and their dispatcher, the alarm store and rules. `thumbflow
// serve` owns one; `thumbflow alarms` builds the pieces it needs from the same functions.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "monitoring/alarm_service.hpp"
#include "monitoring/alarm_store.hpp"
#include "monitoring/dispatcher.hpp"
#include "monitoring/metrics.hpp"
#include "monitoring/service_metrics.hpp"

namespace thumbflow::monitoring {

// alarms.rules[i] as an AlarmRule; errors name the field.
Result<AlarmRule> rule_from_config(const config::AlarmRuleConfig& c, std::size_t index);
Result<std::vector<AlarmRule>> rules_from_config(const config::Config& c);
// The notifiers whose destination is set, in the order email, webhook, sns, command.
std::vector<std::unique_ptr<Notifier>> notifiers_from_config(const config::NotifyConfig& c);
DispatchOptions dispatch_options(const config::NotifyConfig& c);
std::filesystem::path alarms_db_path(const std::filesystem::path& data);  // DATA/.thumbflow/alarms.db

class Monitor {
 public:
  // Registers the service metrics; with alarms.enabled, opens alarms.db, builds the notifiers
  // and checks the rules against the registered metrics.
  static Result<std::unique_ptr<Monitor>> open(const config::Config& config, const std::filesystem::path& data);
  ~Monitor();

  void start();  // the alarm evaluation thread (no-op when alarms are disabled)
  void stop();   // evaluation, then the notifier threads

  Registry& registry() { return registry_; }
  ServiceMetrics& metrics() { return *metrics_; }
  AlarmService* alarms() { return alarms_.get(); }  // null when alarms.enabled = false
  // A failed image: counted, and remembered for the next ALARM message.
  void image_failed(const ImageRecord& record);

 private:
  explicit Monitor(RegistryOptions options) : registry_(std::move(options)) {}
  Registry registry_;
  std::unique_ptr<ServiceMetrics> metrics_;
  std::unique_ptr<AlarmStore> store_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<AlarmService> alarms_;
};

}  // namespace thumbflow::monitoring
