// Sequencers for the S3 events a thumbflow process announces itself (the local endpoint, the
// console's re-run): like S3's, they order the events of one key. Here a nanosecond clock in
// hex that never repeats and never goes back, even when the wall clock does.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace thumbflow {

class SequencerClock {
 public:
  // 16 upper-case hex digits; each call's value is greater than the one before (thread-safe).
  std::string next() {
    const auto now = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    std::uint64_t value = 0;
    {
      std::lock_guard lock(mu_);
      last_ = std::max(last_ + 1, now);
      value = last_;
    }
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(value));
    return buf;
  }

 private:
  std::mutex mu_;
  std::uint64_t last_ = 0;
};

}  // namespace thumbflow
