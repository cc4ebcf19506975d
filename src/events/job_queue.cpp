#include "events/job_queue.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "sqlite/sqlite.hpp"

namespace thumbflow::events {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  version TEXT NOT NULL,            -- version id, else ETag: identifies the object version
  etag TEXT NOT NULL,
  version_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  sequencer TEXT NOT NULL,
  event_time TEXT NOT NULL,
  event_name TEXT NOT NULL,
  source TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error_kind TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  enqueued_at_ms INTEGER NOT NULL,
  next_attempt_at_ms INTEGER NOT NULL,
  lease_until_ms INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  updated_at_ms INTEGER NOT NULL,
  force INTEGER NOT NULL DEFAULT 0,
  UNIQUE (bucket, key, version)
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, next_attempt_at_ms, id);
CREATE TABLE IF NOT EXISTS key_sequencers (
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  sequencer TEXT NOT NULL,
  PRIMARY KEY (bucket, key)
);
PRAGMA user_version = 1;
)sql";

constexpr const char* kJobColumns =
    "id, bucket, key, etag, version_id, size, sequencer, event_time, event_name, source, state, attempts, "
    "last_error_kind, last_error, enqueued_at_ms, next_attempt_at_ms, lease_until_ms, lease_owner, force";

JobState parse_state(const std::string& s) {
  if (s == "leased") return JobState::leased;
  if (s == "done") return JobState::done;
  if (s == "failed") return JobState::failed;
  if (s == "superseded") return JobState::superseded;
  return JobState::queued;
}

Job read_job(const sqlite::Stmt& st) {
  Job j;
  j.id = st.int64(0);
  j.event.bucket = st.text(1);
  j.event.key = st.text(2);
  j.event.etag = st.text(3);
  j.event.version_id = st.text(4);
  j.event.size = static_cast<std::uint64_t>(st.int64(5));
  j.event.sequencer = st.text(6);
  j.event.event_time = st.text(7);
  j.event.event_name = st.text(8);
  j.event.source = st.text(9);
  j.state = parse_state(st.text(10));
  j.attempts = static_cast<int>(st.int64(11));
  j.last_error_kind = st.text(12);
  j.last_error = st.text(13);
  j.enqueued_at_ms = st.int64(14);
  j.next_attempt_at_ms = st.int64(15);
  j.lease_until_ms = st.int64(16);
  j.lease_owner = st.text(17);
  j.force = st.int64(18) != 0;
  return j;
}

}  // namespace

std::string_view to_string(JobState s) {
  switch (s) {
    case JobState::queued: return "queued";
    case JobState::leased: return "leased";
    case JobState::done: return "done";
    case JobState::failed: return "failed";
    case JobState::superseded: return "superseded";
  }
  return "queued";
}

