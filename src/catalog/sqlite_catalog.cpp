#include "catalog/sqlite_catalog.hpp"

#include <sqlite3.h>

#include "core/fault_point.hpp"

#include <array>
#include <climits>
#include <cstdint>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "catalog/catalog_rules.hpp"
#include "catalog/sqlite_schema.hpp"
#include "core/json.hpp"
#include "sqlite/sqlite.hpp"

namespace thumbflow::catalog {
namespace {

// SQLITE_TRANSIENT without the C-style cast of its macro: SQLite copies the bound bytes.
const sqlite3_destructor_type kTransient = reinterpret_cast<sqlite3_destructor_type>(static_cast<std::intptr_t>(-1));

// Sorts after every canonical upload date: the "no position yet" end of a keyset walk.
constexpr std::string_view kAfterAllDates = "~";
constexpr std::string_view kBeforeAllDates = "";

// ---- Errors ------------------------------------------------------------------------------------
std::string_view primary_code_name(int rc) {
  switch (rc & 0xff) {
    case SQLITE_ERROR: return "SQLITE_ERROR";
    case SQLITE_INTERNAL: return "SQLITE_INTERNAL";
    case SQLITE_PERM: return "SQLITE_PERM";
    case SQLITE_ABORT: return "SQLITE_ABORT";
    case SQLITE_BUSY: return "SQLITE_BUSY";
    case SQLITE_LOCKED: return "SQLITE_LOCKED";
    case SQLITE_NOMEM: return "SQLITE_NOMEM";
    case SQLITE_READONLY: return "SQLITE_READONLY";
    case SQLITE_INTERRUPT: return "SQLITE_INTERRUPT";
    case SQLITE_IOERR: return "SQLITE_IOERR";
    case SQLITE_CORRUPT: return "SQLITE_CORRUPT";
    case SQLITE_FULL: return "SQLITE_FULL";
    case SQLITE_CANTOPEN: return "SQLITE_CANTOPEN";
    case SQLITE_PROTOCOL: return "SQLITE_PROTOCOL";
    case SQLITE_SCHEMA: return "SQLITE_SCHEMA";
    case SQLITE_TOOBIG: return "SQLITE_TOOBIG";
    case SQLITE_CONSTRAINT: return "SQLITE_CONSTRAINT";
    case SQLITE_MISMATCH: return "SQLITE_MISMATCH";
    case SQLITE_MISUSE: return "SQLITE_MISUSE";
    case SQLITE_RANGE: return "SQLITE_RANGE";
    case SQLITE_NOTADB: return "SQLITE_NOTADB";
    default: return "SQLITE_UNKNOWN";
  }
}

ErrorKind kind_of(int rc) {
  switch (rc & 0xff) {
    // Another connection held the lock for longer than busy_timeout: later may work.
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL:
      return ErrorKind::unavailable;
    // The file itself: damaged, not a database, read-only, disk full, cannot be opened.
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      return ErrorKind::io;
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return ErrorKind::invalid_argument;
    default:
      return ErrorKind::internal;
  }
}

Error sqlite_error(sqlite3* db, int rc, std::string_view what, const std::filesystem::path& path) {
  std::string message(what);
  message += " (" + path.string() + "): ";
  message += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return make_error(kind_of(rc), std::move(message), std::string(primary_code_name(rc)));
}

// ---- RAII owners -------------------------------------------------------------------------------
struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbClose>;

struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

// Resets a cached statement when a call is done with it, whatever path it leaves by.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* s) : s_(s) {}
  ~StmtUse() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

// ---- Statements --------------------------------------------------------------------------------
enum Sql : std::size_t { insert_if_absent, upsert_row, select_one, select_range, select_range_status, delete_one, sql_count };

#define THUMBFLOW_COLUMNS                                                                              \
  "imageId, bucket, originalImage, thumbnailImage, uploadDate, status, errorKind, errorMessage, " \
  "attempts, sourceBytes, format, width, height, processingMs, updatedAt, details"
#define THUMBFLOW_VALUES "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16"

// Keyset pagination: (uploadDate, imageId) < (position) walks the index newest first and
// resumes exactly after the last record returned, however many share an upload date.
constexpr std::array<const char*, sql_count> kSql{
    "INSERT INTO ImageMetadata (" THUMBFLOW_COLUMNS ") VALUES (" THUMBFLOW_VALUES
    ") ON CONFLICT (imageId) DO NOTHING",
    "INSERT INTO ImageMetadata (" THUMBFLOW_COLUMNS ") VALUES (" THUMBFLOW_VALUES
    ") ON CONFLICT (imageId) DO UPDATE SET bucket = excluded.bucket, originalImage = excluded.originalImage, "
    "thumbnailImage = excluded.thumbnailImage, uploadDate = excluded.uploadDate, status = excluded.status, "
    "errorKind = excluded.errorKind, errorMessage = excluded.errorMessage, attempts = excluded.attempts, "
    "sourceBytes = excluded.sourceBytes, format = excluded.format, width = excluded.width, "
    "height = excluded.height, processingMs = excluded.processingMs, updatedAt = excluded.updatedAt, "
    "details = excluded.details",
    "SELECT " THUMBFLOW_COLUMNS " FROM ImageMetadata WHERE imageId = ?1",
    "SELECT " THUMBFLOW_COLUMNS
    " FROM ImageMetadata INDEXED BY ImageMetadata_uploadDate"
    " WHERE uploadDate BETWEEN ?1 AND ?2 AND (uploadDate, imageId) < (?3, ?4)"
    " ORDER BY uploadDate DESC, imageId DESC LIMIT ?5",
    "SELECT " THUMBFLOW_COLUMNS
    " FROM ImageMetadata INDEXED BY ImageMetadata_status_uploadDate"
    " WHERE status = ?6 AND uploadDate BETWEEN ?1 AND ?2 AND (uploadDate, imageId) < (?3, ?4)"
    " ORDER BY uploadDate DESC, imageId DESC LIMIT ?5",
    "DELETE FROM ImageMetadata WHERE imageId = ?1",
};
#undef THUMBFLOW_COLUMNS
#undef THUMBFLOW_VALUES

// Attributes that live in the details JSON column rather than in their own columns.
constexpr std::array kDetailAttributes{"renditions", "image", "dominantColour", "blurhash", "etag", "versionId", "renderMs"};

struct Connection {
  DbHandle db;
  std::array<StmtHandle, sql_count> statements;  // prepared on first use
};

}  // namespace

// ---- Impl --------------------------------------------------------------------------------------
struct SqliteCatalog::Impl {
  std::filesystem::path path;
  Options options;
  std::mutex mutex;
  std::vector<std::unique_ptr<Connection>> idle;  // guarded by mutex

