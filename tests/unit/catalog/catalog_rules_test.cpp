#include "catalog/catalog_rules.hpp"

#include <gtest/gtest.h>

#include <cctype>

namespace thumbflow::catalog {
namespace {

ImageRecord valid_record() {
  ImageRecord r;
  r.image_id = "id1";
  r.original_key = "uploads/a.jpg";
  r.upload_date = "2026-11-25T12:00:00.000Z";
  return r;
}

TEST(UploadDate, accepts_only_the_canonical_millisecond_form) {
  EXPECT_TRUE(is_upload_date("2026-11-25T12:00:00.000Z"));
  EXPECT_TRUE(is_upload_date("2024-02-29T23:59:59.999Z"));
  EXPECT_FALSE(is_upload_date("2026-11-25T12:00:00Z"));
  EXPECT_FALSE(is_upload_date("2026-11-25T12:00:00.000"));
  EXPECT_FALSE(is_upload_date("2026-11-25 12:00:00.000Z"));
  EXPECT_FALSE(is_upload_date("2026-02-30T12:00:00.000Z"));
  EXPECT_FALSE(is_upload_date("2026-11-25T24:00:00.000Z"));
  EXPECT_FALSE(is_upload_date("2026-11-25T12:60:00.000Z"));
  EXPECT_FALSE(is_upload_date("2026-11-25T12:00:00.0000Z"));
  EXPECT_FALSE(is_upload_date(""));
}

TEST(UploadDate, formats_a_time_point_in_the_canonical_form) {
  using namespace std::chrono;
  auto t = sys_days{year{2026} / November / 25} + hours{7} + minutes{5} + seconds{9} + milliseconds{42};
  EXPECT_EQ(format_upload_date(t), "2026-11-25T07:05:09.042Z");
  EXPECT_TRUE(is_upload_date(format_upload_date(system_clock::now())));
}

TEST(QueryBounds, widen_days_and_seconds_to_the_milliseconds_they_cover) {
  EXPECT_EQ(*normalize_lower_bound("2026-11-25"), "2026-11-25T00:00:00.000Z");
  EXPECT_EQ(*normalize_upper_bound("2026-11-25"), "2026-11-25T23:59:59.999Z");
  EXPECT_EQ(*normalize_lower_bound("2026-11-25T10:11:12Z"), "2026-11-25T10:11:12.000Z");
  EXPECT_EQ(*normalize_upper_bound("2026-11-25T10:11:12Z"), "2026-11-25T10:11:12.999Z");
  EXPECT_EQ(*normalize_upper_bound("2026-11-25T10:11:12.345Z"), "2026-11-25T10:11:12.345Z");
  EXPECT_EQ(*normalize_lower_bound(""), "");
  EXPECT_EQ(*normalize_upper_bound(""), "");
}

TEST(QueryBounds, refuse_other_forms) {
  for (const char* bad : {"yesterday", "2026-11", "2026-11-25T10:11", "2026-13-01", "2026-11-25T10:11:12+01:00"}) {
    auto r = normalize_lower_bound(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
  }
}

TEST(Days, parse_format_and_step_across_month_and_year_ends) {
  auto d = parse_day("2026-12-31");
  ASSERT_TRUE(d);
  EXPECT_EQ(format_day(*d + std::chrono::days{1}), "2027-01-01");
  EXPECT_EQ(format_day(*parse_day("2024-03-01") - std::chrono::days{1}), "2024-02-29");
  EXPECT_FALSE(parse_day("2026-02-29"));
  EXPECT_EQ(upload_day("2026-11-25T12:00:00.000Z"), "2026-11-25");
}

TEST(RecordValidation, requires_id_original_key_and_canonical_upload_date) {
  EXPECT_TRUE(validate_record(valid_record()));
  auto r = valid_record();
  r.image_id.clear();
  EXPECT_EQ(validate_record(r).error().kind, ErrorKind::invalid_argument);
  r = valid_record();
  r.image_id.assign(kMaxImageIdBytes, 'x');
  EXPECT_TRUE(validate_record(r));
  r.image_id.push_back('x');
  EXPECT_FALSE(validate_record(r));
  r = valid_record();
  r.original_key.clear();
  EXPECT_FALSE(validate_record(r));
  r = valid_record();
  r.upload_date = "2026-11-25";
  EXPECT_FALSE(validate_record(r));
}

TEST(RecordValidation, refuses_text_that_is_not_utf8) {
  auto r = valid_record();
  r.original_key = "uploads/\xff.jpg";
  auto v = validate_record(r);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().kind, ErrorKind::invalid_argument);
}

TEST(PageLimit, accepts_one_to_the_maximum) {
  EXPECT_TRUE(validate_limit(1));
  EXPECT_TRUE(validate_limit(kMaxPageSize));
  EXPECT_FALSE(validate_limit(0));
  EXPECT_FALSE(validate_limit(kMaxPageSize + 1));
  EXPECT_FALSE(validate_limit(-5));
}

TEST(PageToken, round_trips_both_kinds) {
  PageToken position{PageToken::Kind::after_position, "2026-11-25T12:00:00.000Z", "abc"};
  auto back = decode_page_token(encode_page_token(position));
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(*back, position);
  PageToken key{PageToken::Kind::after_key, "", "id with spaces/and\"quotes\""};
  back = decode_page_token(encode_page_token(key));
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(*back, key);
}

TEST(PageToken, is_url_safe_text) {
  auto token = encode_page_token({PageToken::Kind::after_position, "2026-11-25T12:00:00.000Z", "\xff\xfe?/?/++"});
  for (char c : token)
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << token;
}

TEST(PageToken, refuses_what_it_did_not_write) {
  const std::string good = encode_page_token({PageToken::Kind::after_position, "2026-11-25T12:00:00.000Z", "abc"});
  for (const std::string& bad : {std::string("not a token!"), std::string("e30"),  // "{}"
                                 good.substr(0, good.size() - 1), good + "A", std::string(kMaxPageTokenLength + 1, 'A'),
                                 // "2p24:2026-11-25T12:00:00.000Z1:a": a version we do not know
                                 std::string("MnAyNDoyMDI2LTExLTI1VDEyOjAwOjAwLjAwMFoxOmE"),
                                 // "1p24:2026-11-25T12:00:00.000Z01:a": a leading zero
                                 std::string("MXAyNDoyMDI2LTExLTI1VDEyOjAwOjAwLjAwMFowMTph"),
                                 // "1p24:2026-11-25T12:00:00.000Z1:ab": a trailing byte
                                 std::string("MXAyNDoyMDI2LTExLTI1VDEyOjAwOjAwLjAwMFoxOmFi")}) {
    auto r = decode_page_token(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
  }
}

TEST(Ordering, newest_first_then_image_id_descending) {
  EXPECT_TRUE(newer_first("2026-11-25T12:00:00.001Z", "a", "2026-11-25T12:00:00.000Z", "z"));
  EXPECT_TRUE(newer_first("2026-11-25T12:00:00.000Z", "b", "2026-11-25T12:00:00.000Z", "a"));
  EXPECT_FALSE(newer_first("2026-11-25T12:00:00.000Z", "a", "2026-11-25T12:00:00.000Z", "a"));
}

}  // namespace
}  // namespace thumbflow::catalog
