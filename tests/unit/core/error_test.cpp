#include <gtest/gtest.h>

#include "core/error.hpp"

namespace thumbflow {

TEST(ErrorKind, only_transient_failures_are_retryable) {
  EXPECT_TRUE(is_retryable(ErrorKind::unavailable));
  EXPECT_TRUE(is_retryable(ErrorKind::io));
  EXPECT_TRUE(is_retryable(ErrorKind::internal));
  EXPECT_FALSE(is_retryable(ErrorKind::corrupt));
  EXPECT_FALSE(is_retryable(ErrorKind::unsupported_format));
  EXPECT_FALSE(is_retryable(ErrorKind::too_large));
  EXPECT_FALSE(is_retryable(ErrorKind::invalid_argument));
  EXPECT_FALSE(is_retryable(ErrorKind::not_found));
}

TEST(Error, describe_names_kind_then_message) {
  EXPECT_EQ(make_error(ErrorKind::corrupt, "bad data").describe(), "corrupt: bad data");
  EXPECT_EQ(to_string(ErrorKind::too_large), "too_large");
}

TEST(Result, holds_either_value_or_error) {
  Result<int> good = 42;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  Result<int> bad = make_error(ErrorKind::not_found, "nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::not_found);
  EXPECT_EQ(bad.error().message, "nope");
}

}  // namespace thumbflow
