#include <gtest/gtest.h>

#include <map>

#include "console/console_rules.hpp"

namespace thumbflow::console {
namespace {

std::function<const char*(const char*)> env(std::map<std::string, std::string> vars) {
  auto owned = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [owned](const char* name) -> const char* {
    auto it = owned->find(name);
    return it == owned->end() ? nullptr : it->second.c_str();
  };
}

TEST(ConsoleOptions, defaults_hold_without_variables_and_each_field_can_be_overridden) {
  auto d = options_from_env(env({}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->max_file_bytes, 64ULL * 1024 * 1024);
  EXPECT_EQ(d->max_page_size, 200);
  auto o = options_from_env(env({{"THUMBFLOW_CONSOLE_MAX_FILE_BYTES", "1000"},
                                 {"THUMBFLOW_CONSOLE_MAX_FILES_PER_REQUEST", "3"},
                                 {"THUMBFLOW_CONSOLE_MAX_PAGE_SIZE", "60"}}));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->max_file_bytes, 1000u);
  EXPECT_EQ(o->max_files_per_request, 3);
  EXPECT_EQ(o->max_page_size, 60);
}

TEST(ConsoleOptions, a_bad_value_is_refused_naming_the_variable) {
  auto bad = options_from_env(env({{"THUMBFLOW_CONSOLE_MAX_PAGE_SIZE", "lots"}}));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("THUMBFLOW_CONSOLE_MAX_PAGE_SIZE"), std::string::npos);
  EXPECT_FALSE(options_from_env(env({{"THUMBFLOW_CONSOLE_MAX_PAGE_SIZE", "0"}})));
  // The default page may not be bigger than the largest page.
  EXPECT_FALSE(options_from_env(env({{"THUMBFLOW_CONSOLE_MAX_PAGE_SIZE", "10"}})));
  EXPECT_FALSE(options_from_env(env({{"THUMBFLOW_CONSOLE_MAX_FILE_BYTES", "300000000"}})));
  EXPECT_FALSE(options_from_env(env({{"THUMBFLOW_CONSOLE_MAX_EVENT_STREAMS", "24"}})));
}

TEST(SameToken, accepts_only_the_exact_token) {
  EXPECT_TRUE(same_token("abcdef0123456789", "abcdef0123456789"));
  EXPECT_FALSE(same_token("abcdef0123456789", "abcdef012345678"));
  EXPECT_FALSE(same_token("abcdef0123456789", "abcdef01234567890"));
  EXPECT_FALSE(same_token("abcdef0123456789", "Abcdef0123456789"));
  EXPECT_FALSE(same_token("abcdef0123456789", ""));
  EXPECT_FALSE(same_token("", ""));
}

TEST(CookieValue, finds_a_cookie_among_others) {
  EXPECT_EQ(cookie_value("a=1; thumbflow_session=xyz; b=2", "thumbflow_session"), "xyz");
  EXPECT_EQ(cookie_value("thumbflow_session=xyz", "thumbflow_session"), "xyz");
  EXPECT_FALSE(cookie_value("xthumbflow_session=xyz", "thumbflow_session"));
  EXPECT_FALSE(cookie_value("", "thumbflow_session"));
  EXPECT_NE(session_value("token-one-123456"), session_value("token-two-123456"));
  EXPECT_EQ(session_value("token-one-123456").find("token"), std::string::npos);
}

TEST(UploadKey, keeps_hostile_names_as_data_under_the_prefix) {
  EXPECT_EQ(*upload_key("uploads/", "<img src=x onerror=alert(1)>.jpg"), "uploads/<img src=x onerror=alert(1)>.jpg");
  EXPECT_EQ(*upload_key("uploads/", "C:\\photos\\cat \"1\".jpg"), "uploads/cat \"1\".jpg");
  EXPECT_EQ(*upload_key("uploads/", "../../etc/passwd"), "uploads/passwd");
  EXPECT_FALSE(upload_key("uploads/", ""));
  EXPECT_FALSE(upload_key("uploads/", "photos/.."));
  EXPECT_FALSE(upload_key("uploads/", "a\nb.jpg"));
  EXPECT_FALSE(upload_key("uploads/", std::string(1025, 'a')));
}

TEST(ListQuery, reads_dates_status_and_limit_and_refuses_bad_ones) {
  ConsoleOptions o;
  auto q = list_query({{"since", "2026-11-01"}, {"until", "2026-11-25"}, {"status", "failed"}, {"limit", "10"},
                       {"pageToken", "abc"}},
                      o);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->from, "2026-11-01T00:00:00.000Z");
  EXPECT_EQ(q->to, "2026-11-25T23:59:59.999Z");  // a bare date as until is the whole day
  EXPECT_EQ(q->status, RecordStatus::failed);
  EXPECT_EQ(q->limit, 10);
  EXPECT_EQ(q->page_token, "abc");
  auto t = list_query({{"since", "2026-11-25T10:30Z"}, {"until", "2026-11-25T11:00:05.5Z"}}, o);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->from, "2026-11-25T10:30:00.000Z");
  EXPECT_EQ(t->to, "2026-11-25T11:00:05.500Z");
  EXPECT_EQ(list_query({}, o)->limit, o.default_page_size);
  EXPECT_FALSE(list_query({{"since", "yesterday"}}, o));
  EXPECT_FALSE(list_query({{"until", "2026-11-25T10:30"}}, o));  // no zone: ambiguous
  EXPECT_FALSE(list_query({{"status", "queued"}}, o));
  EXPECT_FALSE(list_query({{"limit", "0"}}, o));
  EXPECT_FALSE(list_query({{"limit", std::to_string(o.max_page_size + 1)}}, o));
  EXPECT_TRUE(list_query({{"limit", std::to_string(o.max_page_size)}}, o));
}

