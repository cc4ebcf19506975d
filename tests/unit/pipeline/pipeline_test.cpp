#include <gtest/gtest.h>

#include "catalog/image_id.hpp"
#include "fakes.hpp"
#include "pipeline/vips_renderer.hpp"
#include "storage/local_store.hpp"
#include "test_support.hpp"

namespace thumbflow::pipeline {
namespace {

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(local.create_bucket("image-processing-local").ok()); }

  ObjectCreated upload(const std::string& key, const std::string& bytes) {
    auto put = local.put(ObjectRef{"image-processing-local", key}, bytes);
    EXPECT_TRUE(put.ok());
    ObjectCreated ev;
    ev.bucket = "image-processing-local";
    ev.key = key;
    ev.etag = put->etag;
    ev.size = bytes.size();
    ev.event_time = "2026-11-25T10:11:12.345678Z";
    ev.event_name = "ObjectCreated:Put";
    ev.source = "thumbflow";
    return ev;
  }
  ObjectCreated upload_corpus(const std::string& key, const std::string& name) {
    return upload(key, test::read_bytes(test::corpus_dir() / name));
  }

  test::TempDir tmp;
  storage::LocalStore local{tmp.path()};
  test::FaultyStore store{local};
  test::MemoryCatalog catalog;
  VipsRenderer renderer;
  Pipeline pipeline{PipelineConfig{}, store, catalog, renderer};
};

}  // namespace

TEST(RenditionKey, replaces_the_extension_under_the_output_prefix) {
  TriggerConfig t;
  RenditionSpec thumb;
  EXPECT_EQ(rendition_key(t, thumb, true, "uploads/photo.jpg"), "thumbnails/photo.jpg");
  EXPECT_EQ(rendition_key(t, thumb, true, "uploads/a/b.c/my photo.PNG"), "thumbnails/a/b.c/my photo.jpg");
  EXPECT_EQ(rendition_key(t, thumb, true, "uploads/noext"), "thumbnails/noext.jpg");
  EXPECT_EQ(rendition_key(t, thumb, true, "uploads/.hidden"), "thumbnails/.hidden.jpg");
  RenditionSpec medium;
  medium.name = "medium";
  medium.format = OutputFormat::webp;
  EXPECT_EQ(rendition_key(t, medium, false, "uploads/x/photo.jpeg"), "thumbnails/medium/x/photo.webp");
}

TEST(TriggerConfig, matches_inputs_never_outputs_and_refuses_loops) {
  TriggerConfig t;
  EXPECT_TRUE(t.matches("uploads/a.jpg"));
  EXPECT_FALSE(t.matches("thumbnails/a.jpg"));
  EXPECT_FALSE(t.matches("other/a.jpg"));
  t.suffixes = {".jpg", ".png"};
  EXPECT_TRUE(t.matches("uploads/A.JPG"));
  EXPECT_FALSE(t.matches("uploads/a.gif"));
  EXPECT_TRUE(t.validate().ok());
  TriggerConfig loop;
  loop.input_prefix = "";
  EXPECT_FALSE(loop.validate().ok()) << "outputs under thumbnails/ would match an empty input prefix";
  loop.input_prefix = "uploads/";
  loop.output_prefix = "uploads/thumbs/";
  auto st = loop.validate();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("trigger processing again"), std::string::npos);
  loop.output_prefix = "";
  EXPECT_FALSE(loop.validate().ok());
}

TEST(NormalizeEventTime, gives_milliseconds_and_z) {
  EXPECT_EQ(normalize_event_time("2016-09-25T05:15:44.261Z"), "2016-09-25T05:15:44.261Z");
  EXPECT_EQ(normalize_event_time("2026-11-25T12:00:00.123456Z"), "2026-11-25T12:00:00.123Z");
  EXPECT_EQ(normalize_event_time("2021-11-12T00:00:00Z"), "2021-11-12T00:00:00.000Z");
  EXPECT_EQ(normalize_event_time("garbage"), "");
  EXPECT_EQ(normalize_event_time("2021-13-12T00:00:00Z"), "");
  EXPECT_EQ(now_iso8601().size(), 24u);
}

