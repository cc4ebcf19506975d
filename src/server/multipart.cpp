#include "server/multipart.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "aws/primitives.hpp"
#include "server/checksums.hpp"
#include "server/s3_error.hpp"

namespace thumbflow::server {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::size_t kIdBytes = 16;
constexpr std::size_t kCopyChunk = 256 * 1024;

Error io_error(const std::string& what, int err) { return make_error(ErrorKind::io, what + ": " + std::strerror(err)); }

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) throw aws::CryptoError("RAND_bytes failed");
  return aws::hex_lower(buf);
}

bool valid_upload_id(const std::string& id) {
  return id.size() == kIdBytes * 2 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string part_stem(int number) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%05d", number);
  return buf;
}

std::int64_t to_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_ms(std::int64_t ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

Status write_file_atomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp" + random_hex(4);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create " + tmp.string(), errno);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return io_error("cannot write " + tmp.string(), err);
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot install " + path.string(), err);
  }
  return ok_status();
}

Result<json> read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorKind::not_found, "no such file " + path.string());
  try {
    return json::parse(in);
  } catch (const std::exception& e) {
    return make_error(ErrorKind::io, "damaged " + path.string() + ": " + e.what());
  }
}

Error no_such_upload() { return s3_failure("NoSuchUpload"); }

Result<PartEntry> read_part(const fs::path& dir, int number) {
  auto j = read_json(dir / (part_stem(number) + ".json"));
  if (!j) return j.error();
  PartEntry p;
  p.number = number;
  try {
    p.etag = j->at("etag").get<std::string>();
    p.size = j->at("size").get<std::uint64_t>();
    p.last_modified = from_ms(j->at("lastModifiedMs").get<std::int64_t>());
  } catch (const std::exception& e) {
    return make_error(ErrorKind::io, std::string("damaged part metadata: ") + e.what());
  }
  return p;
}

class FilePartWriter : public MultipartStore::PartWriter {
 public:
  FilePartWriter(fs::path dir, int number, std::uint64_t max_bytes, std::mutex& lock)
      : dir_(std::move(dir)), number_(number), max_bytes_(max_bytes), lock_(lock), md5_(DigestKind::md5) {}
  ~FilePartWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }

  Status open() {
    tmp_ = dir_ / ("tmp-" + random_hex(8));
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      const int err = errno;
      tmp_.clear();
      if (err == ENOENT) return no_such_upload();  // aborted meanwhile
      return io_error("cannot create a part file", err);
    }
    return ok_status();
  }

  Status write(std::string_view data) override {
    size_ += data.size();
    if (size_ > max_bytes_)
      return s3_failure("EntityTooLarge", "A part may be at most " + std::to_string(max_bytes_) + " bytes.");
    md5_.update(data);
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return io_error("cannot write a part file", errno);
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return ok_status();
  }

  Result<PartEntry> commit() override {
    if (::fsync(fd_) != 0) return io_error("cannot sync a part file", errno);
    ::close(fd_);
    fd_ = -1;
    PartEntry p;
    p.number = number_;
    p.size = size_;
    const std::string raw = md5_.digest();
    p.etag = aws::hex_lower(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
    p.last_modified = std::chrono::system_clock::now();
    const json meta = {{"etag", p.etag}, {"size", p.size}, {"lastModifiedMs", to_ms(p.last_modified)}};
    std::lock_guard guard(lock_);
    std::error_code ec;
    if (!fs::exists(dir_ / "upload.json", ec)) return no_such_upload();
    if (::rename(tmp_.c_str(), (dir_ / (part_stem(number_) + ".part")).c_str()) != 0)
      return io_error("cannot install a part", errno);
    tmp_.clear();
    if (auto st = write_file_atomic(dir_ / (part_stem(number_) + ".json"), meta.dump()); !st) return st.error();
    return p;
  }

 private:
  fs::path dir_;
  int number_;
  std::uint64_t max_bytes_;
  std::mutex& lock_;
  Hasher md5_;
  fs::path tmp_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Refuses up front what install() would refuse, before the parts are copied.
Status check_installable(storage::LocalStore& store, const ObjectRef& ref) {
  auto exists = store.bucket_exists(ref.bucket);
  if (!exists) return exists.error();
  if (!*exists) return s3_failure("NoSuchBucket");
  if (auto rel = storage::key_to_relative_path(ref.key); !rel) return rel.error();
  std::error_code ec;
  const fs::path data = store.root() / ref.bucket / *storage::key_to_relative_path(ref.key);
  if (fs::is_directory(data, ec))
    return make_error(ErrorKind::invalid_argument, "key '" + ref.key + "' cannot be stored: other keys already use "
                                                   "it as a folder prefix", "KeyNotStorable");
  return ok_status();
}

}  // namespace

std::string multipart_etag(const std::vector<std::string>& part_md5_hex) {
  Hasher md5(DigestKind::md5);
  for (const auto& hex : part_md5_hex) {
    std::string raw;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    md5.update(raw);
  }
  const std::string d = md5.digest();
  return aws::hex_lower(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(d.data()), d.size())) +
         "-" + std::to_string(part_md5_hex.size());
}

