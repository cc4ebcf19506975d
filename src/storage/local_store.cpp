#include "storage/local_store.hpp"

#include "core/fault_point.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <functional>
#include <mutex>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

namespace thumbflow::storage {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::size_t kChunk = 256 * 1024;
constexpr std::size_t kMaxSegmentBytes = 255 - 5;  // NAME_MAX, less room for the ".json" sidecar suffix
constexpr const char* kMetaDir = ".meta";
constexpr const char* kTmpDir = ".tmp";

Error io_error(const std::string& what, int err) {
  return make_error(ErrorKind::io, what + ": " + std::strerror(err));
}

Error not_storable(std::string_view key, const std::string& why) {
  std::string shown(key.substr(0, 200));
  return make_error(ErrorKind::invalid_argument, "key '" + shown + "' cannot be stored: " + why, "KeyNotStorable");
}

// RAII file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

class Md5 {
 public:
  Md5() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_md5(), nullptr); }
  ~Md5() { EVP_MD_CTX_free(ctx_); }
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;
  void update(std::string_view d) { EVP_DigestUpdate(ctx_, d.data(), d.size()); }
  std::string hex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, md.data(), &n);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
      out += digits[md[i] >> 4];
      out += digits[md[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

Status write_all(int fd, std::string_view data, const std::string& what) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error("cannot write " + what, errno);
    done += static_cast<std::size_t>(n);
  }
  return ok_status();
}

Status fsync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return io_error("cannot open " + dir.string(), errno);
  if (::fsync(fd.get()) != 0) return io_error("cannot sync " + dir.string(), errno);
  return ok_status();
}

std::string random_name() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(rng() % 1000000007);
}

std::int64_t to_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string hex_of(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

Result<std::string> unhex(std::string_view s) {
  if (s.size() % 2) return make_error(ErrorKind::invalid_argument, "bad continuation token", "InvalidArgument");
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    auto val = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = val(s[i]), lo = val(s[i + 1]);
    if (hi < 0 || lo < 0) return make_error(ErrorKind::invalid_argument, "bad continuation token", "InvalidArgument");
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// Removes now-empty folders from dir up to (not including) stop: S3 has no folders.
void prune_empty_dirs(fs::path dir, const fs::path& stop) {
  std::error_code ec;
  while (dir != stop && dir.string().size() > stop.string().size()) {
    if (!fs::is_empty(dir, ec) || ec) return;
    fs::remove(dir, ec);
    if (ec) return;
    dir = dir.parent_path();
  }
}

}  // namespace

struct LocalStore::Staged {
  fs::path path;
  std::uint64_t size = 0;
  std::string md5;
  bool installed = false;
  ~Staged() {
    if (!installed) {
      std::error_code ec;
      fs::remove(path, ec);
    }
  }
};

Result<fs::path> key_to_relative_path(std::string_view key) {
  if (key.empty()) return not_storable(key, "the key is empty");
  if (key.size() > kMaxKeyBytes)
    return not_storable(key, "it is " + std::to_string(key.size()) + " bytes, over S3's limit of 1024");
  if (key.find('\0') != std::string_view::npos) return not_storable(key, "it contains a NUL byte");
  if (key.find('\\') != std::string_view::npos) return not_storable(key, "it contains a backslash");
  if (key.front() == '/') return not_storable(key, "it starts with '/' (an absolute path)");
  fs::path rel;
  std::size_t start = 0;
  while (start <= key.size()) {
    std::size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view seg = key.substr(start, end - start);
    if (seg.empty()) {
      if (end == key.size()) return not_storable(key, "it ends with '/' (a folder marker, not an object)");
      return not_storable(key, "it has an empty path segment ('//')");
    }
    if (seg == ".") return not_storable(key, "it has a '.' path segment");
    if (seg == "..") return not_storable(key, "it has a '..' path segment");
    if (seg.size() > kMaxSegmentBytes)
      return not_storable(key, "a path segment is longer than " + std::to_string(kMaxSegmentBytes) + " bytes");
    if (rel.empty() && seg.front() == '.' && (seg == kMetaDir || seg == kTmpDir))
      return not_storable(key, "its first segment is reserved");
    rel /= std::string(seg);
    start = end + 1;
    if (end == key.size()) break;
  }
  return rel;
}

Status validate_bucket_name(std::string_view b) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorKind::invalid_argument, "invalid bucket name '" + std::string(b.substr(0, 100)) + "': " + why,
                      "InvalidBucketName");
  };
  if (b.size() < 3 || b.size() > 63) return bad("must be 3 to 63 characters");
  for (char c : b)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
      return bad("only lower-case letters, digits, '.' and '-' are allowed");
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(b.front()) || !alnum(b.back())) return bad("must start and end with a letter or digit");
  if (b.find("..") != std::string_view::npos) return bad("must not contain '..'");
  bool ip = std::count(b.begin(), b.end(), '.') == 3 &&
            std::all_of(b.begin(), b.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
  if (ip) return bad("must not look like an IP address");
  return ok_status();
}