JobQueue::JobQueue(std::unique_ptr<sqlite::Db> db, QueueOptions opts) : db_(std::move(db)), opts_(std::move(opts)) {
  if (!opts_.now_ms) {
    opts_.now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

JobQueue::~JobQueue() = default;

std::int64_t JobQueue::now() const { return opts_.now_ms(); }

Result<std::unique_ptr<JobQueue>> JobQueue::open(const std::filesystem::path& db_path, QueueOptions opts) {
  sqlite::OpenOptions o;
  o.synchronous_full = true;  // an acknowledged upload's job survives power loss too
  auto db = sqlite::Db::open(db_path, o);
  if (!db) return db.error();
  if (auto st = (*db)->exec(kSchema); !st) return st.error();
  return std::unique_ptr<JobQueue>(new JobQueue(std::move(*db), std::move(opts)));
}

Result<int> JobQueue::recover_leases() {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(
      "UPDATE jobs SET state='queued', lease_until_ms=0, lease_owner='', next_attempt_at_ms=?1, updated_at_ms=?1 "
      "WHERE state='leased'");
  if (!st) return st.error();
  st->bind(1, now());
  if (auto r = st->run(); !r) return r.error();
  return static_cast<int>(db_->changes());
}

Status JobQueue::requeue(const ObjectCreated& ev, bool force) {
  std::lock_guard lock(mu_);
  const std::int64_t t = now();
  auto st = db_->prepare(
      "INSERT INTO jobs (bucket, key, version, etag, version_id, size, sequencer, event_time, event_name, source, "
      "state, enqueued_at_ms, next_attempt_at_ms, updated_at_ms, force) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,'queued',?11,?11,?11,?12) "
      "ON CONFLICT (bucket, key, version) DO UPDATE SET state='queued', attempts=0, next_attempt_at_ms=?11, "
      "lease_until_ms=0, lease_owner='', updated_at_ms=?11, force=?12 WHERE state<>'leased'");
  if (!st) return st.error();
  st->bind(1, ev.bucket).bind(2, ev.key).bind(3, ev.version_or_etag()).bind(4, ev.etag).bind(5, ev.version_id);
  st->bind(6, static_cast<std::int64_t>(ev.size)).bind(7, ev.sequencer).bind(8, ev.event_time).bind(9, ev.event_name);
  st->bind(10, ev.source).bind(11, t).bind(12, force ? 1 : 0);
  return st->run();
}

Result<EnqueueOutcome> JobQueue::enqueue(const ObjectCreated& ev) {
  std::lock_guard lock(mu_);
  auto tx = sqlite::Transaction::begin(*db_);
  if (!tx) return tx.error();
  const std::int64_t t = now();
  if (!ev.sequencer.empty()) {
    auto seq = db_->prepare("SELECT sequencer FROM key_sequencers WHERE bucket=?1 AND key=?2");
    if (!seq) return seq.error();
    seq->bind(1, ev.bucket).bind(2, ev.key);
    auto row = seq->step();
    if (!row) return row.error();
    if (*row) {
      int cmp = compare_sequencers(ev.sequencer, seq->text(0));
      if (cmp < 0) return EnqueueOutcome::stale;
    }
  }
  auto ins = db_->prepare(
      "INSERT INTO jobs (bucket, key, version, etag, version_id, size, sequencer, event_time, event_name, source, "
      "state, enqueued_at_ms, next_attempt_at_ms, updated_at_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,'queued',?11,?11,?11) "
      "ON CONFLICT (bucket, key, version) DO NOTHING");
  if (!ins) return ins.error();
  ins->bind(1, ev.bucket).bind(2, ev.key).bind(3, ev.version_or_etag()).bind(4, ev.etag).bind(5, ev.version_id);
  ins->bind(6, static_cast<std::int64_t>(ev.size)).bind(7, ev.sequencer).bind(8, ev.event_time).bind(9, ev.event_name);
  ins->bind(10, ev.source).bind(11, t);
  if (auto st = ins->run(); !st) return st.error();
  bool inserted = db_->changes() > 0;
  if (inserted && !ev.sequencer.empty()) {
    std::int64_t new_id = db_->last_insert_rowid();
    auto up = db_->prepare(
        "INSERT INTO key_sequencers (bucket, key, sequencer) VALUES (?1,?2,?3) "
        "ON CONFLICT (bucket, key) DO UPDATE SET sequencer=excluded.sequencer");
    if (!up) return up.error();
    up->bind(1, ev.bucket).bind(2, ev.key).bind(3, ev.sequencer);
    if (auto st = up->run(); !st) return st.error();
    // Older versions of this key still waiting will never be worth processing.
    auto sup = db_->prepare(
        "UPDATE jobs SET state='superseded', updated_at_ms=?4 WHERE bucket=?1 AND key=?2 AND id<>?3 AND state='queued'");
    if (!sup) return sup.error();
    sup->bind(1, ev.bucket).bind(2, ev.key).bind(3, new_id).bind(4, t);
    if (auto st = sup->run(); !st) return st.error();
  }
  if (auto st = tx->commit(); !st) return st.error();
  return inserted ? EnqueueOutcome::enqueued : EnqueueOutcome::duplicate;
}

Result<std::optional<Job>> JobQueue::claim(const std::string& worker) {
  std::lock_guard lock(mu_);
  const std::int64_t t = now();
  auto st = db_->prepare(std::string("UPDATE jobs SET state='leased', attempts=attempts+1, lease_until_ms=?2, "
                                     "lease_owner=?3, updated_at_ms=?1 WHERE id = (SELECT id FROM jobs WHERE "
                                     "(state='queued' AND next_attempt_at_ms<=?1) OR (state='leased' AND lease_until_ms<?1) "
                                     "ORDER BY next_attempt_at_ms, id LIMIT 1) RETURNING ") +
                         kJobColumns);
  if (!st) return st.error();
  st->bind(1, t).bind(2, t + opts_.lease.count()).bind(3, worker);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<Job>{};
  Job j = read_job(*st);
  if (auto done = st->run(); !done) return done.error();
  return std::optional<Job>{std::move(j)};
}

Status JobQueue::complete(std::int64_t id) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare("UPDATE jobs SET state='done', lease_until_ms=0, force=0, updated_at_ms=?2 WHERE id=?1");
  if (!st) return st.error();
  st->bind(1, id).bind(2, now());
  return st->run();
}

std::chrono::milliseconds JobQueue::backoff(int attempts) const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double cap = static_cast<double>(opts_.backoff_base.count()) * std::pow(2.0, std::min(attempts, 30));
  cap = std::min(cap, static_cast<double>(opts_.backoff_max.count()));
  std::uniform_real_distribution<double> d(0.0, cap);
  return std::chrono::milliseconds(static_cast<std::int64_t>(d(rng)));
}

