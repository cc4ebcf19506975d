#include "core/text.hpp"

#include <gtest/gtest.h>

namespace thumbflow {

TEST(AsciiLower, lowers_only_ascii_capitals_and_leaves_utf8_alone) {
  EXPECT_EQ(ascii_lower("X-Amz-Content-SHA256"), "x-amz-content-sha256");
  EXPECT_EQ(ascii_lower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");  // "ÉTÉ": only the T changes
  EXPECT_EQ(ascii_lower("@[`{"), "@[`{");                             // the bytes around A-Z
  EXPECT_EQ(ascii_lower(""), "");
}

TEST(TrimOws, strips_spaces_and_tabs_but_not_line_ends) {
  EXPECT_EQ(trim_ows(" \t value \t"), "value");
  EXPECT_EQ(trim_ows("a b"), "a b");
  EXPECT_EQ(trim_ows("\r\nv\r\n"), "\r\nv\r\n");  // CR/LF in a header value is not OWS
  EXPECT_EQ(trim_ows(" \t "), "");
}

TEST(TrimSpace, strips_every_ascii_space_of_a_text_line) {
  EXPECT_EQ(trim_space("\t key = value \r\n"), "key = value");
  EXPECT_EQ(trim_space("\v\f x \f"), "x");
  EXPECT_EQ(trim_space(" \r\n\t"), "");
  EXPECT_EQ(trim_space(""), "");
  EXPECT_EQ(trim_space("\xC2\xA0x"), "\xC2\xA0x");  // a UTF-8 no-break space is not ASCII space
}

}  // namespace thumbflow
