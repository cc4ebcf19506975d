// Named fault points: places in the code where a test can make thumbflow fail, crash or stop
// exactly there ("store down mid-write", "crash after the thumbnail put, before the record").
//
// Policy: a point costs one relaxed atomic load while nothing is armed, so points stay in
// production code paths. Points are armed by tests through arm()/arm_spec(), and for
// whole-process tests by the THUMBFLOW_FAULTS environment variable, which is read only when the
// build has THUMBFLOW_FAULT_POINTS=ON (test builds). With it OFF (the release binary and the
// Lambda package) arming is refused and every point is a constant `false`, so no environment
// of a deployed process can crash it on purpose.
//
// Spec syntax (THUMBFLOW_FAULTS and arm_spec): comma-separated `name=action[:count]`, action
// one of fail | crash | throw; count = how many hits fire before the point disarms itself
// (default: every hit). Example: "pipeline.after_claim=crash,store.put=fail:3".
//
// Points in the code (docs/reliability.md keeps the list with what each proves):
//   pipeline.after_claim  Pipeline::process entered: the job is claimed, nothing done yet
//   pipeline.after_put    every rendition is stored, the record is not written yet
//   store.put             LocalStore: the body stops half way through (store down mid-write)
//   catalog.upsert        SqliteCatalog: the write is refused as throttled (unavailable)
//   notifier.send         the alarm dispatcher's notifier is down (unavailable)
#pragma once

#include <atomic>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace thumbflow::fault {

enum class Action {
  fail,   // the point reports a failure; the code there returns its own error value
  crash,  // the process is killed on the spot (SIGKILL: no destructor, no flush, like kill -9)
  throw_, // throws Injected: a unit test's stand-in for a crash, caught by the test
};

// What `throw` raises: the step stops there, as if the process had died at the point.
class Injected : public std::runtime_error {
 public:
  explicit Injected(const std::string& point) : std::runtime_error("fault point " + point) {}
};

// Whether this build honours fault points (THUMBFLOW_FAULT_POINTS).
bool enabled();

// Arms a point; count < 0 fires on every hit, else on the next `count` hits. Refused
// (invalid_argument) when the build has fault points off.
Status arm(std::string_view name, Action action, int count = -1);
// Parses and arms a spec (see above); nothing is armed when any entry is bad.
Status arm_spec(std::string_view spec);
// Arms THUMBFLOW_FAULTS when set (ignored, unread, in builds without fault points); returns the
// parse error for the caller to report.
Status arm_from_environment();
void disarm_all();
// How often the point fired (failed, crashed or threw) since it was armed.
int fired(std::string_view name);

namespace detail {
extern std::atomic<int> armed_points;
bool hit_slow(std::string_view name);
}  // namespace detail

// The point itself: false when not armed (the fast path); otherwise crashes, throws, or
// returns true for `fail`, and the caller returns its error.
inline bool hit(std::string_view name) {
#ifdef THUMBFLOW_FAULT_POINTS
  if (detail::armed_points.load(std::memory_order_relaxed) == 0) return false;
  return detail::hit_slow(name);
#else
  (void)name;
  return false;
#endif
}

}  // namespace thumbflow::fault