TEST_F(PipelineTest, an_upload_becomes_a_thumbnail_and_a_processed_record) {
  auto ev = upload_corpus("uploads/holiday/Storm photo.jpg", "mate_Storm.jpg");
  auto r = pipeline.process(ev, 1, false);
  ASSERT_EQ(r.outcome, Outcome::processed) << (r.error ? r.error->describe() : "");
  EXPECT_EQ(r.image_id, catalog::make_image_id(ev.bucket, ev.key, ev.etag));
  auto thumb = local.head(ObjectRef{"image-processing-local", "thumbnails/holiday/Storm photo.jpg"});
  ASSERT_TRUE(thumb.ok());
  EXPECT_EQ(thumb->content_type, "image/jpeg");
  EXPECT_EQ(thumb->cache_control, "public, max-age=31536000, immutable");
  auto rec = catalog.get(r.image_id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, RecordStatus::processed);
  EXPECT_EQ(rec->original_key, ev.key);
  EXPECT_EQ(rec->thumbnail_key, "thumbnails/holiday/Storm photo.jpg");
  EXPECT_EQ(rec->upload_date, "2026-11-25T10:11:12.345Z");
  ASSERT_EQ(rec->renditions.size(), 1u);
  EXPECT_EQ(rec->renditions[0].width, 128u);
  EXPECT_EQ(rec->renditions[0].height, 85u);
  EXPECT_EQ(rec->renditions[0].bytes, thumb->size);
  ASSERT_TRUE(rec->info.has_value());
  EXPECT_EQ(rec->info->width, 1920u);
  EXPECT_EQ(rec->info->camera_make, "Canon");
  EXPECT_EQ(rec->blurhash.size(), 28u);
  EXPECT_EQ(rec->dominant_colour.size(), 7u);
  EXPECT_GT(rec->processing_ms, 0.0);
  EXPECT_GT(rec->render_ms, 0.0);
  EXPECT_LT(rec->render_ms, rec->processing_ms);
  EXPECT_EQ(rec->source_bytes, ev.size);
}

TEST_F(PipelineTest, the_same_event_twice_makes_one_record_and_one_set_of_thumbnails) {
  auto ev = upload_corpus("uploads/a.png", "skimage_astronaut.png");
  ASSERT_EQ(pipeline.process(ev, 1, false).outcome, Outcome::processed);
  int puts = store.puts, upserts = catalog.upserts;
  EXPECT_EQ(pipeline.process(ev, 1, false).outcome, Outcome::already_done);
  EXPECT_EQ(store.puts, puts);
  EXPECT_EQ(catalog.upserts, upserts);
  EXPECT_EQ(catalog.size(), 1u);
  // Forced (reprocess): rendered and written again, still one record.
  EXPECT_EQ(pipeline.process(ev, 1, false, /*force=*/true).outcome, Outcome::processed);
  EXPECT_GT(store.puts, puts);
  EXPECT_EQ(catalog.size(), 1u);
}

TEST_F(PipelineTest, bad_input_ends_as_a_failure_record_saying_what_which_and_why) {
  auto truncated = upload_corpus("uploads/t.jpg", "skimage_truncated.jpg");
  auto r = pipeline.process(truncated, 1, false);
  ASSERT_EQ(r.outcome, Outcome::failed);
  auto rec = catalog.get(r.image_id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, RecordStatus::failed);
  EXPECT_EQ(rec->error_kind, "corrupt");
  EXPECT_NE(rec->error_message.find("s3://image-processing-local/uploads/t.jpg"), std::string::npos) << rec->error_message;
  EXPECT_NE(rec->error_message.find("truncated jpeg"), std::string::npos) << rec->error_message;
  EXPECT_TRUE(rec->thumbnail_key.empty());
  EXPECT_FALSE(local.head(ObjectRef{"image-processing-local", "thumbnails/t.jpg"}).ok());

  auto text = upload("uploads/notes.jpg", "this is not a photo");
  auto t = pipeline.process(text, 1, false);
  ASSERT_EQ(t.outcome, Outcome::failed);
  EXPECT_EQ(catalog.get(t.image_id)->error_kind, "unsupported_format");
}

TEST_F(PipelineTest, keys_outside_the_trigger_are_skipped) {
  auto out = upload_corpus("thumbnails/x.jpg", "mate_Storm.jpg");
  EXPECT_EQ(pipeline.process(out, 1, false).outcome, Outcome::skipped);
  auto other = upload_corpus("elsewhere/x.jpg", "mate_Storm.jpg");
  EXPECT_EQ(pipeline.process(other, 1, false).outcome, Outcome::skipped);
  EXPECT_EQ(catalog.size(), 0u);
}

