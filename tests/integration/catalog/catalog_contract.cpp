#include "catalog_contract.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "catalog/catalog_rules.hpp"
#include "catalog/image_id.hpp"
#include "core/json.hpp"

namespace thumbflow::catalog::contract {

ImageRecord full_record(const std::string& image_id) {
  ImageRecord r;
  r.image_id = image_id;
  r.bucket = "photos";
  r.original_key = "uploads/2026/café +plus & spaces.jpg";
  r.thumbnail_key = "thumbnails/2026/café +plus & spaces.jpg";
  r.renditions = {
      {"thumbnail", "thumbnails/2026/café +plus & spaces.jpg", "jpeg", 256, 171, 18'431},
      {"preview", "previews/2026/café +plus & spaces.webp", "webp", 1024, 683, 120'007},
  };
  r.upload_date = "2026-11-25T12:34:56.789Z";
  r.status = RecordStatus::processed;
  r.attempts = 2;
  r.source_bytes = (std::uint64_t{1} << 53) + 1;  // not exact as a double: must stay an integer
  r.etag = "\"9b2cf535f27731c974343645a3985328\"";
  r.version_id = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo";
  ImageInfo info;
  info.format = SourceFormat::jpeg;
  info.width = 6000;
  info.height = 4000;
  info.frames = 1;
  info.orientation = 6;
  info.has_alpha = false;
  info.bits_per_sample = 8;
  info.bands = 3;
  info.colour_space = "srgb";
  info.has_icc_profile = true;
  info.progressive = true;
  info.capture_time = "2026-11-24T18:02:11";
  info.camera_make = "Canon";
  info.camera_model = "EOS R5";
  r.info = info;
  r.dominant_colour = "#a0b1c2";
  r.blurhash = "LEHV6nWB2yk8pyo0adR*.7kCMdnj";
  r.processing_ms = 123.456789;
  r.render_ms = 98.7654321;
  r.updated_at = "2026-11-25T12:34:57.001Z";
  return r;
}

ImageRecord minimal_record(const std::string& image_id, const std::string& upload_date) {
  ImageRecord r;
  r.image_id = image_id;
  r.bucket = "photos";
  r.original_key = "uploads/" + image_id + ".jpg";
  r.upload_date = upload_date;
  r.updated_at = upload_date;
  return r;
}

std::vector<ImageRecord> dated_records() {
  std::vector<ImageRecord> out;
  for (int day = 20; day <= 23; ++day) {
    for (int i = 0; i < 15; ++i) {
      const int n = (day - 20) * 15 + i;
      // Groups of three share a timestamp, so ordering and paging must break ties by imageId.
      char date[32];
      std::snprintf(date, sizeof date, "2026-11-%02dT%02d:%02d:00.000Z", day, 1 + (i / 3) * 4, (i / 3) * 7);
      auto r = minimal_record(make_image_id("photos", "uploads/" + std::to_string(n) + ".jpg", "v1"), date);
      if (n % 4 == 3) {
        r.status = RecordStatus::failed;
        r.error_kind = "corrupt";
        r.error_message = "truncated JPEG";
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

namespace {

nlohmann::json as_json(const ImageRecord& r) { return r; }

DateQuery range(std::string from, std::string to, std::optional<RecordStatus> status = std::nullopt) {
  DateQuery q;
  q.from = std::move(from);
  q.to = std::move(to);
  q.status = status;
  return q;
}

DateQuery with_limit(int limit) {
  DateQuery q;
  q.limit = limit;
  return q;
}

DateQuery with_token(std::string token) {
  DateQuery q;
  q.page_token = std::move(token);
  return q;
}

// Expected order of every query: newest first, ties by imageId descending.
std::vector<std::string> ids_newest_first(std::vector<ImageRecord> records) {
  std::sort(records.begin(), records.end(), [](const ImageRecord& a, const ImageRecord& b) {
    return newer_first(a.upload_date, a.image_id, b.upload_date, b.image_id);
  });
  std::vector<std::string> ids;
  for (const auto& r : records) ids.push_back(r.image_id);
  return ids;
}

void put_all(Catalog& catalog, const std::vector<ImageRecord>& records) {
  for (const auto& r : records) {
    auto put = catalog.put_if_absent(r);
    ASSERT_TRUE(put) << put.error().describe();
    ASSERT_TRUE(*put);
  }
}

// Follows next_page_token to the end; checks every page's size on the way.
std::vector<std::string> all_pages(const std::function<Result<RecordPage>(const std::string&)>& query, int page_size) {
  std::vector<std::string> ids;
  std::string token;
  for (int pages = 0; pages < 1000; ++pages) {
    auto page = query(token);
    EXPECT_TRUE(page) << page.error().describe();
    if (!page) break;
    EXPECT_LE(static_cast<int>(page->records.size()), page_size);
    if (!page->next_page_token.empty()) {
      EXPECT_EQ(static_cast<int>(page->records.size()), page_size);
    }
    for (const auto& r : page->records) ids.push_back(r.image_id);
    if (page->next_page_token.empty()) break;
    token = page->next_page_token;
  }
  return ids;
}

std::vector<std::string> date_query_ids(Catalog& catalog, DateQuery q, int page_size) {
  q.limit = page_size;
  return all_pages(
      [&](const std::string& token) {
        q.page_token = token;
        return catalog.query_by_upload_date(q);
      },
      page_size);
}

}  // namespace

TEST_P(CatalogContract, put_if_absent_twice_keeps_one_record_the_first) {
  auto first = minimal_record("id-1", "2026-11-25T10:00:00.000Z");
  auto second = first;
  second.original_key = "uploads/other.jpg";
  auto put = catalog().put_if_absent(first);
  ASSERT_TRUE(put) << put.error().describe();
  EXPECT_TRUE(*put);
  put = catalog().put_if_absent(second);
  ASSERT_TRUE(put) << put.error().describe();
  EXPECT_FALSE(*put);
  auto got = catalog().get("id-1");
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_EQ(got->original_key, "uploads/id-1.jpg");
  auto all = catalog().query_by_upload_date({});
  ASSERT_TRUE(all) << all.error().describe();
  EXPECT_EQ(all->records.size(), 1u);
}

TEST_P(CatalogContract, upsert_inserts_then_overwrites) {
  auto r = minimal_record("id-2", "2026-11-25T10:00:00.000Z");
  ASSERT_TRUE(catalog().upsert(r));
  r.status = RecordStatus::failed;
  r.error_kind = "unavailable";
  r.error_message = "store down";
  r.attempts = 3;
  r.upload_date = "2026-11-26T10:00:00.000Z";
  auto s = catalog().upsert(r);
  ASSERT_TRUE(s) << s.error().describe();
  auto got = catalog().get("id-2");
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_EQ(as_json(*got), as_json(r));
  // The overwrite moved it in the date order too.
  auto old_day = catalog().query_by_upload_date(range("2026-11-25", "2026-11-25"));
  ASSERT_TRUE(old_day);
  EXPECT_TRUE(old_day->records.empty());
  auto new_day = catalog().query_by_upload_date(range("2026-11-26", "2026-11-26"));
  ASSERT_TRUE(new_day);
  ASSERT_EQ(new_day->records.size(), 1u);
}

TEST_P(CatalogContract, get_of_a_missing_record_is_not_found) {
  auto got = catalog().get("no-such-id");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::not_found);
}

TEST_P(CatalogContract, every_field_round_trips) {
  auto full = full_record("full-1");
  ASSERT_TRUE(catalog().put_if_absent(full));
  auto got = catalog().get("full-1");
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_EQ(as_json(*got).dump(2), as_json(full).dump(2));
  EXPECT_EQ(got->source_bytes, full.source_bytes);
  EXPECT_EQ(got->renditions, full.renditions);
  ASSERT_TRUE(got->info);
  EXPECT_EQ(got->info->camera_model, full.info->camera_model);
  EXPECT_DOUBLE_EQ(got->processing_ms, full.processing_ms);
  EXPECT_DOUBLE_EQ(got->render_ms, full.render_ms);

  // Optional parts absent: no probe facts, no EXIF, no renditions, empty strings.
  auto bare = minimal_record("bare-1", "2026-11-25T10:00:00.000Z");
  bare.status = RecordStatus::failed;
  bare.error_kind = "corrupt";
  bare.error_message = "not an image: uploads/bare-1.jpg";
  ASSERT_TRUE(catalog().put_if_absent(bare));
  got = catalog().get("bare-1");
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_EQ(as_json(*got).dump(2), as_json(bare).dump(2));
  EXPECT_FALSE(got->info.has_value());
  EXPECT_TRUE(got->renditions.empty());

  auto no_exif = full_record("noexif-1");
  no_exif.info->capture_time.reset();
  no_exif.info->camera_make.reset();
  no_exif.info->camera_model.reset();
  no_exif.info->colour_space.clear();
  no_exif.etag.clear();
  no_exif.processing_ms = 0;
  ASSERT_TRUE(catalog().put_if_absent(no_exif));
  got = catalog().get("noexif-1");
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_EQ(as_json(*got).dump(2), as_json(no_exif).dump(2));
  EXPECT_FALSE(got->info->capture_time.has_value());
}

TEST_P(CatalogContract, date_query_is_newest_first_and_pages_return_each_record_once) {
  const auto records = dated_records();
  put_all(catalog(), records);
  std::vector<ImageRecord> wanted;
  for (const auto& r : records)
    if (r.upload_date >= "2026-11-21" && r.upload_date <= "2026-11-23T23:59:59.999Z") wanted.push_back(r);
  const auto expected = ids_newest_first(wanted);
  ASSERT_EQ(expected.size(), 45u);
  for (int page_size : {1, 3, 50}) {
    auto ids = date_query_ids(catalog(), range("2026-11-21", "2026-11-23"), page_size);
    EXPECT_EQ(ids, expected) << "page size " << page_size;
  }
  // The same over the whole data set without bounds.
  EXPECT_EQ(date_query_ids(catalog(), {}, 7), ids_newest_first(records));
}

TEST_P(CatalogContract, date_bounds_are_inclusive_to_the_millisecond) {
  const auto records = dated_records();
  put_all(catalog(), records);
  // 2026-11-21T05:07:00.000Z and 2026-11-22T09:14:00.000Z are upload dates of three records each.
  auto ids = date_query_ids(catalog(), range("2026-11-21T05:07:00.000Z", "2026-11-22T09:14:00.000Z"), 4);
  std::vector<ImageRecord> wanted;
  for (const auto& r : records)
    if (r.upload_date >= "2026-11-21T05:07:00.000Z" && r.upload_date <= "2026-11-22T09:14:00.000Z")
      wanted.push_back(r);
  EXPECT_EQ(ids, ids_newest_first(wanted));
  EXPECT_EQ(ids.size(), 21u);
  // One millisecond inside on each side drops both boundary groups.
  ids = date_query_ids(catalog(), range("2026-11-21T05:07:00.001Z", "2026-11-22T09:13:59.999Z"), 50);
  EXPECT_EQ(ids.size(), 15u);
  // An empty range and a range with no records.
  ids = date_query_ids(catalog(), range("2026-11-24", "2026-11-30"), 5);
  EXPECT_TRUE(ids.empty());
  ids = date_query_ids(catalog(), range("2026-11-23", "2026-11-21"), 5);
  EXPECT_TRUE(ids.empty());
}

TEST_P(CatalogContract, date_query_filters_by_status) {
  const auto records = dated_records();
  put_all(catalog(), records);
  std::vector<ImageRecord> failed;
  for (const auto& r : records)
    if (r.status == RecordStatus::failed && r.upload_date >= "2026-11-20T05" && r.upload_date <= "2026-11-22T23")
      failed.push_back(r);
  for (int page_size : {1, 3, 50}) {
    auto ids = date_query_ids(
        catalog(), range("2026-11-20T05:00:00Z", "2026-11-22T23:00:00Z", RecordStatus::failed),
        page_size);
    EXPECT_EQ(ids, ids_newest_first(failed)) << "page size " << page_size;
  }
}

TEST_P(CatalogContract, status_query_pages_return_each_record_once) {
  const auto records = dated_records();
  put_all(catalog(), records);
  for (auto status : {RecordStatus::failed, RecordStatus::processed}) {
    std::set<std::string> expected;
    for (const auto& r : records)
      if (r.status == status) expected.insert(r.image_id);
    for (int page_size : {1, 4, 50}) {
      auto ids = all_pages([&](const std::string& token) { return catalog().query_by_status(status, page_size, token); },
                           page_size);
      std::set<std::string> unique(ids.begin(), ids.end());
      EXPECT_EQ(unique.size(), ids.size()) << "a record came back twice, page size " << page_size;
      EXPECT_EQ(unique, expected) << "page size " << page_size;
    }
  }
}

TEST_P(CatalogContract, remove_deletes_and_removing_a_missing_record_succeeds) {
  ASSERT_TRUE(catalog().put_if_absent(minimal_record("gone-1", "2026-11-25T10:00:00.000Z")));
  ASSERT_TRUE(catalog().put_if_absent(minimal_record("kept-1", "2026-11-25T10:00:00.000Z")));
  auto s = catalog().remove("gone-1");
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(catalog().get("gone-1").error().kind, ErrorKind::not_found);
  EXPECT_TRUE(catalog().get("kept-1"));
  EXPECT_TRUE(catalog().remove("gone-1"));
  EXPECT_TRUE(catalog().remove("never-there"));
  auto day = catalog().query_by_upload_date(range("2026-11-25", "2026-11-25"));
  ASSERT_TRUE(day);
  ASSERT_EQ(day->records.size(), 1u);
  EXPECT_EQ(day->records[0].image_id, "kept-1");
  // Gone records can be put again.
  auto again = catalog().put_if_absent(minimal_record("gone-1", "2026-11-25T10:00:00.000Z"));
  ASSERT_TRUE(again);
  EXPECT_TRUE(*again);
}

TEST_P(CatalogContract, concurrent_put_if_absent_inserts_each_id_exactly_once) {
  constexpr int kThreads = 8;
  constexpr int kIds = 50;
  std::vector<ImageRecord> records;
  for (int i = 0; i < kIds; ++i)
    records.push_back(minimal_record(make_image_id("photos", "race/" + std::to_string(i), "v1"),
                                     "2026-11-25T10:00:00.000Z"));
  std::atomic<int> inserted{0};
  std::atomic<int> errors{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kIds; ++i) {
        // Each thread walks the ids from its own starting point, so races happen everywhere.
        const auto& r = records[static_cast<std::size_t>((i + t * 7) % kIds)];
        auto put = catalog().put_if_absent(r);
        if (!put) {
          ++errors;
          ADD_FAILURE() << put.error().describe();
        } else if (*put) {
          ++inserted;
        }
      }
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(inserted.load(), kIds);
  auto ids = date_query_ids(catalog(), range("2026-11-25", "2026-11-25"), 1000);
  EXPECT_EQ(ids, ids_newest_first(records));
}

TEST_P(CatalogContract, batch_put_writes_every_record_and_the_later_duplicate_wins) {
  std::vector<ImageRecord> records;
  for (int i = 0; i < 60; ++i)
    records.push_back(minimal_record("batch-" + std::to_string(i), "2026-11-25T10:00:00.000Z"));
  auto dup = records[5];
  dup.attempts = 9;
  records.push_back(dup);
  auto s = catalog().batch_put(records);
  ASSERT_TRUE(s) << s.error().describe();
  auto ids = date_query_ids(catalog(), range("2026-11-25", "2026-11-25"), 1000);
  EXPECT_EQ(ids.size(), 60u);
  auto got = catalog().get("batch-5");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->attempts, 9);
  EXPECT_TRUE(catalog().batch_put({}));
}

TEST_P(CatalogContract, bounds_may_be_left_open) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  auto recent = minimal_record("recent-1", format_upload_date(now - hours(1)));
  auto older = minimal_record("older-1", format_upload_date(now - days(3)));
  ASSERT_TRUE(catalog().put_if_absent(recent));
  ASSERT_TRUE(catalog().put_if_absent(older));
  auto ids = date_query_ids(catalog(), {}, 1);
  EXPECT_EQ(ids, (std::vector<std::string>{"recent-1", "older-1"}));
  ids = date_query_ids(catalog(), range(format_upload_date(now - days(1)), ""), 10);
  EXPECT_EQ(ids, (std::vector<std::string>{"recent-1"}));
  ids = date_query_ids(catalog(), range("", format_upload_date(now - days(1))), 10);
  EXPECT_EQ(ids, (std::vector<std::string>{"older-1"}));
}

TEST_P(CatalogContract, refuses_invalid_input) {
  auto bad = minimal_record("bad-1", "2026-11-25 10:00");
  auto put = catalog().put_if_absent(bad);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(catalog().upsert(minimal_record("", "2026-11-25T10:00:00.000Z")).error().kind,
            ErrorKind::invalid_argument);
  EXPECT_EQ(catalog().query_by_upload_date(with_limit(0)).error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(catalog().query_by_upload_date(with_limit(kMaxPageSize + 1)).error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(catalog().query_by_upload_date(with_token("garbage!")).error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(catalog().query_by_upload_date(range("last week", "")).error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(catalog().query_by_status(RecordStatus::failed, 50, "garbage!").error().kind,
            ErrorKind::invalid_argument);
}

}  // namespace thumbflow::catalog::contract
