#include "pipeline/worker_pool.hpp"

#include <algorithm>

namespace thumbflow::pipeline {

WorkerPool::WorkerPool(events::JobQueue& queue, Pipeline& pipeline, WorkerPoolOptions opts, JobListener listener)
    : queue_(queue), pipeline_(pipeline), opts_(opts), listener_(std::move(listener)) {
  if (opts_.max_workers == 0) opts_.max_workers = std::max(1u, std::thread::hardware_concurrency());
  opts_.min_workers = std::min(std::max(opts_.min_workers, 0u), opts_.max_workers);
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::start() {
  std::lock_guard lock(mu_);
  if (supervisor_.joinable()) return;
  stopping_ = false;
  for (unsigned i = 0; i < std::max(opts_.min_workers, 1u) && running_ < opts_.max_workers; ++i) spawn_locked();
  supervisor_ = std::thread([this] { supervise(); });
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !supervisor_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  stopped_cv_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
  std::list<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads)
    if (t.joinable()) t.join();
}

void WorkerPool::notify() { wake_.notify_one(); }

PoolGauges WorkerPool::gauges() const {
  PoolGauges g;
  {
    std::lock_guard lock(mu_);
    g.workers = running_;
  }
  g.busy = busy_;
  g.queue_depth = depth_;
  g.oldest_job_age_ms = oldest_ms_;
  g.processed = processed_;
  g.failed = failed_;
  g.retried = retried_;
  return g;
}

void WorkerPool::spawn_locked() {
  unsigned id = next_id_++;
  ++running_;
  threads_.emplace_back([this, id] { work(id); });
}

void WorkerPool::supervise() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto stats = queue_.stats();
    lock.lock();
    if (stopping_) break;
    if (stats) {
      depth_ = stats->queued;
      oldest_ms_ = stats->oldest_queued_age_ms;
      bool all_busy = busy_ >= running_;
      bool waiting = stats->queued > 0;
      bool old = stats->oldest_queued_age_ms > opts_.scale_up_age.count();
      if (running_ < opts_.min_workers || (running_ < opts_.max_workers && waiting && (all_busy || old))) {
        spawn_locked();
      }
    }
    // Join workers that retired while idle.
    for (auto it = threads_.begin(); it != threads_.end();) {
      auto done = std::find(finished_.begin(), finished_.end(), it->get_id());
      if (done != finished_.end()) {
        finished_.erase(done);
        it->join();
        it = threads_.erase(it);
      } else {
        ++it;
      }
    }
    stopped_cv_.wait_for(lock, opts_.tick);
  }
}

void WorkerPool::work(unsigned id) {
  const std::string name = "worker-" + std::to_string(id);
  auto idle_since = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    auto claimed = queue_.claim(name);
    if (claimed && claimed->has_value()) {
      events::Job job = std::move(**claimed);
      ++busy_;
      const bool last = job.attempts >= opts_.max_attempts;
      ProcessResult result = pipeline_.process(job.event, job.attempts, last, job.force);
      switch (result.outcome) {
        case Outcome::processed:
        case Outcome::already_done:
        case Outcome::skipped:
        case Outcome::superseded:
          (void)queue_.complete(job.id);
          if (result.outcome == Outcome::processed) ++processed_;
          break;
        case Outcome::failed:
          (void)queue_.fail(job.id, result.error.value_or(make_error(ErrorKind::internal, "failed")));
          ++failed_;
          break;
        case Outcome::retry:
          (void)queue_.fail(job.id, result.error.value_or(make_error(ErrorKind::internal, "retry")));
          ++retried_;
          break;
      }
      --busy_;
      if (listener_) listener_(job, result);
      idle_since = std::chrono::steady_clock::now();
      continue;
    }
    std::unique_lock lock(mu_);
    if (stopping_) break;
    bool idle_too_long = std::chrono::steady_clock::now() - idle_since > opts_.idle_timeout;
    if (idle_too_long && running_ > opts_.min_workers) break;
    wake_.wait_for(lock, opts_.tick);
  }
  std::lock_guard lock(mu_);
  --running_;
  if (!stopping_) finished_.push_back(std::this_thread::get_id());
}

}  // namespace thumbflow::pipeline
