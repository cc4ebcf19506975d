// The local durable job queue: one SQLite table in the data folder.
//
// Policy:
//  - A job is committed (fsync'd) before enqueue() returns, so the endpoint acknowledges an
//    upload only once its job is durable.
//  - At least once: claim() leases a job for `lease`; a worker that dies leaves a lease that
//    expires, and the job is claimed again. The process that owns the data folder calls
//    recover_leases() at start to return every leased job at once (their owner is gone); other
//    processes (the CLI) open the queue without touching leases.
//  - Idempotent enqueue: the same object version (bucket, key, version id or ETag) is one job.
//  - Out of order: per key, an event whose sequencer is older than one already seen is stale
//    and dropped; a newer one supersedes older jobs still waiting.
//  - Retryable failures come back after exponential backoff with full jitter, up to
//    max_attempts; permanent failures and exhausted retries end as failed jobs (the dead
//    letter), listed with their reason and retryable by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/object_created.hpp"

namespace thumbflow::sqlite {
class Db;
}

namespace thumbflow::events {

enum class JobState { queued, leased, done, failed, superseded };
std::string_view to_string(JobState s);

struct Job {
  std::int64_t id = 0;
  ObjectCreated event;
  JobState state = JobState::queued;
  int attempts = 0;  // attempts started (claims)
  std::string last_error_kind;
  std::string last_error;
  std::int64_t enqueued_at_ms = 0;
  std::int64_t next_attempt_at_ms = 0;
  std::int64_t lease_until_ms = 0;
  std::string lease_owner;
  bool force = false;  // reprocess even if a processed record exists (reprocess, retry)
};

struct QueueOptions {
  int max_attempts = 5;
  std::chrono::milliseconds lease{std::chrono::minutes(5)};
  std::chrono::milliseconds backoff_base{std::chrono::seconds(1)};
  std::chrono::milliseconds backoff_max{std::chrono::minutes(5)};
  // Time source (ms since the epoch); tests move it.
  std::function<std::int64_t()> now_ms;
};

enum class EnqueueOutcome { enqueued, duplicate, stale };

struct QueueStats {
  std::int64_t queued = 0;           // waiting, due now or later
  std::int64_t leased = 0;           // being processed
  std::int64_t failed = 0;           // dead letter
  std::int64_t done = 0;
  std::int64_t oldest_queued_age_ms = 0;  // age of the oldest waiting job, 0 when none
};

class JobQueue {
 public:
  static Result<std::unique_ptr<JobQueue>> open(const std::filesystem::path& db_path, QueueOptions opts = {});
  ~JobQueue();

  Result<EnqueueOutcome> enqueue(const ObjectCreated& event);
  // Queues this object version again whatever became of an earlier job for it (retry,
  // reprocess): attempts start over; with force the pipeline re-renders even a processed image.
  Status requeue(const ObjectCreated& event, bool force);
  // Returns every leased job to the queue; for the data folder's owner at start. Returns how many.
  Result<int> recover_leases();
  // The oldest due job, leased to worker; nothing when none is due.
  Result<std::optional<Job>> claim(const std::string& worker);
  Status complete(std::int64_t id);
  // Retryable errors go back to the queue with backoff until max_attempts; others end failed.
  // Returns the job's new state.
  Result<JobState> fail(std::int64_t id, const Error& error);
  Status extend_lease(std::int64_t id);
  Result<std::optional<Job>> get(std::int64_t id);
  Result<QueueStats> stats();
  Result<std::vector<Job>> list(JobState state, int limit = 100);
  // failed -> queued with attempts reset; returns how many.
  Result<int> retry_failed(std::optional<std::int64_t> id = std::nullopt);
  // Delay before attempt n+1 after n failed attempts (full jitter in [0, min(max, base*2^n)]).
  std::chrono::milliseconds backoff(int attempts) const;

 private:
  JobQueue(std::unique_ptr<sqlite::Db> db, QueueOptions opts);
  std::int64_t now() const;
  std::mutex mu_;  // one connection, used by one thread at a time
  std::unique_ptr<sqlite::Db> db_;
  QueueOptions opts_;
};

}  // namespace thumbflow::events
