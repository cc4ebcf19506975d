// The catalog of the local home: one SQLite file (WAL mode), shared safely by many threads and
// many processes (the CLI, the worker and the console may all open it at once).
//
// Policy:
// - One connection per concurrent caller: each call borrows an idle connection from a small
//   pool (opening a new one when none is idle) and returns it, so no connection is ever used by
//   two threads at once and SQLite's own locking arbitrates between threads and processes.
// - Every operation is one statement in autocommit mode, or (batch_put) one short IMMEDIATE
//   transaction: no lock is held across calls.
// - A writer that cannot get the lock waits up to busy_timeout, then fails with unavailable
//   (retryable). A damaged, read-only or missing-directory file fails with io; an invalid record
//   or page token with invalid_argument. The SQLite result code name ("SQLITE_BUSY") is in
//   Error::code.
// - The schema is migrated on open (see sqlite_schema.hpp); a file written by a newer thumbflow
//   (a schema version we do not know) is refused rather than guessed at.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>

#include "catalog/catalog.hpp"

namespace thumbflow::catalog {

struct SqliteCatalogOptions {
  // How long a statement waits for another connection's lock before failing with unavailable.
  std::chrono::milliseconds busy_timeout{5000};
  // Idle connections kept open for reuse; more may be open while more threads are inside calls.
  std::size_t max_idle_connections = 8;
};

class SqliteCatalog final : public Catalog {
 public:
  using Options = SqliteCatalogOptions;

  // Opens (creating it and its schema if needed) the catalog file at `path`; the directory
  // must exist. Errors: io (cannot open, not a database, read-only), unavailable (locked past
  // busy_timeout), invalid_argument (schema newer than this build).
  static Result<std::unique_ptr<SqliteCatalog>> open(const std::filesystem::path& path, Options options = {});
  ~SqliteCatalog() override;
  SqliteCatalog(const SqliteCatalog&) = delete;
  SqliteCatalog& operator=(const SqliteCatalog&) = delete;

  Result<bool> put_if_absent(const ImageRecord& record) override;
  Status upsert(const ImageRecord& record) override;
  Result<ImageRecord> get(const std::string& image_id) override;
  Result<RecordPage> query_by_upload_date(const DateQuery& query) override;
  // Newest upload first, like query_by_upload_date (served by the (status, uploadDate) index).
  Result<RecordPage> query_by_status(RecordStatus status, int limit = 50, const std::string& page_token = {}) override;
  Status remove(const std::string& image_id) override;
  // All records in one transaction: either all are written or none.
  Status batch_put(const std::vector<ImageRecord>& records) override;

  const std::filesystem::path& path() const;

 private:
  struct Impl;
  explicit SqliteCatalog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace thumbflow::catalog
