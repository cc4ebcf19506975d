// The catalog seam: the ImageMetadata table. SqliteCatalog (local home) and DynamoCatalog
// (AWS and any DynamoDB-compatible service) implement it; the pipeline sees only this.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/image_record.hpp"

namespace thumbflow::catalog {

struct RecordPage {
  std::vector<ImageRecord> records;
  std::string next_page_token;  // empty on the last page
};

struct DateQuery {
  std::string from;  // inclusive ISO-8601 UTC; empty = no lower bound
  std::string to;    // inclusive ISO-8601 UTC; empty = no upper bound
  std::optional<RecordStatus> status;  // only records with this status
  int limit = 50;    // 1..1000
  std::string page_token;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  // Inserts unless a record with this image_id exists: true if inserted, false if it existed.
  virtual Result<bool> put_if_absent(const ImageRecord& record) = 0;
  virtual Status upsert(const ImageRecord& record) = 0;
  // not_found when there is no such record.
  virtual Result<ImageRecord> get(const std::string& image_id) = 0;
  // Newest upload first; paginated.
  virtual Result<RecordPage> query_by_upload_date(const DateQuery& query) = 0;
  // Every record with this status, each once across the pages; the order is the
  // implementation's (SQLite: newest first; DynamoDB: table order, see dynamo_catalog.hpp).
  virtual Result<RecordPage> query_by_status(RecordStatus status, int limit = 50, const std::string& page_token = {}) = 0;
  // Deleting a missing record succeeds.
  virtual Status remove(const std::string& image_id) = 0;
  // Upserts many records (the later of two with the same image_id wins). Not atomic: on an
  // error some records may have been written; each write is an upsert, so a retry is safe.
  virtual Status batch_put(const std::vector<ImageRecord>& records) {
    for (const auto& r : records)
      if (auto s = upsert(r); !s) return s;
    return ok_status();
  }
};

}  // namespace thumbflow::catalog
