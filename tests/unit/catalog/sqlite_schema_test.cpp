// The SQLite catalog's schema steps and error mapping, against files built by hand.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <memory>
#include <string>

#include "catalog/sqlite_catalog.hpp"
#include "catalog/sqlite_schema.hpp"
#include "test_support.hpp"

namespace thumbflow::catalog {
namespace {

// A raw connection for building and inspecting files outside the catalog.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("open failed");
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  void exec(const std::string& sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string text = msg ? msg : "?";
      sqlite3_free(msg);
      throw std::runtime_error(sql + ": " + text);
    }
  }
  // The first column of the first row, as text ("" for NULL or no row).
  std::string scalar(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) throw std::runtime_error(sql);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

ImageRecord sample(const std::string& id, const std::string& date) {
  ImageRecord r;
  r.image_id = id;
  r.bucket = "b";
  r.original_key = "uploads/" + id + ".jpg";
  r.upload_date = date;
  r.updated_at = date;
  return r;
}

TEST(SqliteSchema, steps_are_numbered_one_up_in_order) {
  auto steps = sqlite_schema_steps();
  ASSERT_FALSE(steps.empty());
  for (std::size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i].version, static_cast<int>(i) + 1);
  EXPECT_EQ(sqlite_schema_version(), steps.back().version);
}

TEST(SqliteSchema, a_new_file_gets_the_latest_schema_and_wal_mode) {
  test::TempDir dir;
  auto path = dir.path() / "catalog.db";
  {
    auto catalog = SqliteCatalog::open(path);
    ASSERT_TRUE(catalog) << catalog.error().describe();
  }
  RawDb db(path);
  EXPECT_EQ(db.scalar("PRAGMA user_version"), std::to_string(sqlite_schema_version()));
  EXPECT_EQ(db.scalar("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'ImageMetadata_uploadDate'"),
            "1");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                      "name = 'ImageMetadata_status_uploadDate'"),
            "1");
}

TEST(SqliteSchema, an_old_file_is_migrated_and_keeps_its_rows) {
  test::TempDir dir;
  auto path = dir.path() / "old.db";
  {
    RawDb db(path);
    db.exec(std::string(sqlite_schema_steps()[0].sql));
    db.exec("PRAGMA user_version = 1");
    db.exec(R"(INSERT INTO ImageMetadata (imageId, bucket, originalImage, thumbnailImage, uploadDate, status,
                 attempts, sourceBytes, processingMs, updatedAt, details)
               VALUES ('old1', 'b', 'uploads/old1.png', 'thumbnails/old1.jpg', '2026-11-20T08:00:00.000Z',
                 'processed', 1, 1234, 12.5, '2026-11-20T08:00:01.000Z',
                 '{"image":{"format":"png","width":640,"height":480},"etag":"e1",
                   "renditions":[{"name":"thumbnail","key":"thumbnails/old1.jpg","format":"jpeg","width":128,"height":96,"bytes":900}]}'))");
  }
  auto catalog = SqliteCatalog::open(path);
  ASSERT_TRUE(catalog) << catalog.error().describe();
  auto old = (*catalog)->get("old1");
  ASSERT_TRUE(old) << old.error().describe();
  ASSERT_TRUE(old->info.has_value());
  EXPECT_EQ(old->info->format, SourceFormat::png);
  EXPECT_EQ(old->info->width, 640u);
  EXPECT_EQ(old->etag, "e1");
  ASSERT_EQ(old->renditions.size(), 1u);
  EXPECT_EQ(old->renditions[0].bytes, 900u);
  EXPECT_EQ(old->source_bytes, 1234u);

  RawDb db(path);
  EXPECT_EQ(db.scalar("PRAGMA user_version"), std::to_string(sqlite_schema_version()));
  EXPECT_EQ(db.scalar("SELECT format || ' ' || width || 'x' || height FROM ImageMetadata WHERE imageId = 'old1'"),
            "png 640x480");
  // The migrated file takes new records and serves the status query (a step-2 index).
  ASSERT_TRUE((*catalog)->upsert(sample("new1", "2026-11-21T08:00:00.000Z")));
  auto processed = (*catalog)->query_by_status(RecordStatus::processed);
  ASSERT_TRUE(processed) << processed.error().describe();
  EXPECT_EQ(processed->records.size(), 2u);
}