TEST_F(PipelineTest, store_down_mid_write_retries_then_records_on_the_last_attempt) {
  auto ev = upload_corpus("uploads/a.jpg", "mate_Storm.jpg");
  store.fail_puts = true;
  auto r1 = pipeline.process(ev, 1, false);
  EXPECT_EQ(r1.outcome, Outcome::retry);
  EXPECT_EQ(r1.error->kind, ErrorKind::unavailable);
  EXPECT_EQ(catalog.size(), 0u) << "nothing recorded while retries remain";
  auto last = pipeline.process(ev, 5, true);
  EXPECT_EQ(last.outcome, Outcome::failed);
  EXPECT_EQ(catalog.get(last.image_id)->error_kind, "unavailable");
  // The fault clears; a retry finishes the job and the failure record becomes processed.
  store.fail_puts = false;
  auto ok = pipeline.process(ev, 6, false);
  EXPECT_EQ(ok.outcome, Outcome::processed);
  EXPECT_EQ(catalog.get(ok.image_id)->status, RecordStatus::processed);
  EXPECT_EQ(catalog.size(), 1u);
}

TEST_F(PipelineTest, catalog_down_asks_for_a_retry_and_writes_nothing_twice) {
  auto ev = upload_corpus("uploads/a.jpg", "mate_Storm.jpg");
  catalog.down = true;
  EXPECT_EQ(pipeline.process(ev, 1, false).outcome, Outcome::retry);
  catalog.down = false;
  EXPECT_EQ(pipeline.process(ev, 2, false).outcome, Outcome::processed);
  EXPECT_EQ(catalog.size(), 1u);
}

TEST_F(PipelineTest, an_event_for_an_overwritten_object_processes_the_newest_version) {
  auto first = upload_corpus("uploads/a.jpg", "mate_Storm.jpg");
  auto second = upload_corpus("uploads/a.jpg", "mate_Blinds.jpg");  // overwritten before processing
  auto r = pipeline.process(first, 1, false);
  ASSERT_EQ(r.outcome, Outcome::processed);
  EXPECT_EQ(r.image_id, catalog::make_image_id(second.bucket, second.key, second.etag));
  EXPECT_EQ(catalog.get(r.image_id)->info->camera_model, "Canon EOS 350D DIGITAL");  // mate_Blinds' camera
  // The newer version's own event then finds its record: one record for the key's final state.
  EXPECT_EQ(pipeline.process(second, 1, false).outcome, Outcome::already_done);
  EXPECT_EQ(catalog.size(), 1u);
}

TEST_F(PipelineTest, a_deleted_object_gets_a_failure_record) {
  auto gone = upload_corpus("uploads/b.jpg", "mate_Storm.jpg");
  ASSERT_TRUE(local.remove(gone.ref()).ok());
  auto r = pipeline.process(gone, 1, false);
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_EQ(catalog.get(r.image_id)->error_kind, "not_found");
}

TEST_F(PipelineTest, sources_over_the_byte_limit_are_refused_before_reading) {
  PipelineConfig cfg;
  cfg.limits.max_source_bytes = 1000;
  Pipeline small(cfg, store, catalog, renderer);
  auto ev = upload_corpus("uploads/a.jpg", "mate_Storm.jpg");
  auto r = small.process(ev, 1, false);
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_EQ(catalog.get(r.image_id)->error_kind, "too_large");
}

TEST_F(PipelineTest, more_renditions_by_configuration) {
  PipelineConfig cfg;
  RenditionSpec medium;
  medium.name = "medium";
  medium.width = medium.height = 512;
  medium.format = OutputFormat::webp;
  cfg.renditions.push_back(medium);
  Pipeline two(cfg, store, catalog, renderer);
  auto ev = upload_corpus("uploads/p/photo.jpeg", "mate_TwoWings.jpg");
  auto r = two.process(ev, 1, false);
  ASSERT_EQ(r.outcome, Outcome::processed);
  auto rec = catalog.get(r.image_id);
  ASSERT_EQ(rec->renditions.size(), 2u);
  EXPECT_EQ(rec->renditions[1].key, "thumbnails/medium/p/photo.webp");
  EXPECT_EQ(rec->renditions[1].width, 512u);
  EXPECT_EQ(local.head(ObjectRef{"image-processing-local", "thumbnails/medium/p/photo.webp"})->content_type, "image/webp");
}

}  // namespace thumbflow::pipeline
