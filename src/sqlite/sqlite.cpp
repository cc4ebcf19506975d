#include "sqlite/sqlite.hpp"

#include <algorithm>
#include <thread>

namespace thumbflow::sqlite {

int enable_wal(sqlite3* db, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL;", nullptr, nullptr, nullptr);
    if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) return rc;
    if (std::chrono::steady_clock::now() + pause > deadline) return rc;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

Result<std::unique_ptr<Db>> Db::open(const std::filesystem::path& path, const OpenOptions& opts) {
  sqlite3* raw = nullptr;
  int flags = (opts.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return make_error(ErrorKind::io, "cannot open database " + path.string() + ": " + msg);
  }
  std::unique_ptr<Db> db(new Db(raw, path));
  sqlite3_busy_timeout(raw, static_cast<int>(opts.busy_timeout.count()));
  sqlite3_extended_result_codes(raw, 1);
  if (!opts.read_only) {
    if (enable_wal(raw, opts.busy_timeout) != SQLITE_OK) return db->last_error("cannot switch to WAL");
  }
  if (auto st = db->exec(opts.synchronous_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;"); !st)
    return st.error();
  if (auto st = db->exec("PRAGMA foreign_keys=ON;"); !st) return st.error();
  return db;
}

Db::~Db() { sqlite3_close_v2(db_); }

Error Db::last_error(std::string_view what) const {
  int code = sqlite3_errcode(db_) & 0xff;
  std::string msg = std::string(what) + " (" + path_.string() + "): " + sqlite3_errmsg(db_);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return make_error(ErrorKind::unavailable, msg, "SQLITE_BUSY");
  if (code == SQLITE_CONSTRAINT) return make_error(ErrorKind::already_exists, msg, "SQLITE_CONSTRAINT");
  return make_error(ErrorKind::io, msg, "SQLITE_" + std::to_string(code));
}

Status Db::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    Error e = last_error("SQL failed");
    if (err) {
      e.message += " [" + s.substr(0, 120) + "]";
      sqlite3_free(err);
    }
    return e;
  }
  return ok_status();
}

Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &st, nullptr) != SQLITE_OK)
    return last_error("cannot prepare [" + std::string(sql.substr(0, 120)) + "]");
  return Stmt(this, st);
}

Result<int> Db::user_version() {
  auto st = prepare("PRAGMA user_version");
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  return static_cast<int>(st->int64(0));
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = std::exchange(o.stmt_, nullptr);
  }
  return *this;
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  return db_->last_error("SQL failed [" + std::string(sql ? sql : "").substr(0, 120) + "]");
}

Status Stmt::run() {
  for (;;) {
    auto r = step();
    if (!r) return r.error();
    if (!*r) return ok_status();
  }
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Stmt::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

Result<Transaction> Transaction::begin(Db& db) {
  if (auto st = db.exec("BEGIN IMMEDIATE"); !st) return st.error();
  return Transaction(&db);
}

Status Transaction::commit() {
  if (!db_) return make_error(ErrorKind::internal, "transaction already finished");
  auto st = db_->exec("COMMIT");
  if (st) db_ = nullptr;
  return st;
}

Transaction::~Transaction() {
  if (db_) (void)db_->exec("ROLLBACK");
}

}  // namespace thumbflow::sqlite