TEST(SourceContentType, comes_from_the_probed_format_and_never_makes_a_document) {
  ImageInfo info;
  info.format = SourceFormat::png;
  EXPECT_EQ(source_content_type(info), "image/png");
  info.format = SourceFormat::svg;
  EXPECT_EQ(source_content_type(info), "application/octet-stream");
  EXPECT_EQ(source_content_type(std::nullopt), "application/octet-stream");
}

TEST(ContentDisposition, encodes_every_character_of_a_hostile_name) {
  auto d = content_disposition("uploads/a \"b\";<c>.jpg", false);
  EXPECT_EQ(d, "inline; filename=\"a__b___c_.jpg\"; filename*=UTF-8''a%20%22b%22%3B%3Cc%3E.jpg");
  EXPECT_EQ(content_disposition("uploads/x.png", true).rfind("attachment;", 0), 0u);
}

TEST(Activity, counts_processed_and_failed_per_minute_of_the_window) {
  auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(*parse_iso8601_ms("2026-11-25T12:30:20Z")));
  auto rec = [](const char* at, RecordStatus s) {
    ImageRecord r;
    r.upload_date = at;
    r.status = s;
    return r;
  };
  auto b = activity({rec("2026-11-25T12:30:01.000Z", RecordStatus::processed),
                     rec("2026-11-25T12:30:19.999Z", RecordStatus::failed),
                     rec("2026-11-25T11:31:00.000Z", RecordStatus::processed),   // the first minute
                     rec("2026-11-25T11:30:59.999Z", RecordStatus::processed),   // before the window
                     rec("not a date", RecordStatus::processed)},
                    now, 60);
  ASSERT_EQ(b.size(), 60u);
  EXPECT_EQ(iso8601_ms(std::chrono::system_clock::time_point(std::chrono::milliseconds(b.back().start_ms))),
            "2026-11-25T12:30:00.000Z");
  EXPECT_EQ(b.back().processed, 1);
  EXPECT_EQ(b.back().failed, 1);
  EXPECT_EQ(b.front().processed, 1);
  int total = 0;
  for (const auto& x : b) total += x.processed + x.failed;
  EXPECT_EQ(total, 3);
}

}  // namespace
}  // namespace thumbflow::console
