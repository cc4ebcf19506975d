#include "pipeline/reconcile.hpp"

#include <gtest/gtest.h>

#include <set>

#include "catalog/image_id.hpp"
#include "fakes.hpp"
#include "storage/local_store.hpp"
#include "test_support.hpp"

namespace thumbflow::pipeline {
namespace {

const std::string kBucket = "image-processing-local";

class Reconcile : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store.create_bucket(kBucket).ok()); }

  std::string put(const std::string& key, const std::string& bytes) {
    auto r = store.put(ObjectRef{kBucket, key}, bytes);
    EXPECT_TRUE(r.ok());
    return r->etag;
  }
  void record(const std::string& key, const std::string& etag, RecordStatus status) {
    ImageRecord r;
    r.image_id = catalog::make_image_id(kBucket, key, etag);
    r.bucket = kBucket;
    r.original_key = key;
    r.upload_date = "2026-11-25T10:00:00.000Z";
    r.status = status;
    if (status == RecordStatus::failed) {
      r.error_kind = "corrupt";
      r.error_message = "truncated";
    } else {
      r.thumbnail_key = "thumbnails/x.jpg";
    }
    r.etag = etag;
    ASSERT_TRUE(catalog.upsert(r).ok());
  }
  Result<ReconcileReport> run(std::set<std::string> already_queued = {}) {
    return reconcile(store, catalog, trigger, kBucket, [&, already_queued](const ObjectCreated& ev) -> Result<bool> {
      announced.push_back(ev);
      return already_queued.count(ev.key) == 0;
    });
  }

  test::TempDir tmp;
  storage::LocalStore store{tmp.path()};
  test::MemoryCatalog catalog;
  TriggerConfig trigger;
  std::vector<ObjectCreated> announced;
};

TEST_F(Reconcile, announces_only_uploads_without_a_record_for_their_version) {
  const std::string done = put("uploads/done.jpg", "a");
  const std::string failed = put("uploads/failed.jpg", "b");
  put("uploads/lost.jpg", "c");
  put("uploads/sub/lost too.png", "dd");
  const std::string old = put("uploads/overwritten.jpg", "old");
  put("uploads/overwritten.jpg", "new");  // a record for the old version only
  put("thumbnails/done.jpg", "t");          // outputs never trigger
  put("elsewhere/x.jpg", "x");
  record("uploads/done.jpg", done, RecordStatus::processed);
  record("uploads/failed.jpg", failed, RecordStatus::failed);
  record("uploads/overwritten.jpg", old, RecordStatus::processed);

  auto report = run({"uploads/sub/lost too.png"});
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_EQ(report->scanned, 5u);
  EXPECT_EQ(report->recorded, 2u);
  EXPECT_EQ(report->queued, 2u);
  EXPECT_EQ(report->pending, 1u);
  std::set<std::string> keys;
  for (const auto& ev : announced) keys.insert(ev.key);
  EXPECT_EQ(keys, (std::set<std::string>{"uploads/lost.jpg", "uploads/sub/lost too.png", "uploads/overwritten.jpg"}));
  for (const auto& ev : announced) {
    EXPECT_EQ(ev.bucket, kBucket);
    EXPECT_TRUE(ev.sequencer.empty()) << "a catch-up event must never hide a newer notification";
    EXPECT_EQ(ev.source, "thumbflow:reconcile");
    EXPECT_EQ(ev.event_time.size(), 24u) << ev.event_time;
    if (ev.key == "uploads/overwritten.jpg") {
      EXPECT_EQ(ev.etag, store.head(ObjectRef{kBucket, ev.key})->etag);
      EXPECT_EQ(ev.size, 3u);
    }
  }
}

TEST_F(Reconcile, walks_every_page_of_a_large_prefix) {
  for (int i = 0; i < 1001; ++i) put("uploads/" + std::to_string(i) + ".jpg", std::to_string(i));
  auto report = run();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->scanned, 1001u);
  EXPECT_EQ(report->queued, 1001u);
  EXPECT_EQ(announced.size(), 1001u);
}

TEST_F(Reconcile, stops_on_a_catalog_outage_and_says_which_object) {
  put("uploads/a.jpg", "a");
  catalog.down = true;
  auto report = run();
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("uploads/a.jpg"), std::string::npos) << report.error().message;
  EXPECT_TRUE(announced.empty());
}

TEST_F(Reconcile, a_missing_bucket_is_an_error_that_names_it) {
  auto report = reconcile(store, catalog, trigger, "no-such-bucket", [](const ObjectCreated&) -> Result<bool> {
    return true;
  });
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().kind, ErrorKind::not_found);
  EXPECT_NE(report.error().message.find("no-such-bucket"), std::string::npos);
}

TEST_F(Reconcile, stops_when_asked) {
  put("uploads/a.jpg", "a");
  std::atomic<bool> stop{true};
  auto report = reconcile(store, catalog, trigger, kBucket, [](const ObjectCreated&) -> Result<bool> { return true; },
                          &stop);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->scanned, 0u);
}

}  // namespace
}  // namespace thumbflow::pipeline
