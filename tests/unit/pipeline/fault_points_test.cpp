// The pipeline under named fault points, with the real durable queue (SQLite), LocalStore,
// SqliteCatalog and libvips renderer. A crash is Action::throw_: the step stops at the point,
// the job's lease stays behind as a dead process would leave it, and "restarting" is what serve
// does at start (recover_leases). Each test checks the promise: nothing lost, one record, no
// partial object visible, and the job finishes once the fault clears.
#include <gtest/gtest.h>

#include "catalog/sqlite_catalog.hpp"
#include "core/fault_point.hpp"
#include "events/job_queue.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/vips_renderer.hpp"
#include "storage/local_store.hpp"
#include "test_support.hpp"

namespace thumbflow::pipeline {
namespace {

const std::string kFaultsBucket = "image-processing-local";

class PipelineFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store.create_bucket(kFaultsBucket).ok());
    events::QueueOptions q;
    q.max_attempts = 3;
    q.backoff_base = std::chrono::milliseconds(0);  // retries are due at once
    q.backoff_max = std::chrono::milliseconds(0);
    auto opened = events::JobQueue::open(tmp.path() / "jobs.db", q);
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    queue = std::move(*opened);
    auto cat = catalog::SqliteCatalog::open(tmp.path() / "catalog.db");
    ASSERT_TRUE(cat.ok()) << cat.error().describe();
    catalog = std::move(*cat);
    pipeline = std::make_unique<Pipeline>(PipelineConfig{}, store, *catalog, renderer);
  }
  void TearDown() override { fault::disarm_all(); }

  // An upload and its durable job, as the endpoint makes them.
  ObjectCreated upload(const std::string& key) {
    const std::string& bytes = test::corpus_bytes("mate_Storm.jpg");
    auto put = store.put(ObjectRef{kFaultsBucket, key}, bytes);
    EXPECT_TRUE(put.ok());
    ObjectCreated ev;
    ev.bucket = kFaultsBucket;
    ev.key = key;
    ev.etag = put->etag;
    ev.size = bytes.size();
    ev.event_time = "2026-12-05T10:00:00.000Z";
    ev.event_name = "ObjectCreated:Put";
    ev.source = "thumbflow";
    auto q = queue->enqueue(ev);
    EXPECT_TRUE(q.ok() && *q == events::EnqueueOutcome::enqueued);
    return ev;
  }

  // One worker step as WorkerPool::work does it: claim, process, settle the job. A thrown
  // fault leaves the job leased, as a killed process would.
  std::optional<Outcome> step() {
    auto claimed = queue->claim("worker-test");
    if (!claimed || !claimed->has_value()) return std::nullopt;
    events::Job job = std::move(**claimed);
    ProcessResult r = pipeline->process(job.event, job.attempts, job.attempts >= 3, job.force);
    switch (r.outcome) {
      case Outcome::failed:
      case Outcome::retry: (void)queue->fail(job.id, r.error.value_or(make_error(ErrorKind::internal, "?"))); break;
      default: (void)queue->complete(job.id); break;
    }
    return r.outcome;
  }
  void restart() {
    auto n = queue->recover_leases();
    ASSERT_TRUE(n.ok());
  }
  std::vector<std::string> keys_under(const std::string& prefix) {
    storage::ListOptions o;
    o.prefix = prefix;
    auto page = store.list(kFaultsBucket, o);
    EXPECT_TRUE(page.ok());
    std::vector<std::string> keys;
    if (page)
      for (const auto& m : page->objects) keys.push_back(m.key);
    return keys;
  }
  std::vector<ImageRecord> records() {
    auto page = catalog->query_by_upload_date({});
    EXPECT_TRUE(page.ok());
    return page ? page->records : std::vector<ImageRecord>{};
  }
  // The whole promise once the fault is gone: one processed record, its thumbnail, no job left.
  void expect_finished_once(const ObjectCreated& ev) {
    auto recs = records();
    ASSERT_EQ(recs.size(), 1u) << "one record per upload, never a duplicate";
    EXPECT_EQ(recs[0].status, RecordStatus::processed) << recs[0].error_message;
    EXPECT_EQ(recs[0].original_key, ev.key);
    auto thumb = store.head(ObjectRef{kFaultsBucket, recs[0].thumbnail_key});
    ASSERT_TRUE(thumb.ok()) << recs[0].thumbnail_key;
    EXPECT_EQ(thumb->size, recs[0].renditions.at(0).bytes) << "the thumbnail is whole";
    auto stats = queue->stats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->queued + stats->leased + stats->failed, 0) << "no job left behind";
    EXPECT_EQ(stats->done, 1);
  }

  test::TempDir tmp;
  storage::LocalStore store{tmp.path() / "objects"};
  std::unique_ptr<events::JobQueue> queue;
  std::unique_ptr<catalog::SqliteCatalog> catalog;
  VipsRenderer renderer;
  std::unique_ptr<Pipeline> pipeline;
};

}  // namespace

