#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "events/job_queue.hpp"
#include "test_support.hpp"

namespace thumbflow::events {
namespace {

ObjectCreated ev(const std::string& key, const std::string& etag, const std::string& seq = "") {
  ObjectCreated e;
  e.bucket = "bkt";
  e.key = key;
  e.etag = etag;
  e.size = 10;
  e.sequencer = seq;
  e.event_name = "ObjectCreated:Put";
  e.source = "thumbflow";
  return e;
}

class JobQueueTest : public ::testing::Test {
 protected:
  std::unique_ptr<JobQueue> open() {
    QueueOptions o;
    o.max_attempts = 3;
    o.lease = std::chrono::milliseconds(1000);
    o.backoff_base = std::chrono::milliseconds(100);
    o.backoff_max = std::chrono::milliseconds(1000);
    o.now_ms = [this] { return clock.load(); };
    auto q = JobQueue::open(tmp.path() / "queue.db", o);
    EXPECT_TRUE(q.ok()) << q.error().describe();
    return std::move(*q);
  }
  test::TempDir tmp;
  std::atomic<std::int64_t> clock{1'000'000};
};

}  // namespace

TEST_F(JobQueueTest, enqueue_claim_complete) {
  auto q = open();
  EXPECT_EQ(*q->enqueue(ev("uploads/a.jpg", "e1")), EnqueueOutcome::enqueued);
  auto job = q->claim("w1");
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(job->has_value());
  EXPECT_EQ((*job)->event.key, "uploads/a.jpg");
  EXPECT_EQ((*job)->attempts, 1);
  EXPECT_EQ((*job)->state, JobState::leased);
  EXPECT_FALSE(q->claim("w2")->has_value()) << "a leased job is not claimed twice";
  ASSERT_TRUE(q->complete((*job)->id).ok());
  auto s = q->stats();
  EXPECT_EQ(s->done, 1);
  EXPECT_EQ(s->queued, 0);
}

TEST_F(JobQueueTest, the_same_object_version_is_one_job) {
  auto q = open();
  EXPECT_EQ(*q->enqueue(ev("k", "e1")), EnqueueOutcome::enqueued);
  EXPECT_EQ(*q->enqueue(ev("k", "e1")), EnqueueOutcome::duplicate);
  auto j = q->claim("w");
  ASSERT_TRUE(q->complete((*j)->id).ok());
  EXPECT_EQ(*q->enqueue(ev("k", "e1")), EnqueueOutcome::duplicate) << "even after it finished";
  EXPECT_EQ(*q->enqueue(ev("k", "e2")), EnqueueOutcome::enqueued) << "a new version is new work";
}

TEST_F(JobQueueTest, older_sequencer_is_stale_and_newer_supersedes_waiting_jobs) {
  auto q = open();
  EXPECT_EQ(*q->enqueue(ev("k", "v1", "0A")), EnqueueOutcome::enqueued);
  EXPECT_EQ(*q->enqueue(ev("k", "v3", "0C")), EnqueueOutcome::enqueued);
  EXPECT_EQ(*q->enqueue(ev("k", "v2", "0B")), EnqueueOutcome::stale);
  auto j = q->claim("w");
  ASSERT_TRUE(j->has_value());
  EXPECT_EQ((*j)->event.etag, "v3") << "v1 was superseded by v3";
  EXPECT_FALSE(q->claim("w")->has_value());
}

TEST_F(JobQueueTest, an_expired_lease_returns_the_job) {
  auto q = open();
  ASSERT_TRUE(q->enqueue(ev("k", "e")).ok());
  auto j1 = q->claim("dies");
  ASSERT_TRUE(j1->has_value());
  clock += 500;
  EXPECT_FALSE(q->claim("w2")->has_value());
  clock += 600;  // past the 1 s lease
  auto j2 = q->claim("w2");
  ASSERT_TRUE(j2->has_value());
  EXPECT_EQ((*j2)->id, (*j1)->id);
  EXPECT_EQ((*j2)->attempts, 2);
  EXPECT_EQ((*j2)->lease_owner, "w2");
}

TEST_F(JobQueueTest, retryable_failures_back_off_then_dead_letter_after_max_attempts) {
  auto q = open();
  ASSERT_TRUE(q->enqueue(ev("k", "e")).ok());
  Error transient = make_error(ErrorKind::unavailable, "store down");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    clock += 2000;  // past any backoff
    auto j = q->claim("w");
    ASSERT_TRUE(j->has_value()) << attempt;
    auto state = q->fail((*j)->id, transient);
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(*state, attempt < 3 ? JobState::queued : JobState::failed) << attempt;
  }
  auto failed = q->list(JobState::failed);
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].last_error_kind, "unavailable");
  EXPECT_EQ((*failed)[0].last_error, "store down");
  EXPECT_EQ(q->stats()->failed, 1);
  EXPECT_EQ(*q->retry_failed(), 1);
  auto again = q->claim("w");
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->attempts, 1);
}

