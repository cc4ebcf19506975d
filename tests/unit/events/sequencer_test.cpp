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
