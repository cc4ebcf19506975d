#include <gtest/gtest.h>

#include <thread>

#include "fakes.hpp"
#include "pipeline/vips_renderer.hpp"
#include "pipeline/worker_pool.hpp"
#include "storage/local_store.hpp"
#include "test_support.hpp"

namespace thumbflow::pipeline {
namespace {

// A renderer that takes a while, so a burst piles up.
class SlowRenderer : public Renderer {
 public:
  Result<RenderResult> render(std::string_view bytes, std::span<const RenditionSpec> specs, const Limits& l) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    return inner_.render(bytes, specs, l);
  }

 private:
  VipsRenderer inner_;
};

template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace

TEST(WorkerPool, grows_under_a_burst_processes_everything_and_shrinks_when_idle) {
  test::TempDir tmp;
  storage::LocalStore store(tmp.path() / "data");
  ASSERT_TRUE(store.create_bucket("bkt").ok());
  test::MemoryCatalog catalog;
  SlowRenderer renderer;
  Pipeline pipeline(PipelineConfig{}, store, catalog, renderer);
  auto queue = events::JobQueue::open(tmp.path() / "queue.db");
  ASSERT_TRUE(queue.ok());
  WorkerPoolOptions opts;
  opts.min_workers = 1;
  opts.max_workers = 4;
  opts.tick = std::chrono::milliseconds(50);
  opts.idle_timeout = std::chrono::milliseconds(400);
  opts.scale_up_age = std::chrono::milliseconds(100);
  WorkerPool pool(**queue, pipeline, opts);
  pool.start();
  EXPECT_TRUE(wait_until([&] { return pool.gauges().workers == 1; }, std::chrono::seconds(2)));

  std::string bytes = test::read_bytes(test::corpus_dir() / "skimage_coins.png");
  const int n = 24;
  for (int i = 0; i < n; ++i) {
    ObjectCreated ev;
    ev.bucket = "bkt";
    ev.key = "uploads/" + std::to_string(i) + ".png";
    ev.etag = store.put(ev.ref(), bytes)->etag;
    ASSERT_EQ(*(*queue)->enqueue(ev), events::EnqueueOutcome::enqueued);
    pool.notify();
  }
  unsigned peak = 0;
  EXPECT_TRUE(wait_until([&] {
    peak = std::max(peak, pool.gauges().workers);
    return catalog.size() == static_cast<std::size_t>(n);
  }, std::chrono::seconds(30)));
  EXPECT_GT(peak, 1u) << "the pool must grow under a burst";
  EXPECT_LE(peak, 4u);
  // The record is written before the worker acknowledges the job and counts it.
  EXPECT_TRUE(wait_until([&] { return pool.gauges().processed == static_cast<std::uint64_t>(n); },
                         std::chrono::seconds(5)))
      << pool.gauges().processed;
  EXPECT_TRUE(wait_until([&] { return pool.gauges().workers == 1; }, std::chrono::seconds(5)))
      << "idle workers retire down to min (now " << pool.gauges().workers << ")";
  EXPECT_EQ(pool.gauges().queue_depth, 0);
  pool.stop();
  EXPECT_EQ((*queue)->stats()->done, n);
}

TEST(WorkerPool, stop_leaves_unfinished_jobs_in_the_queue) {
  test::TempDir tmp;
  storage::LocalStore store(tmp.path() / "data");
  ASSERT_TRUE(store.create_bucket("bkt").ok());
  test::MemoryCatalog catalog;
  SlowRenderer renderer;
  Pipeline pipeline(PipelineConfig{}, store, catalog, renderer);
  std::string bytes = test::read_bytes(test::corpus_dir() / "skimage_coins.png");
  {
    auto queue = events::JobQueue::open(tmp.path() / "queue.db");
    for (int i = 0; i < 10; ++i) {
      ObjectCreated ev;
      ev.bucket = "bkt";
      ev.key = "uploads/" + std::to_string(i) + ".png";
      ev.etag = store.put(ev.ref(), bytes)->etag;
      ASSERT_TRUE((*queue)->enqueue(ev).ok());
    }
    WorkerPoolOptions opts;
    opts.max_workers = 1;
    WorkerPool pool(**queue, pipeline, opts);
    pool.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    pool.stop();
  }
  auto queue = events::JobQueue::open(tmp.path() / "queue.db");
  auto stats = (*queue)->stats();
  EXPECT_EQ(stats->done + stats->queued, 10) << "every job is done or waiting: none lost";
  EXPECT_EQ(static_cast<std::size_t>(stats->done), catalog.size());
}

}  // namespace thumbflow::pipeline