  Error error(sqlite3* db, int rc, std::string_view what) const { return sqlite_error(db, rc, what, path); }

  Result<std::unique_ptr<Connection>> open_connection() {
    sqlite3* raw = nullptr;
    // NOMUTEX: a connection is only ever used by one thread at a time (the pool's promise).
    int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    DbHandle db(raw);
    if (rc != SQLITE_OK) return error(db.get(), rc, "cannot open the catalog");
    sqlite3_extended_result_codes(db.get(), 1);
    auto timeout_ms = std::min<std::chrono::milliseconds::rep>(options.busy_timeout.count(), INT_MAX);
    sqlite3_busy_timeout(db.get(), static_cast<int>(timeout_ms));
    // WAL: readers never block the writer and the writer never blocks readers; the mode is
    // stored in the file, so this only does work the first time. synchronous=NORMAL is durable
    // across application crashes in WAL mode; a power cut may lose the last transactions, which
    // the pipeline redoes (records are idempotent upserts keyed by a deterministic imageId).
    rc = sqlite::enable_wal(db.get(), options.busy_timeout);
    if (rc != SQLITE_OK) return error(db.get(), rc, "cannot set PRAGMA journal_mode = WAL");
    rc = sqlite3_exec(db.get(), "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return error(db.get(), rc, "cannot set PRAGMA synchronous = NORMAL");
    auto conn = std::make_unique<Connection>();
    conn->db = std::move(db);
    return conn;
  }

  // A borrowed connection; goes back to the pool when the call is done.
  class Lease {
   public:
    Lease(Impl& impl, std::unique_ptr<Connection> conn) : impl_(impl), conn_(std::move(conn)) {}
    ~Lease() {
      if (!conn_) return;
      // A connection left inside a transaction (a failed ROLLBACK) is closed, not reused: the
      // next caller would otherwise run inside someone else's transaction.
      if (sqlite3_get_autocommit(conn_->db.get()) == 0) return;
      std::lock_guard lock(impl_.mutex);
      if (impl_.idle.size() < impl_.options.max_idle_connections) impl_.idle.push_back(std::move(conn_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    Impl& impl_;
    std::unique_ptr<Connection> conn_;
  };

  Result<std::unique_ptr<Connection>> take() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        auto conn = std::move(idle.back());
        idle.pop_back();
        return conn;
      }
    }
    return open_connection();
  }

  Result<sqlite3_stmt*> statement(Connection& conn, Sql which) {
    auto& slot = conn.statements[which];
    if (!slot) {
      sqlite3_stmt* raw = nullptr;
      int rc = sqlite3_prepare_v3(conn.db.get(), kSql[which], -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      if (rc != SQLITE_OK) return error(conn.db.get(), rc, "cannot prepare a catalog statement");
      slot.reset(raw);
    }
    return slot.get();
  }

  Status exec(Connection& conn, const char* sql, std::string_view what) {
    int rc = sqlite3_exec(conn.db.get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return error(conn.db.get(), rc, what);
    return ok_status();
  }

  Result<int> user_version(Connection& conn) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(conn.db.get(), "PRAGMA user_version", -1, &raw, nullptr);
    StmtHandle s(raw);
    if (rc != SQLITE_OK) return error(conn.db.get(), rc, "cannot read the schema version");
    rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) return error(conn.db.get(), rc, "cannot read the schema version");
    return sqlite3_column_int(s.get(), 0);
  }

  Status migrate(Connection& conn) {
    auto current = user_version(conn);
    if (!current) return current.error();
    if (*current == sqlite_schema_version()) return ok_status();
    // IMMEDIATE takes the write lock now, so two processes migrating at once take turns and
    // the second sees the first one's result.
    if (auto s = exec(conn, "BEGIN IMMEDIATE", "cannot start the schema migration"); !s) return s;
    auto status = [&]() -> Status {
      auto version = user_version(conn);
      if (!version) return version.error();
      if (*version > sqlite_schema_version())
        return make_error(ErrorKind::invalid_argument,
                          "catalog " + path.string() + " has schema version " + std::to_string(*version) +
                              ", newer than this thumbflow knows (" + std::to_string(sqlite_schema_version()) +
                              "); use a newer thumbflow");
      for (const auto& step : sqlite_schema_steps()) {
        if (step.version <= *version) continue;
        std::string sql(step.sql);
        sql += "\nPRAGMA user_version = " + std::to_string(step.version) + ";";
        if (auto s = exec(conn, sql.c_str(), "schema step " + std::to_string(step.version) + " (" +
                                                 std::string(step.description) + ") failed");
            !s)
          return s;
      }
      return exec(conn, "COMMIT", "cannot commit the schema migration");
    }();
    if (!status) sqlite3_exec(conn.db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    return status;
  }

  // ---- Records <-> rows ------------------------------------------------------------------------
  Status bind_record(Connection& conn, sqlite3_stmt* s, const ImageRecord& r) {
    if (r.source_bytes > static_cast<std::uint64_t>(std::numeric_limits<sqlite3_int64>::max()))
      return make_error(ErrorKind::invalid_argument, "sourceBytes of " + r.image_id + " is too large");
    nlohmann::json full = r;
    nlohmann::json details = nlohmann::json::object();
    for (const char* name : kDetailAttributes)
      if (auto it = full.find(name); it != full.end()) {
        if (it->is_string() && it->get_ref<const std::string&>().empty()) continue;
        details[name] = *it;
      }
    const std::string details_text = details.dump();
    int rc = SQLITE_OK;
    auto text = [&](int i, std::string_view v) {
      if (rc == SQLITE_OK) rc = sqlite3_bind_text64(s, i, v.data(), v.size(), kTransient, SQLITE_UTF8);
    };
    auto text_or_null = [&](int i, std::string_view v) {
      if (v.empty()) {
        if (rc == SQLITE_OK) rc = sqlite3_bind_null(s, i);
      } else {
        text(i, v);
      }
    };
    auto int64 = [&](int i, sqlite3_int64 v) {
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, i, v);
    };
    text(1, r.image_id);
    text(2, r.bucket);
    text(3, r.original_key);
    text(4, r.thumbnail_key);
    text(5, r.upload_date);
    text(6, to_string(r.status));
    text_or_null(7, r.error_kind);
    text_or_null(8, r.error_message);
    int64(9, r.attempts);
    int64(10, static_cast<sqlite3_int64>(r.source_bytes));
    if (r.info) {
      text(11, to_string(r.info->format));
      int64(12, r.info->width);
      int64(13, r.info->height);
    } else {
      for (int i : {11, 12, 13})
        if (rc == SQLITE_OK) rc = sqlite3_bind_null(s, i);
    }
    if (rc == SQLITE_OK) rc = sqlite3_bind_double(s, 14, r.processing_ms);
    text(15, r.updated_at);
    text(16, details_text);
    if (rc != SQLITE_OK) return error(conn.db.get(), rc, "cannot bind record " + r.image_id);
    return ok_status();
  }

  Result<ImageRecord> read_row(sqlite3_stmt* s) {
    nlohmann::json j = nlohmann::json::object();
    const int columns = sqlite3_column_count(s);
    std::string details_text;
    for (int i = 0; i < columns; ++i) {
      std::string_view name = sqlite3_column_name(s, i);
      int type = sqlite3_column_type(s, i);
      if (type == SQLITE_NULL) continue;
      if (name == "details") {
        details_text.assign(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                            static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
      } else if (name == "format" || name == "width" || name == "height") {
        continue;  // copies of details.image for queries; the record takes them from there
      } else if (type == SQLITE_INTEGER) {
        j[std::string(name)] = sqlite3_column_int64(s, i);
      } else if (type == SQLITE_FLOAT) {
        j[std::string(name)] = sqlite3_column_double(s, i);
      } else {
        j[std::string(name)] = std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                                           static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
      }
    }
    const std::string id = j.value("imageId", std::string{});
    auto details = nlohmann::json::parse(details_text, nullptr, /*allow_exceptions=*/false);
    if (!details.is_object())
      return make_error(ErrorKind::io, "catalog row " + id + " in " + path.string() + " has unreadable details");
    for (auto& [name, value] : details.items()) j[name] = value;
    try {
      return j.get<ImageRecord>();
    } catch (const nlohmann::json::exception& e) {
      return make_error(ErrorKind::io, "catalog row " + id + " in " + path.string() + " is unreadable: " + e.what());
    }
  }

  // Runs a write statement for one record; returns the number of rows changed.
  Result<int> write(Sql which, const ImageRecord& record) {
    if (auto v = validate_record(record); !v) return v.error();
    auto conn = take();
    if (!conn) return conn.error();
    Lease lease(*this, std::move(*conn));
    return write_on(*lease, which, record);
  }

  Result<int> write_on(Connection& conn, Sql which, const ImageRecord& record) {
    auto s = statement(conn, which);
    if (!s) return s.error();
    StmtUse use(*s);
    if (auto b = bind_record(conn, *s, record); !b) return b.error();
    int rc = sqlite3_step(*s);
    if (rc != SQLITE_DONE) return error(conn.db.get(), rc, "cannot write record " + record.image_id);
    return sqlite3_changes(conn.db.get());
  }

  Result<RecordPage> range(const std::string& from, const std::string& to, std::optional<RecordStatus> status,
                           int limit, const std::string& page_token) {
    if (auto v = validate_limit(limit); !v) return v.error();
    auto lower = normalize_lower_bound(from);
    if (!lower) return lower.error();
    auto upper = normalize_upper_bound(to);
    if (!upper) return upper.error();
    std::string after_date(kAfterAllDates);
    std::string after_id;
    if (!page_token.empty()) {
      auto token = decode_page_token(page_token);
      if (!token) return token.error();
      if (token->kind != PageToken::Kind::after_position)
        return make_error(ErrorKind::invalid_argument, "invalid page token: not from this kind of query");
      after_date = token->upload_date;
      after_id = token->image_id;
    }
    if (upper->empty()) *upper = std::string(kAfterAllDates);
    if (lower->empty()) *lower = std::string(kBeforeAllDates);
    // The position also caps the range, so the index walk starts at the position (the row value
    // comparison then only skips records sharing its upload date) rather than at the range's top.
    if (after_date < *upper) *upper = after_date;

    auto conn = take();
    if (!conn) return conn.error();
    Lease lease(*this, std::move(*conn));
    auto s = statement(*lease, status ? select_range_status : select_range);
    if (!s) return s.error();
    StmtUse use(*s);
    int rc = SQLITE_OK;
    auto text = [&](int i, std::string_view v) {
      if (rc == SQLITE_OK) rc = sqlite3_bind_text64(*s, i, v.data(), v.size(), kTransient, SQLITE_UTF8);
    };
    text(1, *lower);
    text(2, *upper);
    text(3, after_date);
    text(4, after_id);
    // One more than asked: whether it exists says whether there is a next page.
    if (rc == SQLITE_OK) rc = sqlite3_bind_int(*s, 5, limit + 1);
    if (status) text(6, to_string(*status));
    if (rc != SQLITE_OK) return error(lease->db.get(), rc, "cannot bind a query");

    RecordPage page;
    bool more = false;
    while ((rc = sqlite3_step(*s)) == SQLITE_ROW) {
      if (static_cast<int>(page.records.size()) == limit) {
        more = true;
        break;
      }
      auto record = read_row(*s);
      if (!record) return record.error();
      page.records.push_back(std::move(*record));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error(lease->db.get(), rc, "cannot query the catalog");
    if (more) {
      const auto& last = page.records.back();
      page.next_page_token =
          encode_page_token(PageToken{PageToken::Kind::after_position, last.upload_date, last.image_id});
    }
    return page;
  }
};

// ---- SqliteCatalog -----------------------------------------------------------------------------
SqliteCatalog::SqliteCatalog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteCatalog::~SqliteCatalog() = default;

Result<std::unique_ptr<SqliteCatalog>> SqliteCatalog::open(const std::filesystem::path& path, Options options) {
  if (sqlite3_threadsafe() == 0)
    return make_error(ErrorKind::internal, "the SQLite library was built without thread support");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  {
    auto conn = impl->take();
    if (!conn) return conn.error();
    Impl::Lease lease(*impl, std::move(*conn));
    if (auto s = impl->migrate(*lease); !s) return s.error();
  }
  return std::unique_ptr<SqliteCatalog>(new SqliteCatalog(std::move(impl)));
}

const std::filesystem::path& SqliteCatalog::path() const { return impl_->path; }

Result<bool> SqliteCatalog::put_if_absent(const ImageRecord& record) {
  auto changed = impl_->write(insert_if_absent, record);
  if (!changed) return changed.error();
  return *changed == 1;
}

Status SqliteCatalog::upsert(const ImageRecord& record) {
  // Fault point catalog.upsert: the catalog refuses the write as DynamoDB does when throttled.
  if (fault::hit("catalog.upsert"))
    return make_error(ErrorKind::unavailable, "fault point catalog.upsert: the catalog is throttled or down",
                      "ProvisionedThroughputExceededException");
  auto changed = impl_->write(upsert_row, record);
  if (!changed) return changed.error();
  return ok_status();
}

Result<ImageRecord> SqliteCatalog::get(const std::string& image_id) {
  auto conn = impl_->take();
  if (!conn) return conn.error();
  Impl::Lease lease(*impl_, std::move(*conn));
  auto s = impl_->statement(*lease, select_one);
  if (!s) return s.error();
  StmtUse use(*s);
  int rc = sqlite3_bind_text64(*s, 1, image_id.data(), image_id.size(), kTransient, SQLITE_UTF8);
  if (rc != SQLITE_OK) return impl_->error(lease->db.get(), rc, "cannot bind an imageId");
  rc = sqlite3_step(*s);
  if (rc == SQLITE_DONE) return make_error(ErrorKind::not_found, "no catalog record " + image_id);
  if (rc != SQLITE_ROW) return impl_->error(lease->db.get(), rc, "cannot read record " + image_id);
  return impl_->read_row(*s);
}

Result<RecordPage> SqliteCatalog::query_by_upload_date(const DateQuery& query) {
  return impl_->range(query.from, query.to, query.status, query.limit, query.page_token);
}

Result<RecordPage> SqliteCatalog::query_by_status(RecordStatus status, int limit, const std::string& page_token) {
  return impl_->range({}, {}, status, limit, page_token);
}

Status SqliteCatalog::remove(const std::string& image_id) {
  auto conn = impl_->take();
  if (!conn) return conn.error();
  Impl::Lease lease(*impl_, std::move(*conn));
  auto s = impl_->statement(*lease, delete_one);
  if (!s) return s.error();
  StmtUse use(*s);
  int rc = sqlite3_bind_text64(*s, 1, image_id.data(), image_id.size(), kTransient, SQLITE_UTF8);
  if (rc == SQLITE_OK) rc = sqlite3_step(*s);
  if (rc != SQLITE_DONE) return impl_->error(lease->db.get(), rc, "cannot delete record " + image_id);
  return ok_status();
}

Status SqliteCatalog::batch_put(const std::vector<ImageRecord>& records) {
  for (const auto& r : records)
    if (auto v = validate_record(r); !v) return v;
  if (records.empty()) return ok_status();
  auto conn = impl_->take();
  if (!conn) return conn.error();
  Impl::Lease lease(*impl_, std::move(*conn));
  if (auto s = impl_->exec(*lease, "BEGIN IMMEDIATE", "cannot start a batch"); !s) return s;
  Status status = ok_status();
  for (const auto& r : records) {
    auto changed = impl_->write_on(*lease, upsert_row, r);
    if (!changed) {
      status = changed.error();
      break;
    }
  }
  if (status) status = impl_->exec(*lease, "COMMIT", "cannot commit a batch");
  if (!status) sqlite3_exec(lease->db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  return status;
}

}  // namespace thumbflow::catalog
