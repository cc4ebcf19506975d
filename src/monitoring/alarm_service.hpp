// Runs the alarm rules: a thread evaluates every rule each evaluation_interval over the
// datapoints of the metric it watches, records each state change (alarms.db) and hands the
// messages to the Dispatcher, which sends them on threads of its own. Nothing here runs on a
// pipeline or endpoint thread except record_failure(), which only appends to a bounded list.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "monitoring/alarm_rule.hpp"
#include "monitoring/alarm_store.hpp"
#include "monitoring/dispatcher.hpp"
#include "monitoring/metrics.hpp"
#include "monitoring/notification.hpp"

namespace thumbflow::monitoring {

struct AlarmOptions {
  std::vector<AlarmRule> rules;
  std::chrono::milliseconds evaluation_interval{10'000};
  std::size_t recent_failures = 10;   // named in a message
  std::size_t max_datapoints = 100'000;  // per watched metric
};

struct RuleView {
  AlarmRule rule;
  RuleStatus status;
};

class AlarmService {
 public:
  AlarmService(Registry& registry, AlarmStore& store, Dispatcher& dispatcher, AlarmOptions options);
  ~AlarmService();
  AlarmService(const AlarmService&) = delete;
  AlarmService& operator=(const AlarmService&) = delete;

  // Checks that every rule's metric is registered (the error names the rule), starts recording
  // their datapoints and loads the persisted states. Call before the first datapoint matters.
  Status prepare();
  void start();  // the evaluation thread
  void stop();

  // One evaluation of every rule at now_ms (the thread calls it; tests call it directly).
  void evaluate(std::int64_t now_ms);
  // A failed image, for the "most recent failed objects" of the next message.
  void record_failure(FailedObject failure);
  std::vector<RuleView> rules() const;

 private:
  struct Watched {
    const FamilyBase* family = nullptr;
    std::unique_ptr<Series> series;
  };
  std::vector<Sample> samples_for(const AlarmRule& rule, std::int64_t now_ms) const;
  std::vector<FailedObject> failures_since(std::int64_t from_ms) const;

  Registry& registry_;
  AlarmStore& store_;
  Dispatcher& dispatcher_;
  AlarmOptions options_;
  GaugeFamily& state_gauge_;
  std::map<std::string, Watched> watched_;  // by metric name

  mutable std::mutex mu_;  // statuses_
  std::map<std::string, RuleStatus> statuses_;

  mutable std::mutex failures_mu_;
  std::deque<FailedObject> failures_;

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace thumbflow::monitoring
