// Every case of the hostile corpus through the real Pipeline (LocalStore and SqliteCatalog in a
// temporary folder, the libvips renderer): exactly one record each, with the documented kind and
// a message naming the object and the reason, in bounded time and memory, and no output object
// for a refused file. The bounds are generous (they catch hangs and blowups, not slowness).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "catalog/sqlite_catalog.hpp"
#include "hostile_corpus.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/vips_renderer.hpp"
#include "storage/local_store.hpp"
#include "test_support.hpp"

namespace thumbflow::pipeline {
namespace {

const char* kBucket = "image-processing-local";
// A guard against hangs, not a speed figure (each case takes milliseconds in the release build);
// ASan's instrumented libvips calls run several times slower.
constexpr double kCaseBoundMs = test::kAddressSanitizer ? 10000 : 2000;
constexpr long kRunRssBoundKib = 64 * 1024;

class HostileInput : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store.create_bucket(kBucket).ok());
    auto opened = catalog::SqliteCatalog::open(tmp.path() / "catalog.db");
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    catalog_ = std::move(*opened);
    pipeline_ = std::make_unique<Pipeline>(PipelineConfig{}, store, *catalog_, renderer);
  }

  ObjectCreated upload(const std::string& key, const std::string& bytes) {
    auto put = store.put(ObjectRef{kBucket, key}, bytes);
    EXPECT_TRUE(put.ok()) << key;
    ObjectCreated ev;
    ev.bucket = kBucket;
    ev.key = key;
    ev.etag = put.ok() ? put->etag : "";
    ev.size = bytes.size();
    ev.event_time = "2026-12-05T21:00:00.000Z";
    ev.event_name = "ObjectCreated:Put";
    ev.source = "thumbflow";
    return ev;
  }

  std::vector<ImageRecord> all(RecordStatus status) {
    std::vector<ImageRecord> out;
    std::string token;
    do {
      auto page = catalog_->query_by_status(status, 100, token);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) break;
      for (auto& r : page->records) out.push_back(r);
      token = page->next_page_token;
    } while (!token.empty());
    return out;
  }

  std::vector<std::string> outputs() {
    std::vector<std::string> keys;
    storage::ListOptions opts;
    opts.prefix = "thumbnails/";
    do {
      auto page = store.list(kBucket, opts);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) break;
      for (auto& o : page->objects) keys.push_back(o.key);
      opts.continuation_token = page->next_continuation_token;
    } while (!opts.continuation_token.empty());
    return keys;
  }

  test::TempDir tmp;
  storage::LocalStore store{tmp.path() / "objects"};
  std::unique_ptr<catalog::SqliteCatalog> catalog_;
  VipsRenderer renderer;
  std::unique_ptr<Pipeline> pipeline_;
};

}  // namespace

TEST(HostileCorpus, is_deterministic_with_unique_names_and_a_reason_for_each_case) {
  auto a = test::hostile::corpus();
  auto b = test::hostile::corpus();
  ASSERT_EQ(a.size(), b.size());
  std::set<std::string> names, keys;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].bytes, b[i].bytes) << a[i].name;
    EXPECT_TRUE(names.insert(a[i].name).second) << a[i].name;
    EXPECT_TRUE(keys.insert(a[i].key).second) << a[i].key;
    EXPECT_FALSE(a[i].why.empty()) << a[i].name;
    if (a[i].kind) {
      EXPECT_FALSE(a[i].phrase.empty()) << a[i].name;
    }
  }
  // The bombs are small: the danger is in what they declare.
  for (const auto& c : a) {
    if (c.name == "png_declares_30000x30000" || c.name == "jpeg_declares_30000x30000") {
      EXPECT_LT(c.bytes.size(), 1000u);
    }
    if (c.name == "gif_10000_frames") {
      EXPECT_LT(c.bytes.size(), 200'000u);
    }
  }
}

