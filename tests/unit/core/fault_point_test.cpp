#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>

#include "core/fault_point.hpp"

namespace thumbflow::fault {
namespace {

struct Disarm {
  ~Disarm() { disarm_all(); }
};

}  // namespace

TEST(FaultPoint, an_unarmed_point_never_fires) {
  Disarm d;
  EXPECT_FALSE(hit("store.put"));
  EXPECT_EQ(fired("store.put"), 0);
}

TEST(FaultPoint, fail_with_a_count_fires_that_many_times_then_clears) {
  Disarm d;
  ASSERT_TRUE(arm_spec("store.put=fail:2").ok());
  EXPECT_FALSE(hit("catalog.upsert")) << "only the named point is armed";
  EXPECT_TRUE(hit("store.put"));
  EXPECT_TRUE(hit("store.put"));
  EXPECT_FALSE(hit("store.put"));
  EXPECT_EQ(fired("store.put"), 2);
}

TEST(FaultPoint, without_a_count_it_fires_until_disarmed) {
  Disarm d;
  ASSERT_TRUE(arm("catalog.upsert", Action::fail).ok());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(hit("catalog.upsert"));
  disarm_all();
  EXPECT_FALSE(hit("catalog.upsert"));
}

TEST(FaultPoint, throw_stops_the_step_with_the_point_named) {
  Disarm d;
  ASSERT_TRUE(arm_spec(" pipeline.after_claim = throw:1 , notifier.send=fail").ok());
  try {
    (void)hit("pipeline.after_claim");
    FAIL() << "the point did not throw";
  } catch (const Injected& e) {
    EXPECT_STREQ(e.what(), "fault point pipeline.after_claim");
  }
  EXPECT_FALSE(hit("pipeline.after_claim"));
  EXPECT_TRUE(hit("notifier.send"));
}

TEST(FaultPoint, crash_kills_the_process_like_kill_9) {
  EXPECT_EXIT(
      {
        (void)arm("pipeline.after_put", Action::crash, 1);
        (void)hit("pipeline.after_put");
        std::exit(0);  // not reached
      },
      ::testing::KilledBySignal(SIGKILL), "");
}

TEST(FaultPoint, a_bad_spec_arms_nothing_and_says_which_entry) {
  Disarm d;
  for (const char* bad : {"store.put", "store.put=explode", "store.put=fail:0", "store.put=fail:x", "=fail"}) {
    std::string spec = std::string("catalog.upsert=fail,") + bad;
    auto st = arm_spec(spec);
    ASSERT_FALSE(st.ok()) << spec;
    EXPECT_EQ(st.error().kind, ErrorKind::invalid_argument);
    EXPECT_NE(st.error().message.find("THUMBFLOW_FAULTS entry"), std::string::npos) << st.error().message;
    EXPECT_FALSE(hit("catalog.upsert")) << "the good entry before the bad one must not be armed: " << spec;
  }
}

TEST(FaultPoint, the_environment_variable_arms_points_in_test_builds) {
  Disarm d;
  ASSERT_TRUE(enabled()) << "tests are built with THUMBFLOW_FAULT_POINTS=ON";
  ::setenv("THUMBFLOW_FAULTS", "store.put=fail:1", 1);
  auto st = arm_from_environment();
  ::unsetenv("THUMBFLOW_FAULTS");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(hit("store.put"));
  EXPECT_FALSE(hit("store.put"));
}

}  // namespace thumbflow::fault
