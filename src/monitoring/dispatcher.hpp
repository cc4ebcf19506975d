// Sends notifications off the caller's thread: one queue and one sender thread per notifier, so
// a slow or unreachable mail server delays neither the pipeline nor the webhook. Each message is
// retried with exponential backoff while the error is retryable (ErrorKind::unavailable...);
// every attempt's outcome is reported to the recorder (alarms.db keeps it).
//
// Policy: a channel delivers in order (a recovery message never overtakes the alarm it ends),
// so a message being retried holds back later ones on that channel only. A full queue drops its
// oldest message (recorded as dropped). stop() ends the threads after the send in progress;
// what is still queued is recorded as dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "monitoring/alarm_store.hpp"
#include "monitoring/metrics.hpp"
#include "monitoring/notifiers.hpp"

namespace thumbflow::monitoring {

struct DispatchOptions {
  int max_attempts = 5;                            // first try included
  std::chrono::milliseconds backoff_base{1'000};   // delay before retry n: in [cap/2, cap], cap = min(max, base*2^n)
  std::chrono::milliseconds backoff_max{60'000};
  std::size_t queue_capacity = 1'000;              // per notifier
};

// The delay cap before retry n (n = 0 for the first retry).
std::chrono::milliseconds backoff_cap(const DispatchOptions& o, int retry);

class Dispatcher {
 public:
  using Recorder = std::function<void(std::int64_t history_id, const Delivery& delivery)>;

  // counters: thumbflow_notifications_total{notifier,result} when given.
  Dispatcher(std::vector<std::unique_ptr<Notifier>> notifiers, DispatchOptions options, Recorder recorder = {},
             CounterFamily* counters = nullptr);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Queues n for the named notifiers (empty = every one); returns at once. Unknown names are
  // ignored (configuration validation names them first).
  void submit(const Notification& n, const std::vector<std::string>& only = {});
  // Waits until every queue is empty and no send is in progress, or the time is up.
  bool wait_idle(std::chrono::milliseconds limit);
  void stop();
  std::vector<std::string> names() const;
  bool empty() const { return channels_.empty(); }

 private:
  struct Channel;
  Recorder recorder_;  // shared by the channels; declared first so it outlives them
  std::vector<std::unique_ptr<Channel>> channels_;
};

}  // namespace thumbflow::monitoring