TEST_F(JobQueueTest, permanent_failures_dead_letter_at_once) {
  auto q = open();
  ASSERT_TRUE(q->enqueue(ev("k", "e")).ok());
  auto j = q->claim("w");
  EXPECT_EQ(*q->fail((*j)->id, make_error(ErrorKind::corrupt, "truncated")), JobState::failed);
}

TEST_F(JobQueueTest, backoff_is_full_jitter_under_a_growing_cap) {
  auto q = open();
  for (int n = 0; n < 8; ++n) {
    auto cap = std::min<std::int64_t>(1000, 100LL << n);
    for (int i = 0; i < 50; ++i) {
      auto d = q->backoff(n).count();
      EXPECT_GE(d, 0);
      EXPECT_LE(d, cap);
    }
  }
  clock += 0;
  ASSERT_TRUE(q->enqueue(ev("k", "e")).ok());
  auto j = q->claim("w");
  ASSERT_EQ(*q->fail((*j)->id, make_error(ErrorKind::unavailable, "x")), JobState::queued);
  auto job = q->get((*j)->id);
  EXPECT_LE((*job)->next_attempt_at_ms, clock.load() + 200);
}

TEST_F(JobQueueTest, reopening_returns_leased_jobs_and_keeps_everything) {
  {
    auto q = open();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(q->enqueue(ev("k" + std::to_string(i), "e")).ok());
    ASSERT_TRUE(q->claim("crashes")->has_value());
    ASSERT_TRUE(q->claim("crashes")->has_value());
    // destroyed without completing: as after kill -9
  }
  auto q = open();
  EXPECT_EQ(q->stats()->leased, 2) << "opening alone does not touch leases (the CLI opens it too)";
  EXPECT_EQ(*q->recover_leases(), 2);
  auto s = q->stats();
  EXPECT_EQ(s->queued, 5);
  EXPECT_EQ(s->leased, 0);
  std::set<std::string> keys;
  while (auto j = *q->claim("w")) {
    keys.insert(j->event.key);
    ASSERT_TRUE(q->complete(j->id).ok());
  }
  EXPECT_EQ(keys.size(), 5u);
}

TEST_F(JobQueueTest, concurrent_claimers_on_two_connections_never_share_a_job) {
  auto q1 = open();
  auto q2 = open();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(q1->enqueue(ev("k" + std::to_string(i), "e")).ok());
  std::mutex mu;
  std::multiset<std::int64_t> claimed;
  auto worker = [&](JobQueue* q) {
    for (;;) {
      auto j = q->claim("w");
      ASSERT_TRUE(j.ok()) << j.error().describe();
      if (!j->has_value()) return;
      {
        std::lock_guard lock(mu);
        claimed.insert((*j)->id);
      }
      ASSERT_TRUE(q->complete((*j)->id).ok());
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(worker, t % 2 ? q1.get() : q2.get());
  for (auto& t : threads) t.join();
  EXPECT_EQ(claimed.size(), 200u);
  EXPECT_EQ(std::set<std::int64_t>(claimed.begin(), claimed.end()).size(), 200u);
}

TEST_F(JobQueueTest, requeue_brings_back_a_finished_or_failed_version_with_force) {
  auto q = open();
  ASSERT_TRUE(q->enqueue(ev("k", "e")).ok());
  auto j = q->claim("w");
  ASSERT_TRUE(q->complete((*j)->id).ok());
  ASSERT_TRUE(q->requeue(ev("k", "e"), true).ok());
  auto again = q->claim("w");
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->id, (*j)->id) << "the same job, not a second one";
  EXPECT_TRUE((*again)->force);
  EXPECT_EQ((*again)->attempts, 1);
  ASSERT_TRUE(q->complete((*again)->id).ok());
  EXPECT_FALSE((*q->get((*again)->id))->force);
  ASSERT_TRUE(q->requeue(ev("new", "e"), false).ok());
  EXPECT_EQ(q->stats()->queued, 1);
}

}  // namespace thumbflow::events
