// Test doubles for the pipeline's seams (unit tests only; integration tests use real peers).
#pragma once

#include <atomic>
#include <map>
#include <mutex>

#include "catalog/catalog.hpp"
#include "pipeline/pipeline.hpp"
#include "storage/object_store.hpp"

namespace thumbflow::test {

// An in-memory catalog.
class MemoryCatalog : public catalog::Catalog {
 public:
  Result<bool> put_if_absent(const ImageRecord& r) override;
  Status upsert(const ImageRecord& r) override;
  Result<ImageRecord> get(const std::string& id) override;
  Result<catalog::RecordPage> query_by_upload_date(const catalog::DateQuery& q) override;
  Result<catalog::RecordPage> query_by_status(RecordStatus s, int limit, const std::string& token) override;
  Status remove(const std::string& id) override;

  std::size_t size() const;
  std::atomic<int> upserts{0};
  std::atomic<bool> down{false};

 private:
  mutable std::mutex mu_;
  std::map<std::string, ImageRecord> records_;
};

// Wraps a store; can fail puts (the "store down mid-write" fault) and counts them.
class FaultyStore : public storage::ObjectStore {
 public:
  explicit FaultyStore(storage::ObjectStore& inner) : inner_(inner) {}
  std::atomic<int> puts{0};
  std::atomic<bool> fail_puts{false};

  Result<storage::PutResult> put(const ObjectRef& r, std::string_view b, const storage::PutOptions& o) override;
  Result<storage::PutResult> put_stream(const ObjectRef& r, const storage::ByteSource& s, std::optional<std::uint64_t> n,
                                        const storage::PutOptions& o) override {
    return inner_.put_stream(r, s, n, o);
  }
  Result<storage::ObjectMeta> get(const ObjectRef& r, const storage::ByteSink& s, const storage::GetOptions& o) override {
    return inner_.get(r, s, o);
  }
  Result<storage::ObjectMeta> head(const ObjectRef& r) override { return inner_.head(r); }
  Status remove(const ObjectRef& r) override { return inner_.remove(r); }
  Result<storage::ListPage> list(const std::string& b, const storage::ListOptions& o) override { return inner_.list(b, o); }
  Result<storage::PutResult> copy(const ObjectRef& f, const ObjectRef& t, bool rm, const storage::PutOptions& o) override {
    return inner_.copy(f, t, rm, o);
  }
  Status create_bucket(const std::string& b) override { return inner_.create_bucket(b); }
  Status delete_bucket(const std::string& b) override { return inner_.delete_bucket(b); }
  Result<bool> bucket_exists(const std::string& b) override { return inner_.bucket_exists(b); }
  Result<std::vector<storage::BucketInfo>> list_buckets() override { return inner_.list_buckets(); }

 private:
  storage::ObjectStore& inner_;
};

}  // namespace thumbflow::test
