#include <gtest/gtest.h>

#include "core/object_created.hpp"

namespace thumbflow {

TEST(CompareSequencers, compares_as_hex_numbers_padding_the_shorter) {
  EXPECT_LT(compare_sequencers("0055AED6DCD90281E5", "0055AED6DCD90281E6"), 0);
  EXPECT_GT(compare_sequencers("0055AED6DCD90281E6", "0055AED6DCD90281E5"), 0);
  EXPECT_EQ(compare_sequencers("00FF", "ff"), 0);
  EXPECT_LT(compare_sequencers("FF", "0100"), 0);  // 255 < 256 despite "FF" > "01" as text
  EXPECT_GT(compare_sequencers("100", "FF"), 0);
  EXPECT_LT(compare_sequencers("", "1"), 0);
}

}  // namespace thumbflow

#include <set>
#include <thread>
#include <vector>

#include "core/sequencer.hpp"

namespace thumbflow {

TEST(SequencerClock, every_value_is_newer_than_the_one_before_even_in_a_tight_loop) {
  SequencerClock clock;
  std::string previous = clock.next();
  ASSERT_EQ(previous.size(), 16u);
  for (int i = 0; i < 100'000; ++i) {
    std::string next = clock.next();
    ASSERT_LT(compare_sequencers(previous, next), 0) << previous << " then " << next;
    previous = std::move(next);
  }
}

TEST(SequencerClock, threads_never_get_the_same_value) {
  SequencerClock clock;
  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> threads;
  for (auto& out : got)
    threads.emplace_back([&clock, &out] {
      for (int i = 0; i < 20'000; ++i) out.push_back(clock.next());
    });
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& out : got) all.insert(out.begin(), out.end());
  EXPECT_EQ(all.size(), 80'000u);
}

}  // namespace thumbflow