LocalStore::LocalStore(fs::path root) : root_(std::move(root)), locks_(new std::shared_mutex[kLockStripes]) {
  std::error_code ec;
  fs::create_directories(root_ / kTmpDir, ec);
  fs::create_directories(root_ / kMetaDir, ec);
}

LocalStore::~LocalStore() = default;

std::shared_mutex& LocalStore::lock_for(const ObjectRef& ref) {
  std::size_t h = std::hash<std::string>{}(ref.bucket) * 31 + std::hash<std::string>{}(ref.key);
  return locks_[h % kLockStripes];
}

Status LocalStore::require_bucket(const std::string& bucket) const {
  if (auto st = validate_bucket_name(bucket); !st) {
    // An invalid name can never exist: report it as a missing bucket, as S3 does.
    return make_error(ErrorKind::not_found, "no such bucket '" + bucket + "'", "NoSuchBucket");
  }
  std::error_code ec;
  if (!fs::is_directory(root_ / bucket, ec))
    return make_error(ErrorKind::not_found, "no such bucket '" + bucket + "'", "NoSuchBucket");
  return ok_status();
}

Result<LocalStore::Paths> LocalStore::paths_for(const ObjectRef& ref) const {
  if (auto st = require_bucket(ref.bucket); !st) return st.error();
  auto rel = key_to_relative_path(ref.key);
  if (!rel) return rel.error();
  Paths p;
  p.data = root_ / ref.bucket / *rel;
  p.meta = root_ / kMetaDir / ref.bucket / *rel;
  p.meta += ".json";
  return p;
}

Result<ObjectMeta> LocalStore::read_meta(const ObjectRef& ref, const Paths& p) const {
  struct stat st{};
  if (::stat(p.data.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return make_error(ErrorKind::not_found, "no such key " + ref.uri(), "NoSuchKey");
  ObjectMeta m;
  m.key = ref.key;
  m.size = static_cast<std::uint64_t>(st.st_size);
  m.last_modified = std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                          std::chrono::nanoseconds(st.st_mtim.tv_nsec));
  std::error_code ec;
  if (fs::exists(p.meta, ec)) {
    try {
      std::ifstream in(p.meta);
      json j = json::parse(in);
      m.etag = j.value("etag", "");
      m.content_type = j.value("contentType", "application/octet-stream");
      m.cache_control = j.value("cacheControl", "");
      m.stored_headers = j.value("headers", Metadata{});
      m.user_metadata = j.value("metadata", Metadata{});
      if (j.contains("lastModifiedMs"))
        m.last_modified = std::chrono::system_clock::time_point(std::chrono::milliseconds(j["lastModifiedMs"].get<std::int64_t>()));
    } catch (const std::exception&) {
      // A damaged sidecar loses the metadata, not the object.
    }
  }
  if (m.etag.empty()) {
    // A file placed by hand: compute its ETag (and keep the object readable).
    Md5 md5;
    std::ifstream in(p.data, std::ios::binary);
    std::string buf(kChunk, '\0');
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      md5.update(std::string_view(buf.data(), static_cast<std::size_t>(in.gcount())));
    }
    m.etag = md5.hex();
  }
  if (m.content_type.empty()) m.content_type = "application/octet-stream";
  return m;
}

