// Multipart uploads staged under DATA/.uploads, completed through LocalStore's stage/install so
// the finished object appears in one atomic step like any other write.
//
//   DATA/.uploads/<upload id>/upload.json     bucket, key, content type, metadata, initiated
//   DATA/.uploads/<upload id>/00001.part      part bytes
//   DATA/.uploads/<upload id>/00001.json      part ETag (MD5), size, time
//
// A part is written to a temporary file in its upload's folder and renamed into place with its
// metadata under the upload's lock, so a re-uploaded part number is replaced whole (last complete
// write wins). Complete checks the list (ascending: InvalidPartOrder; present with that ETag:
// InvalidPart; every part but the last at least min_part_bytes: EntityTooSmall), concatenates
// the parts into one staged file and installs it with S3's ETag: the hex MD5 of the concatenated
// binary MD5s of the parts, then "-<number of parts>". Abort and Complete remove the folder.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/object_ref.hpp"
#include "server/s3_xml.hpp"
#include "storage/local_store.hpp"

namespace thumbflow::server {

struct MultipartLimits {
  std::uint32_t max_parts = 10'000;                  // part numbers 1..max_parts
  std::uint64_t max_part_bytes = 5ULL << 30;         // 5 GiB, S3's limit
  std::uint64_t min_part_bytes = 5ULL << 20;         // 5 MiB, every part but the last
};

struct UploadInfo {
  std::string upload_id;
  ObjectRef ref;
  storage::PutOptions options;  // content type, cache control, user metadata for the object
  std::chrono::system_clock::time_point initiated{};
};

struct UploadListing {
  std::vector<UploadInfo> uploads;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_key_marker, next_upload_id_marker;
};

class MultipartStore {
 public:
  MultipartStore(storage::LocalStore& store, std::filesystem::path uploads_dir, MultipartLimits limits = {});
  ~MultipartStore();

  const MultipartLimits& limits() const { return limits_; }

  // The bucket must exist and the key be storable.
  Result<UploadInfo> create(const ObjectRef& ref, const storage::PutOptions& options);
  // NoSuchUpload unless the id exists and belongs to ref.
  Result<UploadInfo> find(const std::string& upload_id, const ObjectRef& ref) const;

  // Receives one part, pushed in pieces; commit() makes it visible (replacing an earlier upload of
  // the same number). Dropped without commit, it leaves nothing.
  class PartWriter {
   public:
    virtual ~PartWriter() = default;
    virtual Status write(std::string_view data) = 0;  // EntityTooLarge past max_part_bytes
    virtual Result<PartEntry> commit() = 0;
  };
  Result<std::unique_ptr<PartWriter>> begin_part(const std::string& upload_id, const ObjectRef& ref, int part_number);

  Result<std::vector<PartEntry>> parts(const std::string& upload_id, const ObjectRef& ref) const;
  Result<storage::PutResult> complete(const std::string& upload_id, const ObjectRef& ref,
                                      const std::vector<CompletedPart>& parts, std::uint64_t* size_out = nullptr);
  Status abort(const std::string& upload_id, const ObjectRef& ref);
  // In key order, then initiation time, as S3 lists them.
  Result<UploadListing> list(const std::string& bucket, const std::string& prefix, const std::string& delimiter,
                             const std::string& key_marker, const std::string& upload_id_marker, int max_uploads) const;

 private:
  std::filesystem::path dir_for(const std::string& upload_id) const;
  std::mutex& lock_for(const std::string& upload_id) const;
  Result<UploadInfo> read_upload(const std::string& upload_id) const;

  storage::LocalStore& store_;
  std::filesystem::path root_;
  MultipartLimits limits_;
  static constexpr std::size_t kLockStripes = 32;
  std::unique_ptr<std::mutex[]> locks_;
};

// S3's multipart ETag from the parts' hex MD5s: hex MD5 of the concatenated binary MD5s, "-N".
std::string multipart_etag(const std::vector<std::string>& part_md5_hex);

}  // namespace thumbflow::server