Result<JobState> JobQueue::fail(std::int64_t id, const Error& error) {
  std::lock_guard lock(mu_);
  auto cur = db_->prepare("SELECT attempts FROM jobs WHERE id=?1");
  if (!cur) return cur.error();
  cur->bind(1, id);
  auto row = cur->step();
  if (!row) return row.error();
  if (!*row) return make_error(ErrorKind::not_found, "no job " + std::to_string(id));
  int attempts = static_cast<int>(cur->int64(0));
  bool again = error.retryable() && attempts < opts_.max_attempts;
  const std::int64_t t = now();
  auto st = db_->prepare(
      "UPDATE jobs SET state=?2, last_error_kind=?3, last_error=?4, next_attempt_at_ms=?5, lease_until_ms=0, "
      "lease_owner='', updated_at_ms=?6 WHERE id=?1");
  if (!st) return st.error();
  JobState next = again ? JobState::queued : JobState::failed;
  st->bind(1, id).bind(2, to_string(next)).bind(3, to_string(error.kind)).bind(4, error.message);
  st->bind(5, again ? t + backoff(attempts).count() : t).bind(6, t);
  if (auto r = st->run(); !r) return r.error();
  return next;
}

Status JobQueue::extend_lease(std::int64_t id) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare("UPDATE jobs SET lease_until_ms=?2 WHERE id=?1 AND state='leased'");
  if (!st) return st.error();
  st->bind(1, id).bind(2, now() + opts_.lease.count());
  return st->run();
}

Result<std::optional<Job>> JobQueue::get(std::int64_t id) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id=?1");
  if (!st) return st.error();
  st->bind(1, id);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<Job>{};
  return std::optional<Job>{read_job(*st)};
}

Result<QueueStats> JobQueue::stats() {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(
      "SELECT state, COUNT(*), MIN(enqueued_at_ms) FROM jobs WHERE state IN ('queued','leased','failed','done') "
      "GROUP BY state");
  if (!st) return st.error();
  QueueStats s;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    std::string state = st->text(0);
    std::int64_t n = st->int64(1);
    if (state == "queued") {
      s.queued = n;
      s.oldest_queued_age_ms = std::max<std::int64_t>(0, now() - st->int64(2));
    } else if (state == "leased") {
      s.leased = n;
    } else if (state == "failed") {
      s.failed = n;
    } else {
      s.done = n;
    }
  }
  return s;
}

Result<std::vector<Job>> JobQueue::list(JobState state, int limit) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE state=?1 ORDER BY id LIMIT ?2");
  if (!st) return st.error();
  st->bind(1, to_string(state)).bind(2, std::clamp(limit, 1, 100000));
  std::vector<Job> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(read_job(*st));
  }
  return out;
}

Result<int> JobQueue::retry_failed(std::optional<std::int64_t> id) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(
      "UPDATE jobs SET state='queued', attempts=0, next_attempt_at_ms=?1, updated_at_ms=?1 "
      "WHERE state='failed' AND (?2 IS NULL OR id=?2)");
  if (!st) return st.error();
  st->bind(1, now());
  if (id) st->bind(2, *id);
  else st->bind_null(2);
  if (auto r = st->run(); !r) return r.error();
  return static_cast<int>(db_->changes());
}

}  // namespace thumbflow::events