void LocalStore::StagedDeleter::operator()(Staged* staged) const { delete staged; }

Result<LocalStore::StagedPtr> LocalStore::stage(const ByteSource& source, std::uint64_t max_bytes) {
  StagedPtr staged(new Staged());
  staged->path = root_ / kTmpDir / random_name();
  Fd fd(::open(staged->path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return io_error("cannot create " + staged->path.string(), errno);
  Md5 md5;
  std::string buf(kChunk, '\0');
  for (;;) {
    auto n = source(buf.data(), buf.size());
    if (!n) return n.error();
    if (*n == 0) break;
    std::string_view chunk(buf.data(), *n);
    staged->size += *n;
    if (max_bytes && staged->size > max_bytes)
      return make_error(ErrorKind::too_large, "body is larger than " + std::to_string(max_bytes) + " bytes",
                        "EntityTooLarge");
    md5.update(chunk);
    if (auto st = write_all(fd.get(), chunk, staged->path.string()); !st) return st.error();
  }
  if (::fsync(fd.get()) != 0) return io_error("cannot sync " + staged->path.string(), errno);
  staged->md5 = md5.hex();
  return staged;
}

Result<PutResult> LocalStore::install(const ObjectRef& ref, Staged& staged, const PutOptions& opts,
                                      const std::string& etag_override) {
  auto p = paths_for(ref);
  if (!p) return p.error();
  std::unique_lock lock(lock_for(ref));
  std::error_code ec;
  bool exists = fs::is_regular_file(p->data, ec);
  if (opts.if_none_match_any && exists)
    return make_error(ErrorKind::precondition_failed, ref.uri() + " already exists (If-None-Match: *)",
                      "PreconditionFailed");
  if (opts.if_match) {
    if (!exists) return make_error(ErrorKind::not_found, "no such key " + ref.uri(), "NoSuchKey");
    auto current = read_meta(ref, *p);
    if (!current) return current.error();
    if (current->etag != *opts.if_match)
      return make_error(ErrorKind::precondition_failed, ref.uri() + " has ETag " + current->etag + ", not " + *opts.if_match,
                        "PreconditionFailed");
  }
  // A key whose path is a folder of other keys (or whose parent is a file) cannot be stored.
  if (fs::is_directory(p->data, ec))
    return not_storable(ref.key, "other keys already use it as a folder prefix");
  for (fs::path parent = p->data.parent_path(); parent != root_ / ref.bucket; parent = parent.parent_path()) {
    if (fs::is_regular_file(parent, ec))
      return not_storable(ref.key, "its prefix '" + fs::relative(parent, root_ / ref.bucket).string() + "' is an object");
  }
  fs::create_directories(p->data.parent_path(), ec);
  if (ec) return make_error(ErrorKind::io, "cannot create folder for " + ref.uri() + ": " + ec.message());
  fs::create_directories(p->meta.parent_path(), ec);
  if (ec) return make_error(ErrorKind::io, "cannot create metadata folder for " + ref.uri() + ": " + ec.message());

  PutResult result;
  result.etag = etag_override.empty() ? staged.md5 : etag_override;
  auto now = std::chrono::system_clock::now();
  json meta = {{"etag", result.etag},
               {"size", staged.size},
               {"contentType", opts.content_type.empty() ? "application/octet-stream" : opts.content_type},
               {"cacheControl", opts.cache_control},
               {"headers", opts.stored_headers},
               {"metadata", opts.user_metadata},
               {"lastModifiedMs", to_ms(now)}};
  fs::path meta_tmp = root_ / kTmpDir / (random_name() + ".json");
  {
    Fd fd(::open(meta_tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) return io_error("cannot create " + meta_tmp.string(), errno);
    if (auto st = write_all(fd.get(), meta.dump(), meta_tmp.string()); !st) return st.error();
    if (::fsync(fd.get()) != 0) return io_error("cannot sync " + meta_tmp.string(), errno);
  }
  if (::rename(staged.path.c_str(), p->data.c_str()) != 0) {
    int err = errno;
    fs::remove(meta_tmp, ec);
    return io_error("cannot install " + ref.uri(), err);
  }
  staged.installed = true;
  if (::rename(meta_tmp.c_str(), p->meta.c_str()) != 0) return io_error("cannot install metadata of " + ref.uri(), errno);
  if (auto st = fsync_dir(p->data.parent_path()); !st) return st.error();
  if (auto st = fsync_dir(p->meta.parent_path()); !st) return st.error();
  return result;
}

Result<PutResult> LocalStore::put(const ObjectRef& ref, std::string_view bytes, const PutOptions& opts) {
  std::size_t offset = 0;
  return put_stream(
      ref,
      [&](char* buf, std::size_t cap) -> Result<std::size_t> {
        std::size_t n = std::min(cap, bytes.size() - offset);
        std::memcpy(buf, bytes.data() + offset, n);
        offset += n;
        return n;
      },
      bytes.size(), opts);
}

Result<PutResult> LocalStore::put_stream(const ObjectRef& ref, const ByteSource& source,
                                         std::optional<std::uint64_t> size, const PutOptions& opts) {
  // Refuse bad keys and missing buckets before reading the body.
  if (auto p = paths_for(ref); !p) return p.error();
  // Fault point store.put: the store goes down after half of the body reached it.
  const ByteSource* from = &source;
  ByteSource cut;
  if (fault::hit("store.put")) {
    const std::uint64_t stop_at = size ? *size / 2 : 0;
    cut = [&source, stop_at, sent = std::uint64_t{0}](char* buf, std::size_t cap) mutable -> Result<std::size_t> {
      if (sent >= stop_at) return make_error(ErrorKind::io, "fault point store.put: the store went down mid-write");
      auto n = source(buf, static_cast<std::size_t>(std::min<std::uint64_t>(cap, stop_at - sent)));
      if (n) sent += *n;
      return n;
    };
    from = &cut;
  }
  // With a size announced, a longer source is stopped as soon as it passes it.
  auto staged = stage(*from, size ? *size : 0);
  if (!staged) {
    if (size && staged.error().kind == ErrorKind::too_large)
      return make_error(ErrorKind::invalid_argument,
                        ref.uri() + ": the body is longer than the " + std::to_string(*size) + " bytes announced",
                        "IncompleteBody");
    return staged.error();
  }
  // A source that ends early is a truncated upload, never a shorter object.
  if (size && (*staged)->size != *size)
    return make_error(ErrorKind::invalid_argument,
                      ref.uri() + ": the body has " + std::to_string((*staged)->size) + " bytes, not the " +
                          std::to_string(*size) + " announced",
                      "IncompleteBody");
  return install(ref, **staged, opts);
}

Result<ObjectMeta> LocalStore::get(const ObjectRef& ref, const ByteSink& sink, const GetOptions& opts) {
  auto p = paths_for(ref);
  if (!p) return p.error();
  Fd fd;
  ObjectMeta meta;
  {
    // Open the data and read its metadata under the key's lock: one version, never a mix.
    std::shared_lock lock(lock_for(ref));
    auto m = read_meta(ref, *p);
    if (!m) return m.error();
    meta = std::move(*m);
    fd = Fd(::open(p->data.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == ENOENT) return make_error(ErrorKind::not_found, "no such key " + ref.uri(), "NoSuchKey");
      return io_error("cannot open " + ref.uri(), errno);
    }
  }
  if (opts.if_match && *opts.if_match != meta.etag && *opts.if_match != "*")
    return make_error(ErrorKind::precondition_failed, ref.uri() + " has ETag " + meta.etag, "PreconditionFailed");
  if (opts.if_none_match && (*opts.if_none_match == meta.etag || *opts.if_none_match == "*"))
    return make_error(ErrorKind::precondition_failed, ref.uri() + " not modified", "NotModified");

  std::uint64_t first = 0, count = meta.size;
  if (opts.range) {
    const ByteRange& r = *opts.range;
    if (r.suffix) {
      count = std::min(r.first, meta.size);
      first = meta.size - count;
    } else {
      if (r.first >= meta.size || (r.last && *r.last < r.first))
        return make_error(ErrorKind::invalid_argument,
                          "range starts at byte " + std::to_string(r.first) + " of a " + std::to_string(meta.size) +
                              "-byte object",
                          "InvalidRange");
      first = r.first;
      std::uint64_t last = r.last ? std::min(*r.last, meta.size - 1) : meta.size - 1;
      count = last - first + 1;
    }
  }
  if (opts.max_bytes && count > opts.max_bytes)
    return make_error(ErrorKind::too_large,
                      ref.uri() + " is " + std::to_string(count) + " bytes, over the limit of " + std::to_string(opts.max_bytes),
                      "EntityTooLarge");
  std::string buf(kChunk, '\0');
  std::uint64_t pos = first, left = count;
  while (left > 0) {
    ssize_t n = ::pread(fd.get(), buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size())),
                        static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read " + ref.uri(), errno);
    if (n == 0) return make_error(ErrorKind::io, ref.uri() + " shrank while being read");
    if (auto st = sink(std::string_view(buf.data(), static_cast<std::size_t>(n))); !st) return st.error();
    pos += static_cast<std::uint64_t>(n);
    left -= static_cast<std::uint64_t>(n);
  }
  return meta;
}

Result<ObjectMeta> LocalStore::head(const ObjectRef& ref) {
  auto p = paths_for(ref);
  if (!p) return p.error();
  std::shared_lock lock(lock_for(ref));
  return read_meta(ref, *p);
}

Status LocalStore::remove(const ObjectRef& ref) {
  auto p = paths_for(ref);
  if (!p) {
    // Deleting a key that could never be stored succeeds, as deleting a missing key does.
    if (p.error().code == "KeyNotStorable") return ok_status();
    return p.error();
  }
  std::unique_lock lock(lock_for(ref));
  std::error_code ec;
  if (fs::is_regular_file(p->data, ec)) {
    if (!fs::remove(p->data, ec) && ec) return make_error(ErrorKind::io, "cannot delete " + ref.uri() + ": " + ec.message());
  }
  fs::remove(p->meta, ec);
  prune_empty_dirs(p->data.parent_path(), root_ / ref.bucket);
  prune_empty_dirs(p->meta.parent_path(), root_ / kMetaDir / ref.bucket);
  return ok_status();
}

Result<ListPage> LocalStore::list(const std::string& bucket, const ListOptions& opts) {
  if (auto st = require_bucket(bucket); !st) return st.error();
  if (opts.max_keys < 0 || opts.max_keys > 1000)
    return make_error(ErrorKind::invalid_argument, "max-keys must be 0..1000", "InvalidArgument");
  std::string after = opts.start_after;
  if (!opts.continuation_token.empty()) {
    auto t = unhex(opts.continuation_token);
    if (!t) return t.error();
    after = std::max(after, *t);
  }
  // Walk only below the deepest folder the prefix names.
  fs::path bucket_dir = root_ / bucket;
  std::string dir_part = opts.prefix.substr(0, opts.prefix.rfind('/') == std::string::npos ? 0 : opts.prefix.rfind('/'));
  fs::path start = bucket_dir;
  if (!dir_part.empty()) {
    auto rel = key_to_relative_path(dir_part);
    if (!rel) return ListPage{};  // no stored key can have this prefix
    start /= *rel;
  }
  std::vector<std::pair<std::string, fs::path>> keys;
  std::error_code ec;
  if (fs::is_directory(start, ec)) {
    for (auto it = fs::recursive_directory_iterator(start, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::string key = fs::relative(it->path(), bucket_dir, ec).generic_string();
      if (key.compare(0, opts.prefix.size(), opts.prefix) != 0) continue;
      if (!after.empty() && key <= after) continue;
      keys.emplace_back(std::move(key), it->path());
    }
  }
  std::sort(keys.begin(), keys.end());
  ListPage page;
  int count = 0;
  std::string last_returned;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i].first;
    if (!opts.delimiter.empty()) {
      auto d = key.find(opts.delimiter, opts.prefix.size());
      if (d != std::string::npos) {
        std::string cp = key.substr(0, d + opts.delimiter.size());
        if (page.common_prefixes.empty() || page.common_prefixes.back() != cp) {
          if (count == opts.max_keys) {
            page.truncated = true;
            break;
          }
          page.common_prefixes.push_back(cp);
          ++count;
        }
        last_returned = key;
        // Skip to the last key under this common prefix.
        continue;
      }
    }
    if (count == opts.max_keys) {
      page.truncated = true;
      break;
    }
    auto m = head(ObjectRef{bucket, key});
    if (!m) continue;  // deleted meanwhile
    page.objects.push_back(std::move(*m));
    ++count;
    last_returned = key;
  }
  if (page.truncated) {
    // A common prefix rolls up every key under it: continue after the last of them.
    if (!page.common_prefixes.empty() && last_returned.compare(0, page.common_prefixes.back().size(),
                                                               page.common_prefixes.back()) == 0)
      last_returned = page.common_prefixes.back() + "\xFF";
    page.next_continuation_token = hex_of(last_returned);
  }
  return page;
}

Result<PutResult> LocalStore::copy(const ObjectRef& from, const ObjectRef& to, bool replace_metadata,
                                   const PutOptions& opts) {
  auto src = paths_for(from);
  if (!src) return src.error();
  if (auto dst = paths_for(to); !dst) return dst.error();
  ObjectMeta meta;
  Fd fd;
  {
    std::shared_lock lock(lock_for(from));
    auto m = read_meta(from, *src);
    if (!m) return m.error();
    meta = std::move(*m);
    fd = Fd(::open(src->data.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return make_error(ErrorKind::not_found, "no such key " + from.uri(), "NoSuchKey");
  }
  auto staged = stage([&](char* buf, std::size_t cap) -> Result<std::size_t> {
    ssize_t n;
    do {
      n = ::read(fd.get(), buf, cap);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return io_error("cannot read " + from.uri(), errno);
    return static_cast<std::size_t>(n);
  });
  if (!staged) return staged.error();
  PutOptions effective = opts;
  if (!replace_metadata) {
    effective.content_type = meta.content_type;
    effective.cache_control = meta.cache_control;
    effective.stored_headers = meta.stored_headers;
    effective.user_metadata = meta.user_metadata;
  }
  return install(to, **staged, effective);
}

Status LocalStore::create_bucket(const std::string& bucket) {
  if (auto st = validate_bucket_name(bucket); !st) return st;
  std::error_code ec;
  fs::path dir = root_ / bucket;
  if (fs::is_directory(dir, ec))
    return make_error(ErrorKind::already_exists, "bucket '" + bucket + "' already exists", "BucketAlreadyOwnedByYou");
  if (!fs::create_directories(dir, ec) && ec)
    return make_error(ErrorKind::io, "cannot create bucket folder " + dir.string() + ": " + ec.message());
  return ok_status();
}

Status LocalStore::delete_bucket(const std::string& bucket) {
  if (auto st = require_bucket(bucket); !st) return st;
  std::error_code ec;
  fs::path dir = root_ / bucket;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec))
      return make_error(ErrorKind::precondition_failed, "bucket '" + bucket + "' is not empty", "BucketNotEmpty");
  }
  fs::remove_all(dir, ec);
  fs::remove_all(root_ / kMetaDir / bucket, ec);
  if (ec) return make_error(ErrorKind::io, "cannot delete bucket '" + bucket + "': " + ec.message());
  return ok_status();
}

Result<bool> LocalStore::bucket_exists(const std::string& bucket) {
  if (!validate_bucket_name(bucket)) return false;
  std::error_code ec;
  return fs::is_directory(root_ / bucket, ec);
}

Result<std::vector<BucketInfo>> LocalStore::list_buckets() {
  std::vector<BucketInfo> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_, ec)) {
    std::string name = e.path().filename().string();
    if (!e.is_directory() || !validate_bucket_name(name)) continue;
    struct stat st{};
    BucketInfo b;
    b.name = name;
    if (::stat(e.path().c_str(), &st) == 0)
      b.created = std::chrono::system_clock::time_point(std::chrono::seconds(st.st_ctim.tv_sec));
    out.push_back(std::move(b));
  }
  if (ec) return make_error(ErrorKind::io, "cannot list " + root_.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

}  // namespace thumbflow::storage