MultipartStore::MultipartStore(storage::LocalStore& store, fs::path uploads_dir, MultipartLimits limits)
    : store_(store), root_(std::move(uploads_dir)), limits_(limits), locks_(new std::mutex[kLockStripes]) {
  std::error_code ec;
  fs::create_directories(root_, ec);
}

MultipartStore::~MultipartStore() = default;

fs::path MultipartStore::dir_for(const std::string& upload_id) const { return root_ / upload_id; }

std::mutex& MultipartStore::lock_for(const std::string& upload_id) const {
  return locks_[std::hash<std::string>{}(upload_id) % kLockStripes];
}

Result<UploadInfo> MultipartStore::read_upload(const std::string& upload_id) const {
  if (!valid_upload_id(upload_id)) return no_such_upload();
  auto j = read_json(dir_for(upload_id) / "upload.json");
  if (!j) return j.error().kind == ErrorKind::not_found ? no_such_upload() : j.error();
  UploadInfo u;
  u.upload_id = upload_id;
  try {
    u.ref.bucket = j->at("bucket").get<std::string>();
    u.ref.key = j->at("key").get<std::string>();
    u.options.content_type = j->value("contentType", "application/octet-stream");
    u.options.cache_control = j->value("cacheControl", "");
    u.options.stored_headers = j->value("headers", storage::Metadata{});
    u.options.user_metadata = j->value("metadata", storage::Metadata{});
    u.initiated = from_ms(j->value("initiatedMs", std::int64_t{0}));
  } catch (const std::exception& e) {
    return make_error(ErrorKind::io, std::string("damaged upload metadata: ") + e.what());
  }
  return u;
}

Result<UploadInfo> MultipartStore::create(const ObjectRef& ref, const storage::PutOptions& options) {
  auto exists = store_.bucket_exists(ref.bucket);
  if (!exists) return exists.error();
  if (!*exists) return s3_failure("NoSuchBucket");
  if (auto rel = storage::key_to_relative_path(ref.key); !rel) return rel.error();
  UploadInfo u;
  u.upload_id = random_hex(kIdBytes);
  u.ref = ref;
  u.options = options;
  u.options.if_match.reset();
  u.options.if_none_match_any = false;
  u.initiated = std::chrono::system_clock::now();
  const fs::path dir = dir_for(u.upload_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorKind::io, "cannot create " + dir.string() + ": " + ec.message());
  const json meta = {{"bucket", ref.bucket},
                     {"key", ref.key},
                     {"contentType", options.content_type},
                     {"cacheControl", options.cache_control},
                     {"headers", options.stored_headers},
                     {"metadata", options.user_metadata},
                     {"initiatedMs", to_ms(u.initiated)}};
  if (auto st = write_file_atomic(dir / "upload.json", meta.dump()); !st) return st.error();
  return u;
}

Result<UploadInfo> MultipartStore::find(const std::string& upload_id, const ObjectRef& ref) const {
  auto u = read_upload(upload_id);
  if (!u) return u.error();
  if (u->ref != ref) return no_such_upload();
  return u;
}

Result<std::unique_ptr<MultipartStore::PartWriter>> MultipartStore::begin_part(const std::string& upload_id,
                                                                              const ObjectRef& ref, int part_number) {
  if (part_number < 1 || part_number > static_cast<int>(limits_.max_parts))
    return s3_failure("InvalidArgument",
                      "Part number must be an integer between 1 and " + std::to_string(limits_.max_parts) + ", inclusive");
  if (auto u = find(upload_id, ref); !u) return u.error();
  auto writer = std::make_unique<FilePartWriter>(dir_for(upload_id), part_number, limits_.max_part_bytes,
                                                 lock_for(upload_id));
  if (auto st = writer->open(); !st) return st.error();
  return std::unique_ptr<PartWriter>(std::move(writer));
}

Result<std::vector<PartEntry>> MultipartStore::parts(const std::string& upload_id, const ObjectRef& ref) const {
  std::lock_guard guard(lock_for(upload_id));
  if (auto u = find(upload_id, ref); !u) return u.error();
  std::vector<PartEntry> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_for(upload_id), ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() != 10 || name.substr(5) != ".json") continue;
    const int number = std::atoi(name.substr(0, 5).c_str());
    auto p = read_part(dir_for(upload_id), number);
    if (p) out.push_back(std::move(*p));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
  return out;
}

