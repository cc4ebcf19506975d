// Alarm state and history in DATA/.thumbflow/alarms.db, so a restart neither forgets an alarm
// nor announces it again, and `thumbflow alarms list|history` can read them beside a running
// server (WAL; one connection per AlarmStore, guarded by a mutex).
//
//   alarm_state(name, state, since_ms, last_notified_ms, value, reason)
//   alarm_history(id, name, at_ms, kind, old_state, new_state, value, reason)
//   alarm_delivery(history_id, notifier, status, attempts, error, updated_ms)
//     status: pending (retrying), sent, failed (gave up or not retryable), dropped (queue full
//     or server stopped)
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "monitoring/alarm_rule.hpp"
#include "monitoring/notification.hpp"

namespace thumbflow::sqlite {
class Db;
}

namespace thumbflow::monitoring {

struct Delivery {
  std::string notifier;
  std::string status;  // pending, sent, failed, dropped
  int attempts = 0;
  std::string error;
  std::int64_t updated_ms = 0;
};

struct HistoryEntry {
  std::int64_t id = 0;
  std::string alarm;
  std::int64_t at_ms = 0;
  NotificationKind kind = NotificationKind::transition;
  bool notified = false;  // whether a message was due (state changes into or out of ALARM, reminders, tests)
  AlarmState old_state = AlarmState::insufficient_data;
  AlarmState new_state = AlarmState::insufficient_data;
  std::optional<double> value;
  std::string reason;
  std::vector<Delivery> deliveries;
};

class AlarmStore {
 public:
  static Result<std::unique_ptr<AlarmStore>> open(const std::filesystem::path& path, int history_limit = 10'000);
  ~AlarmStore();
  AlarmStore(const AlarmStore&) = delete;
  AlarmStore& operator=(const AlarmStore&) = delete;

  Result<std::map<std::string, RuleStatus>> states();
  Status save_state(const std::string& alarm, const RuleStatus& status);
  // Appends a history row (and drops the oldest past history_limit); returns its id.
  Result<std::int64_t> append(const HistoryEntry& entry);
  Status record_delivery(std::int64_t history_id, const Delivery& delivery);
  // Newest first; alarm empty = every alarm.
  Result<std::vector<HistoryEntry>> history(const std::string& alarm, int limit);

 private:
  AlarmStore(std::unique_ptr<sqlite::Db> db, int history_limit);
  std::mutex mu_;
  std::unique_ptr<sqlite::Db> db_;
  int history_limit_;
};

}  // namespace thumbflow::monitoring