TEST_F(HostileInput, each_case_ends_as_one_record_of_the_documented_kind_in_bounded_time_and_memory) {
  const auto cases = test::hostile::corpus();
  // Warm up (libvips start, SQLite pages, the loaders' first use) so the memory figure is the
  // growth the hostile files cause, not the process's start.
  for (const char* name : {"skimage_coins.png", "mate_FreshFlower.jpg", "skimage_no_time_for_that_tiny.gif",
                           "syn_photo_mate_RainDrops.webp", "skimage_chessboard_GRAY_U16.tif",
                           "syn_photo_mate_Blinds.avif"}) {
    auto r = pipeline_->process(upload(std::string("uploads/warmup/") + name, test::corpus_bytes(name)), 1, true);
    ASSERT_EQ(r.outcome, Outcome::processed) << name << ": " << (r.error ? r.error->describe() : "");
  }
  const std::size_t warm_outputs = outputs().size();
  const long rss_start = test::peak_rss_kib();

  std::set<std::string> expected_outputs;
  std::size_t failures = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ObjectCreated ev = upload(c.key, c.bytes);
    const long rss_before = test::peak_rss_kib();
    const auto started = std::chrono::steady_clock::now();
    ProcessResult r = pipeline_->process(ev, 1, false);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    const long grew = test::peak_rss_kib() - rss_before;
    const std::string outcome = r.error ? std::string(to_string(r.error->kind)) : std::string(to_string(r.outcome));
    const std::string msg = r.error ? r.error->message.substr(r.error->message.find(": ") + 2, 150) : "";
    std::printf("%-44s %-18s %8.1f ms %7ld KiB  %s\n", c.name.c_str(), outcome.c_str(), ms, grew, msg.c_str());
    EXPECT_LT(ms, kCaseBoundMs) << "a hostile file must be dealt with in bounded time";

    auto rec = catalog_->get(r.image_id);
    ASSERT_TRUE(rec.ok()) << "every case leaves a record";
    if (c.kind) {
      ++failures;
      EXPECT_EQ(r.outcome, Outcome::failed) << (r.error ? r.error->describe() : "no error");
      EXPECT_EQ(rec->status, RecordStatus::failed);
      EXPECT_EQ(rec->error_kind, to_string(*c.kind)) << rec->error_message;
      EXPECT_NE(rec->error_message.find(c.phrase), std::string::npos) << rec->error_message;
      EXPECT_NE(rec->error_message.find(c.key), std::string::npos) << "the message names the object: "
                                                                  << rec->error_message;
      EXPECT_TRUE(rec->thumbnail_key.empty());
      EXPECT_TRUE(rec->renditions.empty());
      EXPECT_FALSE(is_retryable(*c.kind)) << "a hostile file is a permanent failure, never retried";
    } else {
      EXPECT_EQ(r.outcome, Outcome::processed) << (r.error ? r.error->describe() : "");
      if (rec->renditions.size() != 1u) {
        ADD_FAILURE() << "one rendition expected";
        continue;
      }
      expected_outputs.insert(rec->thumbnail_key);
      auto thumb = store.get_bytes(ObjectRef{kBucket, rec->thumbnail_key});
      ASSERT_TRUE(thumb.ok());
      EXPECT_EQ(thumb->substr(0, 3), "\xFF\xD8\xFF") << "a fresh JPEG";
      EXPECT_EQ(thumb->find("PAYLOAD"), std::string::npos) << "no byte of the polyglot's payload reaches the output";
    }

    // A duplicate delivery of the same upload: the same outcome, still one record.
    ProcessResult again = pipeline_->process(ev, 1, false);
    EXPECT_EQ(again.image_id, r.image_id);
    EXPECT_EQ(again.outcome, c.kind ? Outcome::failed : Outcome::already_done);
  }
  const long rss_growth = test::peak_rss_kib() - rss_start;
  std::printf("%zu cases, peak RSS growth over the run %ld KiB\n", cases.size(), rss_growth);
  if (!test::kAddressSanitizer) {
    EXPECT_LT(rss_growth, kRunRssBoundKib) << "hostile files must not blow up memory";
  }

  // Exactly one record per case (the duplicates added none), and outputs only for the accepted.
  EXPECT_EQ(all(RecordStatus::failed).size(), failures);
  EXPECT_EQ(all(RecordStatus::processed).size(), cases.size() - failures + 6);
  auto outs = outputs();
  EXPECT_EQ(outs.size(), warm_outputs + expected_outputs.size());
  for (const auto& k : outs)
    if (k.rfind("thumbnails/hostile/", 0) == 0) {
      EXPECT_TRUE(expected_outputs.count(k)) << "unexpected output " << k;
    }

  // And the pipeline still makes a thumbnail for a good image afterwards.
  auto good = pipeline_->process(upload("uploads/after/coins.png", test::corpus_bytes("skimage_coins.png")), 1, true);
  EXPECT_EQ(good.outcome, Outcome::processed);
}

}  // namespace thumbflow::pipeline