Result<storage::PutResult> MultipartStore::complete(const std::string& upload_id, const ObjectRef& ref,
                                                    const std::vector<CompletedPart>& wanted, std::uint64_t* size_out) {
  std::lock_guard guard(lock_for(upload_id));
  auto upload = find(upload_id, ref);
  if (!upload) return upload.error();
  const fs::path dir = dir_for(upload_id);
  std::vector<PartEntry> chosen;
  std::vector<std::string> md5s;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (i > 0 && wanted[i].number <= wanted[i - 1].number) return s3_failure("InvalidPartOrder");
    auto p = read_part(dir, wanted[i].number);
    std::string want = wanted[i].etag;
    if (want.size() >= 2 && want.front() == '"' && want.back() == '"') want = want.substr(1, want.size() - 2);
    std::transform(want.begin(), want.end(), want.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
    if (!p || p->etag != want) return s3_failure("InvalidPart");
    chosen.push_back(*p);
    md5s.push_back(p->etag);
  }
  for (std::size_t i = 0; i + 1 < chosen.size(); ++i) {
    if (chosen[i].size < limits_.min_part_bytes)
      return s3_failure("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size: part " +
                                              std::to_string(chosen[i].number) + " is " +
                                              std::to_string(chosen[i].size) + " bytes, the minimum is " +
                                              std::to_string(limits_.min_part_bytes));
  }
  // Concatenate the parts into one staged file.
  std::size_t index = 0;
  int fd = -1;
  auto close_fd = [&] {
    if (fd >= 0) ::close(fd);
    fd = -1;
  };
  auto source = [&](char* buf, std::size_t cap) -> Result<std::size_t> {
    for (;;) {
      if (fd < 0) {
        if (index == chosen.size()) return std::size_t{0};
        fd = ::open((dir / (part_stem(chosen[index].number) + ".part")).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return io_error("cannot open part " + std::to_string(chosen[index].number), errno);
      }
      const ssize_t n = ::read(fd, buf, std::min(cap, kCopyChunk));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("cannot read part " + std::to_string(chosen[index].number), errno);
      if (n > 0) return static_cast<std::size_t>(n);
      close_fd();
      ++index;
    }
  };
  if (auto st = check_installable(store_, ref); !st) return st.error();
  auto staged = store_.stage(source);
  close_fd();
  if (!staged) return staged.error();
  const std::string etag = multipart_etag(md5s);
  auto put = store_.install(ref, **staged, upload->options, etag);
  if (!put) return put.error();
  if (size_out) {
    std::uint64_t total = 0;
    for (const auto& p : chosen) total += p.size;
    *size_out = total;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return put;
}

Status MultipartStore::abort(const std::string& upload_id, const ObjectRef& ref) {
  std::lock_guard guard(lock_for(upload_id));
  if (auto u = find(upload_id, ref); !u) return u.error();
  std::error_code ec;
  // upload.json first: a part writer committing concurrently then sees the upload gone.
  fs::remove(dir_for(upload_id) / "upload.json", ec);
  fs::remove_all(dir_for(upload_id), ec);
  if (ec) return make_error(ErrorKind::io, "cannot remove upload " + upload_id + ": " + ec.message());
  return ok_status();
}

Result<UploadListing> MultipartStore::list(const std::string& bucket, const std::string& prefix,
                                           const std::string& delimiter, const std::string& key_marker,
                                           const std::string& upload_id_marker, int max_uploads) const {
  std::vector<UploadInfo> all;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_, ec)) {
    const std::string id = e.path().filename().string();
    if (!valid_upload_id(id)) continue;
    auto u = read_upload(id);
    if (!u || u->ref.bucket != bucket) continue;
    if (u->ref.key.compare(0, prefix.size(), prefix) != 0) continue;
    all.push_back(std::move(*u));
  }
  std::sort(all.begin(), all.end(), [](const UploadInfo& a, const UploadInfo& b) {
    if (a.ref.key != b.ref.key) return a.ref.key < b.ref.key;
    if (a.initiated != b.initiated) return a.initiated < b.initiated;
    return a.upload_id < b.upload_id;
  });
  // Skip past the markers.
  std::size_t start = 0;
  if (!key_marker.empty()) {
    while (start < all.size()) {
      const auto& u = all[start];
      if (u.ref.key < key_marker) {
        ++start;
      } else if (u.ref.key == key_marker) {
        if (upload_id_marker.empty()) {
          ++start;
        } else {
          const bool at_marker = u.upload_id == upload_id_marker;
          ++start;
          if (at_marker) break;
        }
      } else {
        break;
      }
    }
  }
  UploadListing out;
  int count = 0;
  for (std::size_t i = start; i < all.size(); ++i) {
    const auto& u = all[i];
    if (!delimiter.empty()) {
      const auto d = u.ref.key.find(delimiter, prefix.size());
      if (d != std::string::npos) {
        const std::string cp = u.ref.key.substr(0, d + delimiter.size());
        if (out.common_prefixes.empty() || out.common_prefixes.back() != cp) {
          if (count == max_uploads) {
            out.truncated = true;
            break;
          }
          out.common_prefixes.push_back(cp);
          ++count;
          out.next_key_marker = cp;
          out.next_upload_id_marker.clear();
        }
        continue;
      }
    }
    if (count == max_uploads) {
      out.truncated = true;
      break;
    }
    out.uploads.push_back(u);
    ++count;
    out.next_key_marker = u.ref.key;
    out.next_upload_id_marker = u.upload_id;
  }
  return out;
}

}  // namespace thumbflow::server