TEST(SqliteSchema, opening_twice_does_not_migrate_again) {
  test::TempDir dir;
  auto path = dir.path() / "c.db";
  ASSERT_TRUE(SqliteCatalog::open(path));
  auto again = SqliteCatalog::open(path);
  ASSERT_TRUE(again) << again.error().describe();
  ASSERT_TRUE((*again)->upsert(sample("a", "2026-11-21T08:00:00.000Z")));
}

TEST(SqliteSchema, a_newer_schema_is_refused) {
  test::TempDir dir;
  auto path = dir.path() / "future.db";
  {
    RawDb db(path);
    db.exec("CREATE TABLE t (x); PRAGMA user_version = 999");
  }
  auto catalog = SqliteCatalog::open(path);
  ASSERT_FALSE(catalog);
  EXPECT_EQ(catalog.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(catalog.error().message.find("999"), std::string::npos) << catalog.error().message;
}

TEST(SqliteErrors, a_file_that_is_not_a_database_is_io) {
  test::TempDir dir;
  auto path = dir.path() / "junk.db";
  std::ofstream(path) << std::string(8192, 'x');
  auto catalog = SqliteCatalog::open(path);
  ASSERT_FALSE(catalog);
  EXPECT_EQ(catalog.error().kind, ErrorKind::io);
  EXPECT_EQ(catalog.error().code, "SQLITE_NOTADB");
}

TEST(SqliteErrors, a_missing_directory_is_io) {
  test::TempDir dir;
  auto catalog = SqliteCatalog::open(dir.path() / "no" / "such" / "catalog.db");
  ASSERT_FALSE(catalog);
  EXPECT_EQ(catalog.error().kind, ErrorKind::io);
  EXPECT_EQ(catalog.error().code, "SQLITE_CANTOPEN");
}

TEST(SqliteErrors, a_lock_held_past_busy_timeout_is_unavailable) {
  test::TempDir dir;
  auto path = dir.path() / "busy.db";
  auto catalog = SqliteCatalog::open(path, {.busy_timeout = std::chrono::milliseconds(100)});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  RawDb holder(path);
  holder.exec("BEGIN IMMEDIATE");
  auto start = std::chrono::steady_clock::now();
  auto put = (*catalog)->put_if_absent(sample("x", "2026-11-21T08:00:00.000Z"));
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(put.error().code, "SQLITE_BUSY");
  EXPECT_TRUE(put.error().retryable());
  EXPECT_GE(waited, std::chrono::milliseconds(90));
  // Readers are not blocked by a writer in WAL mode.
  EXPECT_EQ((*catalog)->get("x").error().kind, ErrorKind::not_found);
  holder.exec("ROLLBACK");
  EXPECT_TRUE((*catalog)->put_if_absent(sample("x", "2026-11-21T08:00:00.000Z")));
}

TEST(SqliteErrors, a_damaged_file_is_io) {
  test::TempDir dir;
  auto path = dir.path() / "damaged.db";
  {
    auto catalog = SqliteCatalog::open(path);
    ASSERT_TRUE(catalog);
    std::vector<ImageRecord> many;
    for (int i = 0; i < 300; ++i) many.push_back(sample("id" + std::to_string(i), "2026-11-21T08:00:00.000Z"));
    ASSERT_TRUE((*catalog)->batch_put(many));
  }
  {
    RawDb db(path);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  // Overwrite every page after the first with garbage: the header still says "SQLite".
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    std::string junk(16 * 4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto catalog = SqliteCatalog::open(path);
  Error error;
  if (!catalog) {
    error = catalog.error();
  } else {
    auto got = (*catalog)->get("id7");
    ASSERT_FALSE(got);
    error = got.error();
  }
  EXPECT_EQ(error.kind, ErrorKind::io) << error.describe();
}

}  // namespace
}  // namespace thumbflow::catalog
