// LocalStore: a folder is a set of buckets, a bucket is a sub-folder, an object is a file at
// its key's path, so the data stays browsable with ordinary tools.
//
//   ROOT/<bucket>/<key>                 object bytes
//   ROOT/.meta/<bucket>/<key>.json      content type, cache control, user metadata, ETag, size
//   ROOT/.tmp/                          staging for atomic writes (same file system)
//
// Keys map to paths only when that is safe and faithful: empty, over 1024 bytes, NUL,
// backslash, a leading '/', empty segments ("a//b"), "." and ".." segments, segments longer
// than the file system allows, and keys whose path collides with another key's folder are
// refused with a clear error (invalid_argument, code KeyNotStorable).
//
// Writes are atomic: bytes go to a temporary file, are fsynced, and are renamed into place,
// then the metadata likewise; a per-key lock (striped) makes "data + metadata" one step, so
// concurrent writers to one key leave the last complete write, never a mix, and readers see
// one version. One process owns a data folder (thumbflow serve holds ROOT/.lock).
#pragma once

#include <filesystem>
#include <memory>
#include <shared_mutex>

#include "storage/object_store.hpp"

namespace thumbflow::storage {

// Maps an object key to a relative path, or says why it cannot be stored.
Result<std::filesystem::path> key_to_relative_path(std::string_view key);
// S3's bucket naming rules (3-63 characters, lower-case letters, digits, '.', '-', starting and
// ending with a letter or digit, not an IP address).
Status validate_bucket_name(std::string_view bucket);

class LocalStore : public ObjectStore {
 public:
  explicit LocalStore(std::filesystem::path root);
  ~LocalStore() override;

  const std::filesystem::path& root() const { return root_; }

  Result<PutResult> put(const ObjectRef& ref, std::string_view bytes, const PutOptions& opts = {}) override;
  Result<PutResult> put_stream(const ObjectRef& ref, const ByteSource& source, std::optional<std::uint64_t> size,
                               const PutOptions& opts = {}) override;
  Result<ObjectMeta> get(const ObjectRef& ref, const ByteSink& sink, const GetOptions& opts = {}) override;
  Result<ObjectMeta> head(const ObjectRef& ref) override;
  Status remove(const ObjectRef& ref) override;
  Result<ListPage> list(const std::string& bucket, const ListOptions& opts = {}) override;
  Result<PutResult> copy(const ObjectRef& from, const ObjectRef& to, bool replace_metadata = false,
                         const PutOptions& opts = {}) override;

  Status create_bucket(const std::string& bucket) override;
  Status delete_bucket(const std::string& bucket) override;
  Result<bool> bucket_exists(const std::string& bucket) override;
  Result<std::vector<BucketInfo>> list_buckets() override;

  // Stages a body in ROOT/.tmp (streamed, MD5 computed on the way) and installs it under a key
  // in one atomic step: the building block for put_stream, copy and multipart completion.
  struct Staged;
  // Staged stays opaque; the deleter is defined in local_store.cpp, where Staged is complete, so
  // callers in other files can own and drop the handle (std::default_delete could not).
  struct StagedDeleter {
    void operator()(Staged* staged) const;
  };
  using StagedPtr = std::unique_ptr<Staged, StagedDeleter>;
  Result<StagedPtr> stage(const ByteSource& source, std::uint64_t max_bytes = 0);
  Result<PutResult> install(const ObjectRef& ref, Staged& staged, const PutOptions& opts,
                            const std::string& etag_override = {});

 private:
  struct Paths {
    std::filesystem::path data, meta;
  };
  Result<Paths> paths_for(const ObjectRef& ref) const;
  Status require_bucket(const std::string& bucket) const;
  std::shared_mutex& lock_for(const ObjectRef& ref);
  Result<ObjectMeta> read_meta(const ObjectRef& ref, const Paths& p) const;

  std::filesystem::path root_;
  static constexpr std::size_t kLockStripes = 64;
  std::unique_ptr<std::shared_mutex[]> locks_;
};

}  // namespace thumbflow::storage
