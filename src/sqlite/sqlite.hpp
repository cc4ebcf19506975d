// A thin RAII layer over SQLite for thumbflow's local tables (job queue, alarms, catalog):
// one Db per connection, prepared statements with typed binds, errors as values. SQLite's
// handles are not shared between threads here: each thread opens its own Db (cheap), and
// cross-connection safety comes from WAL, busy_timeout and short IMMEDIATE transactions.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace thumbflow::sqlite {

struct OpenOptions {
  std::chrono::milliseconds busy_timeout{5000};
  bool synchronous_full = false;  // FULL survives power loss; NORMAL (WAL) survives process crashes
  bool read_only = false;
};

class Stmt;

// Switches a read-write connection to WAL. The switch takes an exclusive lock, and when several
// processes open a brand-new file at once SQLite answers SQLITE_BUSY at once instead of calling
// the busy handler (waiting could deadlock two readers upgrading together), so this retries
// with a short sleep until `timeout` is spent. Returns the SQLite result code.
int enable_wal(sqlite3* db, std::chrono::milliseconds timeout);

class Db {
 public:
  static Result<std::unique_ptr<Db>> open(const std::filesystem::path& path, const OpenOptions& opts = {});
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status exec(std::string_view sql);           // one or more statements, no results
  Result<Stmt> prepare(std::string_view sql);  // one statement
  sqlite3* handle() const { return db_; }
  std::int64_t changes() const { return sqlite3_changes64(db_); }
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  const std::filesystem::path& path() const { return path_; }
  // Maps the connection's last error to an Error (BUSY/LOCKED -> unavailable, others -> io).
  Error last_error(std::string_view what) const;

  // PRAGMA user_version, for schema migrations.
  Result<int> user_version();

 private:
  Db(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::filesystem::path path_;
};

// A prepared statement; bind parameters by 1-based index, step, read columns.
class Stmt {
 public:
  Stmt(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Stmt();
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)) {}
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind_null(int i);

  // true: a row is ready; false: done. Errors carry the statement's text.
  Result<bool> step();
  Status run();  // step to completion, ignoring rows
  void reset();

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string text(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  Db* db_;
  sqlite3_stmt* stmt_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() succeeds.
class Transaction {
 public:
  static Result<Transaction> begin(Db& db);
  Status commit();
  ~Transaction();
  Transaction(Transaction&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
};

}  // namespace thumbflow::sqlite
