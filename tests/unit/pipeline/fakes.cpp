#include "fakes.hpp"

#include <algorithm>

namespace thumbflow::test {

Result<bool> MemoryCatalog::put_if_absent(const ImageRecord& r) {
  if (down) return make_error(ErrorKind::unavailable, "catalog down");
  std::lock_guard lock(mu_);
  return records_.emplace(r.image_id, r).second;
}

Status MemoryCatalog::upsert(const ImageRecord& r) {
  if (down) return make_error(ErrorKind::unavailable, "catalog down");
  std::lock_guard lock(mu_);
  records_[r.image_id] = r;
  ++upserts;
  return ok_status();
}

Result<ImageRecord> MemoryCatalog::get(const std::string& id) {
  if (down) return make_error(ErrorKind::unavailable, "catalog down");
  std::lock_guard lock(mu_);
  auto it = records_.find(id);
  if (it == records_.end()) return make_error(ErrorKind::not_found, "no record " + id);
  return it->second;
}

Result<catalog::RecordPage> MemoryCatalog::query_by_upload_date(const catalog::DateQuery& q) {
  std::lock_guard lock(mu_);
  catalog::RecordPage page;
  for (const auto& [id, r] : records_)
    if ((q.from.empty() || r.upload_date >= q.from) && (q.to.empty() || r.upload_date <= q.to) &&
        (!q.status || r.status == *q.status))
      page.records.push_back(r);
  std::sort(page.records.begin(), page.records.end(),
            [](const auto& a, const auto& b) { return a.upload_date > b.upload_date; });
  return page;
}

Result<catalog::RecordPage> MemoryCatalog::query_by_status(RecordStatus s, int, const std::string&) {
  catalog::DateQuery q;
  q.status = s;
  return query_by_upload_date(q);
}

Status MemoryCatalog::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  records_.erase(id);
  return ok_status();
}

std::size_t MemoryCatalog::size() const {
  std::lock_guard lock(mu_);
  return records_.size();
}

Result<storage::PutResult> FaultyStore::put(const ObjectRef& r, std::string_view b, const storage::PutOptions& o) {
  if (fail_puts) return make_error(ErrorKind::unavailable, "store down mid-write", "ServiceUnavailable");
  ++puts;
  return inner_.put(r, b, o);
}

}  // namespace thumbflow::test
