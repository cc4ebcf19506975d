// Workers that scale themselves between min and max: one image per worker at a time.
//
// Policy: every tick (default 200 ms) the pool compares the queue with its workers. It starts
// a worker when jobs are waiting and every worker is busy, or when the oldest waiting job is
// older than scale_up_age; a worker that has found nothing to do for idle_timeout stops, down
// to min. Workers wake at once when a job is enqueued (notify()), and otherwise poll, so jobs
// whose backoff ends are picked up without a signal.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>

#include "events/job_queue.hpp"
#include "pipeline/pipeline.hpp"

namespace thumbflow::pipeline {

struct WorkerPoolOptions {
  unsigned min_workers = 1;
  unsigned max_workers = 0;  // 0 = number of cores
  std::chrono::milliseconds tick{200};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds scale_up_age{std::chrono::seconds(2)};
  int max_attempts = 5;  // must match the queue's: the last attempt records failures
};

struct PoolGauges {
  unsigned workers = 0;         // running threads
  unsigned busy = 0;            // processing a job now
  std::int64_t queue_depth = 0;
  std::int64_t oldest_job_age_ms = 0;
  std::uint64_t processed = 0, failed = 0, retried = 0;
};

class WorkerPool {
 public:
  // Called after each job with its result (logging, metrics, live updates).
  using JobListener = std::function<void(const events::Job&, const ProcessResult&)>;

  WorkerPool(events::JobQueue& queue, Pipeline& pipeline, WorkerPoolOptions opts, JobListener listener = {});
  ~WorkerPool();  // stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void start();
  // Stops taking jobs and waits for the jobs in progress to finish (none is lost: an
  // unfinished job's lease returns it to the queue).
  void stop();
  void notify();  // a job was enqueued
  PoolGauges gauges() const;

 private:
  void supervise();
  void work(unsigned id);
  void spawn_locked();

  events::JobQueue& queue_;
  Pipeline& pipeline_;
  WorkerPoolOptions opts_;
  JobListener listener_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable stopped_cv_;
  bool stopping_ = false;
  unsigned next_id_ = 0;
  unsigned running_ = 0;
  std::atomic<unsigned> busy_{0};
  std::atomic<std::uint64_t> pending_signals_{0};
  std::atomic<std::uint64_t> processed_{0}, failed_{0}, retried_{0};
  std::atomic<std::int64_t> depth_{0}, oldest_ms_{0};
  std::list<std::thread> threads_;
  std::list<std::thread::id> finished_;
  std::thread supervisor_;
};

}  // namespace thumbflow::pipeline
