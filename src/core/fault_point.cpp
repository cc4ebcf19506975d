#include "core/fault_point.hpp"

#include <csignal>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace thumbflow::fault {
namespace detail {
std::atomic<int> armed_points{0};
}  // namespace detail

namespace {

struct Armed {
  Action action = Action::fail;
  int remaining = -1;  // < 0: forever
  int fired = 0;
};

std::mutex& mu() {
  static std::mutex m;
  return m;
}
std::map<std::string, Armed, std::less<>>& points() {
  static std::map<std::string, Armed, std::less<>> p;
  return p;
}

// Points that still fire; the fast path reads it without the lock.
void recount_locked() {
  int n = 0;
  for (const auto& [name, a] : points()) n += a.remaining != 0 ? 1 : 0;
  detail::armed_points.store(n, std::memory_order_relaxed);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool enabled() {
#ifdef THUMBFLOW_FAULT_POINTS
  return true;
#else
  return false;
#endif
}

Status arm(std::string_view name, Action action, int count) {
  if (!enabled())
    return make_error(ErrorKind::invalid_argument,
                      "fault points are compiled out of this build (THUMBFLOW_FAULT_POINTS=OFF)");
  if (name.empty()) return make_error(ErrorKind::invalid_argument, "fault point: empty name");
  std::lock_guard lock(mu());
  points()[std::string(name)] = Armed{action, count, 0};
  recount_locked();
  return ok_status();
}

Status arm_spec(std::string_view spec) {
  struct Entry {
    std::string name;
    Action action;
    int count;
  };
  std::vector<Entry> entries;
  auto bad = [&](std::string_view entry, const std::string& why) {
    return make_error(ErrorKind::invalid_argument, "THUMBFLOW_FAULTS entry '" + std::string(entry) + "': " + why);
  };
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view entry = trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (entry.empty()) continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) return bad(entry, "expected name=action[:count]");
    std::string_view name = trim(entry.substr(0, eq));
    std::string_view action = trim(entry.substr(eq + 1));
    int count = -1;
    if (auto colon = action.find(':'); colon != std::string_view::npos) {
      std::string_view digits = action.substr(colon + 1);
      action = action.substr(0, colon);
      if (digits.empty() || digits.size() > 6 || digits.find_first_not_of("0123456789") != std::string_view::npos)
        return bad(entry, "count must be a number of hits (1 to 999999)");
      count = std::atoi(std::string(digits).c_str());
      if (count < 1) return bad(entry, "count must be at least 1");
    }
    Action a;
    if (action == "fail") a = Action::fail;
    else if (action == "crash") a = Action::crash;
    else if (action == "throw") a = Action::throw_;
    else return bad(entry, "action must be fail, crash or throw");
    entries.push_back({std::string(name), a, count});
  }
  for (const auto& e : entries)
    if (auto st = arm(e.name, e.action, e.count); !st) return st;
  return ok_status();
}

Status arm_from_environment() {
  // A build without fault points never reads the variable: nothing in a deployed process's
  // environment can arm one.
  if (!enabled()) return ok_status();
  const char* spec = std::getenv("THUMBFLOW_FAULTS");
  if (spec == nullptr || *spec == '\0') return ok_status();
  return arm_spec(spec);
}

void disarm_all() {
  std::lock_guard lock(mu());
  points().clear();
  recount_locked();
}

int fired(std::string_view name) {
  std::lock_guard lock(mu());
  auto it = points().find(name);
  return it == points().end() ? 0 : it->second.fired;
}

namespace detail {

bool hit_slow(std::string_view name) {
  Action action;
  {
    std::lock_guard lock(mu());
    auto it = points().find(name);
    if (it == points().end() || it->second.remaining == 0) return false;
    ++it->second.fired;
    if (it->second.remaining > 0 && --it->second.remaining == 0) recount_locked();
    action = it->second.action;
  }
  switch (action) {
    case Action::fail: return true;
    case Action::throw_: throw Injected(std::string(name));
    case Action::crash:
      // kill -9 semantics: nothing after this point runs, no buffer is flushed.
      std::raise(SIGKILL);
      std::_Exit(137);
  }
  return false;
}

}  // namespace detail
}  // namespace thumbflow::fault
