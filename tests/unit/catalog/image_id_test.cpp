#include "catalog/image_id.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace thumbflow::catalog {
namespace {

TEST(ImageId, is_32_lower_case_hex_digits) {
  const std::string id = make_image_id("bucket", "uploads/cat.jpg", "v1");
  ASSERT_EQ(id.size(), 32u);
  for (char c : id) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
}

TEST(ImageId, is_deterministic) {
  EXPECT_EQ(make_image_id("b", "k", "etag"), make_image_id("b", "k", "etag"));
}

TEST(ImageId, matches_the_documented_encoding) {
  // sha256("thumbflow-image-id-v1" || u64be(1) "b" || u64be(1) "k" || u64be(1) "v"), computed
  // independently with Python's hashlib (first 32 hex digits).
  EXPECT_EQ(make_image_id("b", "k", "v"), "78d46c5e423eabc9031f6ccd8e2fa3ae");
}

TEST(ImageId, length_prefixes_keep_field_boundaries_apart) {
  std::set<std::string> ids{make_image_id("a/b", "c", "v"), make_image_id("a", "b/c", "v"),
                            make_image_id("a", "bc", "v"), make_image_id("ab", "c", "v"),
                            make_image_id("a", "b", "cv"), make_image_id("", "abc", "v")};
  EXPECT_EQ(ids.size(), 6u);
}

TEST(ImageId, version_or_etag_is_part_of_the_identity) {
  EXPECT_NE(make_image_id("b", "k", "v1"), make_image_id("b", "k", "v2"));
  EXPECT_NE(make_image_id("b", "k", ""), make_image_id("b", "k", "v"));
}

TEST(ImageId, accepts_any_bytes_in_keys) {
  const std::string key("a\0b\xff\n", 5);
  EXPECT_EQ(make_image_id("b", key, "v").size(), 32u);
  EXPECT_NE(make_image_id("b", key, "v"), make_image_id("b", "a", "v"));
}

}  // namespace
}  // namespace thumbflow::catalog