TEST_F(PipelineFaults, a_crash_after_the_claim_loses_nothing_and_the_job_finishes_after_restart) {
  auto ev = upload("uploads/claimed.jpg");
  ASSERT_TRUE(fault::arm("pipeline.after_claim", fault::Action::throw_, 1).ok());
  EXPECT_THROW(step(), fault::Injected);
  EXPECT_TRUE(records().empty());
  EXPECT_TRUE(keys_under("thumbnails/").empty());
  EXPECT_EQ(step(), std::nullopt) << "the job is still leased by the dead worker";
  restart();
  EXPECT_EQ(step(), Outcome::processed);
  expect_finished_once(ev);
}

TEST_F(PipelineFaults, a_crash_between_the_thumbnail_put_and_the_record_ends_with_one_record) {
  auto ev = upload("uploads/between.jpg");
  ASSERT_TRUE(fault::arm("pipeline.after_put", fault::Action::throw_, 1).ok());
  EXPECT_THROW(step(), fault::Injected);
  EXPECT_TRUE(records().empty()) << "the record is written last";
  EXPECT_EQ(keys_under("thumbnails/"), std::vector<std::string>{"thumbnails/between.jpg"})
      << "the thumbnail was stored whole before the crash";
  restart();
  EXPECT_EQ(step(), Outcome::processed);
  expect_finished_once(ev);
  // The same event again (a redelivery): no second record, nothing rewritten.
  EXPECT_EQ(pipeline->process(ev, 1, false).outcome, Outcome::already_done);
  EXPECT_EQ(records().size(), 1u);
}

TEST_F(PipelineFaults, the_store_going_down_mid_write_leaves_no_partial_object_and_is_retried) {
  auto ev = upload("uploads/midwrite.jpg");
  ASSERT_TRUE(fault::arm("store.put", fault::Action::fail, 1).ok());
  EXPECT_EQ(step(), Outcome::retry);
  EXPECT_EQ(fault::fired("store.put"), 1);
  EXPECT_TRUE(keys_under("thumbnails/").empty()) << "half a thumbnail must never be visible";
  EXPECT_FALSE(store.head(ObjectRef{kFaultsBucket, "thumbnails/midwrite.jpg"}).ok());
  EXPECT_TRUE(records().empty());
  EXPECT_EQ(step(), Outcome::processed);
  expect_finished_once(ev);
}

TEST_F(PipelineFaults, a_throttled_catalog_is_retried_and_writes_one_record) {
  auto ev = upload("uploads/throttled.jpg");
  ASSERT_TRUE(fault::arm("catalog.upsert", fault::Action::fail, 2).ok());
  EXPECT_EQ(step(), Outcome::retry);
  EXPECT_EQ(step(), Outcome::retry);
  EXPECT_TRUE(records().empty());
  EXPECT_EQ(step(), Outcome::processed) << "the third (last) attempt runs after the throttling stopped";
  expect_finished_once(ev);
}

TEST_F(PipelineFaults, a_catalog_down_for_every_attempt_dead_letters_the_job_and_a_retry_finishes_it) {
  auto ev = upload("uploads/down.jpg");
  ASSERT_TRUE(fault::arm("catalog.upsert", fault::Action::fail).ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(step(), Outcome::retry) << "attempt " << i + 1;
  EXPECT_EQ(step(), std::nullopt);
  auto failed = queue->list(events::JobState::failed);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u) << "kept as a failed job, not lost";
  EXPECT_EQ((*failed)[0].last_error_kind, "unavailable");
  EXPECT_NE((*failed)[0].last_error.find("catalog"), std::string::npos) << (*failed)[0].last_error;
  EXPECT_TRUE(records().empty()) << "a failure record could not be written either";
  fault::disarm_all();
  ASSERT_TRUE(queue->retry_failed().ok());
  EXPECT_EQ(step(), Outcome::processed);
  expect_finished_once(ev);
}

}  // namespace thumbflow::pipeline
