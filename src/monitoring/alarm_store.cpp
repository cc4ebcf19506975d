#include "monitoring/alarm_store.hpp"

#include "sqlite/sqlite.hpp"

namespace thumbflow::monitoring {

namespace {
constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS alarm_state (
  name TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  since_ms INTEGER NOT NULL,
  last_notified_ms INTEGER NOT NULL,
  value REAL,
  reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alarm_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  notified INTEGER NOT NULL,
  old_state TEXT NOT NULL,
  new_state TEXT NOT NULL,
  value REAL,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alarm_history_name ON alarm_history(name, id);
CREATE TABLE IF NOT EXISTS alarm_delivery (
  history_id INTEGER NOT NULL,
  notifier TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  error TEXT NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (history_id, notifier)
);
)";

AlarmState state_or(const std::string& text, AlarmState fallback) {
  auto s = parse_alarm_state(text);
  return s ? *s : fallback;
}

NotificationKind kind_of(const std::string& text) {
  if (text == "repeat") return NotificationKind::repeat;
  if (text == "test") return NotificationKind::test;
  return NotificationKind::transition;
}
}  // namespace

AlarmStore::AlarmStore(std::unique_ptr<sqlite::Db> db, int history_limit)
    : db_(std::move(db)), history_limit_(history_limit) {}
AlarmStore::~AlarmStore() = default;

Result<std::unique_ptr<AlarmStore>> AlarmStore::open(const std::filesystem::path& path, int history_limit) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  auto db = sqlite::Db::open(path);
  if (!db) return db.error();
  if (auto st = (*db)->exec(kSchema); !st) return st.error();
  return std::unique_ptr<AlarmStore>(new AlarmStore(std::move(*db), history_limit));
}

Result<std::map<std::string, RuleStatus>> AlarmStore::states() {
  std::lock_guard lock(mu_);
  auto st = db_->prepare("SELECT name, state, since_ms, last_notified_ms, value, reason FROM alarm_state");
  if (!st) return st.error();
  std::map<std::string, RuleStatus> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    RuleStatus s;
    s.state = state_or(st->text(1), AlarmState::insufficient_data);
    s.since_ms = st->int64(2);
    s.last_notified_ms = st->int64(3);
    if (!st->is_null(4)) s.value = st->real(4);
    s.reason = st->text(5);
    out[st->text(0)] = s;
  }
  return out;
}

Status AlarmStore::save_state(const std::string& alarm, const RuleStatus& s) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(
      "INSERT INTO alarm_state(name, state, since_ms, last_notified_ms, value, reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT(name) DO UPDATE SET state = ?2, since_ms = ?3, last_notified_ms = ?4, value = ?5, reason = ?6");
  if (!st) return st.error();
  st->bind(1, alarm).bind(2, std::string(to_string(s.state))).bind(3, s.since_ms).bind(4, s.last_notified_ms);
  if (s.value) st->bind(5, *s.value);
  else st->bind_null(5);
  st->bind(6, s.reason);
  return st->run();
}

Result<std::int64_t> AlarmStore::append(const HistoryEntry& e) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(
      "INSERT INTO alarm_history(name, at_ms, kind, notified, old_state, new_state, value, reason) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!st) return st.error();
  st->bind(1, e.alarm).bind(2, e.at_ms).bind(3, std::string(to_string(e.kind))).bind(4, e.notified ? 1 : 0);
  st->bind(5, std::string(to_string(e.old_state))).bind(6, std::string(to_string(e.new_state)));
  if (e.value) st->bind(7, *e.value);
  else st->bind_null(7);
  st->bind(8, e.reason);
  if (auto r = st->run(); !r) return r.error();
  const std::int64_t id = db_->last_insert_rowid();
  if (history_limit_ > 0 && id % 100 == 0) {
    // Pruned every 100 rows: the table stays near history_limit without a DELETE per row.
    auto prune = db_->prepare("DELETE FROM alarm_history WHERE id <= ?1");
    if (prune) (void)prune->bind(1, id - history_limit_).run();
    auto orphans = db_->prepare("DELETE FROM alarm_delivery WHERE history_id <= ?1");
    if (orphans) (void)orphans->bind(1, id - history_limit_).run();
  }
  return id;
}

Status AlarmStore::record_delivery(std::int64_t history_id, const Delivery& d) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(
      "INSERT INTO alarm_delivery(history_id, notifier, status, attempts, error, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT(history_id, notifier) DO UPDATE SET status = ?3, attempts = ?4, error = ?5, updated_ms = ?6");
  if (!st) return st.error();
  st->bind(1, history_id).bind(2, d.notifier).bind(3, d.status).bind(4, d.attempts).bind(5, d.error).bind(6, d.updated_ms);
  return st->run();
}

Result<std::vector<HistoryEntry>> AlarmStore::history(const std::string& alarm, int limit) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(
      "SELECT id, name, at_ms, kind, notified, old_state, new_state, value, reason FROM alarm_history "
      "WHERE (?1 = '' OR name = ?1) ORDER BY id DESC LIMIT ?2");
  if (!st) return st.error();
  st->bind(1, alarm).bind(2, limit);
  std::vector<HistoryEntry> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    HistoryEntry e;
    e.id = st->int64(0);
    e.alarm = st->text(1);
    e.at_ms = st->int64(2);
    e.kind = kind_of(st->text(3));
    e.notified = st->int64(4) != 0;
    e.old_state = state_or(st->text(5), AlarmState::insufficient_data);
    e.new_state = state_or(st->text(6), AlarmState::insufficient_data);
    if (!st->is_null(7)) e.value = st->real(7);
    e.reason = st->text(8);
    out.push_back(std::move(e));
  }
  auto ds = db_->prepare(
      "SELECT notifier, status, attempts, error, updated_ms FROM alarm_delivery WHERE history_id = ?1 ORDER BY notifier");
  if (!ds) return ds.error();
  for (auto& e : out) {
    ds->reset();
    ds->bind(1, e.id);
    for (;;) {
      auto row = ds->step();
      if (!row) return row.error();
      if (!*row) break;
      e.deliveries.push_back({ds->text(0), ds->text(1), static_cast<int>(ds->int64(2)), ds->text(3), ds->int64(4)});
    }
  }
  return out;
}

}  // namespace thumbflow::monitoring
