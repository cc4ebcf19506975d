// Routing and handlers of the local S3 endpoint.
//
// Operations (path-style: /bucket/key):
//   service   GET /                        ListBuckets
//   bucket    PUT HEAD DELETE              CreateBucket HeadBucket DeleteBucket
//             GET                          ListObjects (v1), ?list-type=2 ListObjectsV2,
//                                          ?uploads ListMultipartUploads, ?location, ?versioning
//             POST ?delete                 DeleteObjects
//   object    PUT                          PutObject, CopyObject (x-amz-copy-source),
//                                          ?partNumber&uploadId UploadPart / UploadPartCopy
//             GET HEAD                     GetObject HeadObject (Range, If-*), ?uploadId ListParts
//             DELETE                       DeleteObject, ?uploadId AbortMultipartUpload
//             POST ?uploads / ?uploadId    CreateMultipartUpload / CompleteMultipartUpload
// Other sub-resources (acl, policy, tagging, cors, ...) answer NotImplemented.
//
// Working around cpp-httplib 0.11 (Debian's), whose server was written for web pages:
// - It slices bodies by the Range header itself and gzip-compresses text bodies when asked; S3
//   semantics need neither, so each handler clears req.ranges and drops Accept-Encoding before
//   responding (the Request object is a non-const local of the library; handlers get a const
//   reference to it).
// - It decompresses request bodies sent with Content-Encoding gzip/deflate/br; S3 stores such
//   bodies as sent, so the header is removed (after the signature has been computed over it)
//   before the body is read.
// - A handler that does not read the body leaves it on the connection, so refusals read and
//   discard it (up to max_drain_bytes). Refusals that can be decided from the headers are made
//   in the Expect: 100-continue handler, before the client sends the body at all.
// - Its listen backlog is compiled in as 5; the socket's backlog is raised after binding.
#include "server/s3_server.hpp"

#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "aws/primitives.hpp"
#include "core/sequencer.hpp"
#include "core/text.hpp"
#include "server/checksums.hpp"
#include "server/s3_error.hpp"
#include "server/s3_xml.hpp"

namespace thumbflow::server {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::system_clock;
using NameValues = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t kBlockBytes = 256 * 1024;
constexpr std::string_view kMetaPrefix = "x-amz-meta-";

// "content-disposition" -> "Content-Disposition", as S3 spells the headers it returns.
std::string header_case(std::string_view lower_name) {
  std::string out(lower_name);
  bool up = true;
  for (char& ch : out) {
    if (up && ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    up = ch == '-';
  }
  return out;
}
// Headers cpp-httplib adds to every request itself; they are not the client's.
constexpr std::array<std::string_view, 4> kLibraryHeaders = {"REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR",
                                                             "LOCAL_PORT"};

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  s = trim_ows(s);
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

// cpp-httplib's listening socket is a protected member; the endpoint raises its backlog.
class HttpServer : public httplib::Server {
 public:
  int listen_socket() const { return svr_sock_; }
};

// LocalStore pulls the bytes it writes (a ByteSource); cpp-httplib pushes the bytes it reads.
// For large bodies the store's side runs on a helper thread fed through a bounded queue of
// blocks, so memory stays at `capacity`. The producer decides the end: finish(ok) lets the
// store see the end of the data (and install it), finish(error) makes the source fail so the
// store installs nothing.
class StagingPipe {
 public:
  using Consumer = std::function<Result<storage::PutResult>(const storage::ByteSource&)>;

  StagingPipe(std::size_t capacity, Consumer consumer) : capacity_(capacity) {
    thread_ = std::thread([this, consumer = std::move(consumer)] {
      auto r = consumer([this](char* buf, std::size_t cap) { return pull(buf, cap); });
      std::lock_guard lock(m_);
      result_.emplace(std::move(r));
      consumer_done_ = true;
      cv_.notify_all();
    });
  }
  ~StagingPipe() { (void)finish(make_error(ErrorKind::invalid_argument, "upload abandoned")); }
  StagingPipe(const StagingPipe&) = delete;
  StagingPipe& operator=(const StagingPipe&) = delete;

  Status push(std::string_view data) {
    pending_.append(data);
    if (pending_.size() >= kBlockBytes) return enqueue();
    return ok_status();
  }

  // Ends the data (ok) or abandons it (an error), waits for the store, returns its result.
  Result<storage::PutResult> finish(const Status& end) {
    if (!thread_.joinable()) return make_error(ErrorKind::internal, "staging already finished");
    Status st = end;
    if (st && !pending_.empty()) st = enqueue();
    {
      std::lock_guard lock(m_);
      closed_ = true;
      if (!st) failure_ = st.error();
      cv_.notify_all();
    }
    thread_.join();
    if (!st) return st.error();
    return std::move(*result_);
  }

 private:
  Status enqueue() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return consumer_done_ || buffered_ == 0 || buffered_ + pending_.size() <= capacity_; });
    if (consumer_done_) {
      if (result_ && !result_->ok()) return result_->error();
      return make_error(ErrorKind::internal, "the store stopped reading early");
    }
    buffered_ += pending_.size();
    blocks_.push_back(std::move(pending_));
    pending_.clear();
    pending_.reserve(kBlockBytes);
    cv_.notify_all();
    return ok_status();
  }

  Result<std::size_t> pull(char* buf, std::size_t cap) {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return !blocks_.empty() || closed_; });
    if (failure_) return *failure_;
    if (blocks_.empty()) return std::size_t{0};
    std::string& front = blocks_.front();
    const std::size_t n = std::min(cap, front.size() - offset_);
    std::memcpy(buf, front.data() + offset_, n);
    offset_ += n;
    buffered_ -= n;
    if (offset_ == front.size()) {
      blocks_.pop_front();
      offset_ = 0;
    }
    cv_.notify_all();
    return n;
  }

  std::size_t capacity_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::string> blocks_;
  std::size_t offset_ = 0;
  std::size_t buffered_ = 0;
  std::string pending_;
  bool closed_ = false, consumer_done_ = false;
  std::optional<Error> failure_;
  std::optional<Result<storage::PutResult>> result_;
  std::thread thread_;
};

// "bytes=0-99", "bytes=100-", "bytes=-500". Anything else (several ranges, other units, junk) is
// ignored, as S3 ignores it: the whole object is sent.
std::optional<storage::ByteRange> parse_range(std::string_view header) {
  header = trim_ows(header);
  if (header.substr(0, 6) != "bytes=") return std::nullopt;
  header.remove_prefix(6);
  if (header.find(',') != std::string_view::npos) return std::nullopt;
  const auto dash = header.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string_view a = trim_ows(header.substr(0, dash)), b = trim_ows(header.substr(dash + 1));
  storage::ByteRange r;
  if (a.empty()) {
    auto n = parse_u64(b);
    if (!n) return std::nullopt;
    r.suffix = true;
    r.first = *n;
    return r;
  }
  auto first = parse_u64(a);
  if (!first) return std::nullopt;
  r.first = *first;
  if (!b.empty()) {
    auto last = parse_u64(b);
    if (!last || *last < *first) return std::nullopt;
    r.last = *last;
  }
  return r;
}

// An If-Match / If-None-Match list against an ETag: "*", or quoted tags (weak ones compare too).
bool etag_matches(std::string_view list, std::string_view etag) {
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view t = trim_ows(list.substr(start, end - start));
    if (t == "*") return true;
    if (t.substr(0, 2) == "W/") t.remove_prefix(2);
    if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
    if (!t.empty() && t == etag) return true;
    start = end + 1;
  }
  return false;
}

std::chrono::seconds to_seconds(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch());
}

struct Framing {
  std::optional<ChunkedMode> mode;
  std::uint64_t declared = 0;  // payload bytes (decoded length for aws-chunked)
  bool has_body = false;       // something to read on the connection
};

struct BodyResult {
  std::uint64_t size = 0;
  std::optional<std::pair<const ChecksumAlgorithm*, std::string>> checksum;
};

struct Ctx {
  Ctx(const httplib::Request& rq, httplib::Response& rs, const httplib::ContentReader* rd)
      : req(rq), res(rs), reader(rd) {}
  const httplib::Request& req;
  httplib::Response& res;
  const httplib::ContentReader* reader = nullptr;
  std::string request_id;
  bool head = false;
  std::string raw_path, raw_query;
  std::string bucket, key;
  NameValues query;    // decoded, in order
  NameValues headers;  // lower-case names, values as sent
  Authenticated auth;
  bool body_started = false;

  const std::string* q(std::string_view name) const {
    for (const auto& [n, v] : query)
      if (n == name) return &v;
    return nullptr;
  }
  bool has_q(std::string_view name) const { return q(name) != nullptr; }
  const std::string* h(std::string_view lower_name) const {
    for (const auto& [n, v] : headers)
      if (n == lower_name) return &v;
    return nullptr;
  }
  ObjectRef ref() const { return ObjectRef{bucket, key}; }
};

}  // namespace

struct S3Server::Impl {
  fs::path data_dir;
  storage::LocalStore store;
  MultipartStore multipart;
  KeyRing keys;
  S3ServerConfig config;
  ObjectCreatedHook hook;
  RequestObserver request_observer;
  HttpServer http;
  std::thread listener;
  int bound_port = 0;
  std::atomic<std::uint64_t> request_counter{0};
  std::uint64_t request_seed = std::random_device{}();
  SequencerClock sequencers;  // S3 sequencers for the events this endpoint announces
  Owner owner;

  Impl(fs::path dir, KeyRing k, S3ServerConfig c)
      : data_dir(std::move(dir)),
        store(data_dir),
        multipart(store, data_dir / ".uploads", c.multipart),
        keys(std::move(k)),
        config(std::move(c)) {}

  // ---- helpers -------------------------------------------------------------------------------
  std::string next_request_id() {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llX",
                  static_cast<unsigned long long>(request_seed * 0x9E3779B97F4A7C15ull + request_counter++));
    return buf;
  }

  Status emit_created(const ObjectRef& ref, std::uint64_t size, const std::string& etag, std::string_view name) {
    if (!hook) return ok_status();
    ObjectCreated e;
    e.bucket = ref.bucket;
    e.key = ref.key;
    e.size = size;
    e.etag = etag;
    e.sequencer = sequencers.next();
    e.event_time = format_iso8601(Clock::now());
    e.event_name = std::string(name);
    e.source = "thumbflow";
    Status st = ok_status();
    try {
      st = hook(e);
    } catch (const std::exception& ex) {
      st = make_error(ErrorKind::internal, ex.what());
    }
    if (st) return st;
    std::cerr << "thumbflow serve: " << ref.uri() << " is stored but its processing could not be queued: "
              << st.error().describe() << "\n";
    return make_error(ErrorKind::unavailable, "The object " + ref.key +
                                                  " was stored but its processing could not be queued; retry the request");
  }

  void send_xml(Ctx& c, int status, std::string xml) {
    c.res.status = status;
    if (!c.head) c.res.set_content(std::move(xml), "application/xml");
  }

  void drain(Ctx& c) {
    if (c.reader == nullptr || c.body_started) return;
    c.body_started = true;
    const std::string* cl = c.h("content-length");
    const std::string* te = c.h("transfer-encoding");
    const bool has_body = (cl && parse_u64(*cl).value_or(0) > 0) || (te && ascii_lower(*te).find("chunked") != std::string::npos);
    if (!has_body) return;
    std::uint64_t drained = 0;
    (*c.reader)([&](const char*, std::size_t len) {
      drained += len;
      return drained <= config.max_drain_bytes;
    });
  }

  void send_error(Ctx& c, const S3Error& e) {
    drain(c);
    c.res.status = e.status;
    if (e.code == "InvalidRange") c.res.set_header("Content-Range", "bytes */" + (e.details.empty() ? "0" : e.details.back().second));
    if (c.head || e.status == 304) return;
    c.res.set_content(error_xml(e.code, e.message, c.raw_path, c.request_id, e.details), "application/xml");
  }
  void send_error(Ctx& c, const Error& e) {
    S3Error s = to_s3_error(e);
    if (s.code == "InternalError") std::cerr << "thumbflow serve: " << c.req.method << " " << c.raw_path << ": " << e.describe() << "\n";
    if (s.code == "NoSuchBucket") s.details.emplace_back("BucketName", c.bucket);
    if (s.code == "NoSuchKey") s.details.emplace_back("Key", c.key);
    send_error(c, s);
  }

  Result<int> int_param(const Ctx& c, std::string_view name, int fallback, int cap) {
    const std::string* v = c.q(name);
    if (!v) return fallback;
    auto n = parse_u64(*v);
    if (!n || *n > 2147483647ull)
      return s3_failure("InvalidArgument", "Provided " + std::string(name) + " not an integer or within integer range");
    return static_cast<int>(std::min<std::uint64_t>(*n, static_cast<std::uint64_t>(cap)));
  }

  Result<bool> url_encoding(const Ctx& c) {
    const std::string* e = c.q("encoding-type");
    if (!e) return false;
    if (*e != "url") return s3_failure("InvalidArgument", "Invalid Encoding Method specified in Request");
    return true;
  }

  // Content type, cache control, user metadata and write conditions from the request.
  Result<storage::PutOptions> put_options(const Ctx& c) {
    storage::PutOptions o;
    const std::string* ct = c.h("content-type");
    o.content_type = ct && !ct->empty() ? *ct : "binary/octet-stream";
    if (const std::string* cc = c.h("cache-control")) o.cache_control = *cc;
    for (auto name : storage::kStoredHeaders)
      if (const std::string* v = c.h(std::string(name))) o.stored_headers[std::string(name)] = *v;
    std::size_t meta_bytes = 0;
    for (const auto& [name, value] : c.headers) {
      if (name.compare(0, kMetaPrefix.size(), kMetaPrefix) != 0) continue;
      std::string short_name = name.substr(kMetaPrefix.size());
      meta_bytes += short_name.size() + value.size();
      auto [it, inserted] = o.user_metadata.emplace(short_name, value);
      if (!inserted) it->second += "," + value;
    }
    if (meta_bytes > config.max_user_metadata_bytes)
      return s3_failure("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size of " +
                                                std::to_string(config.max_user_metadata_bytes) + " bytes.");
    if (const std::string* inm = c.h("if-none-match")) {
      if (trim_ows(*inm) != "*") return s3_failure("NotImplemented", "If-None-Match on writes accepts only '*'");
      o.if_none_match_any = true;
    }
    if (const std::string* im = c.h("if-match")) {
      std::string_view t = trim_ows(*im);
      if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
      o.if_match = std::string(t);
    }
    return o;
  }

  // ---- the body --------------------------------------------------------------------------------
  Result<Framing> framing(const Ctx& c, bool require_length) {
    Framing f;
    f.mode = chunked_mode_for(c.auth.payload_hash);
    const std::string* cl = c.h("content-length");
    const std::string* te = c.h("transfer-encoding");
    const bool http_chunked = te && ascii_lower(*te).find("chunked") != std::string::npos;
    std::optional<std::uint64_t> wire_length;
    if (cl) {
      wire_length = parse_u64(*cl);
      if (!wire_length) return s3_failure("InvalidArgument", "Content-Length is not a number");
    }
    f.has_body = http_chunked || (wire_length && *wire_length > 0);
    if (f.mode) {
      const std::string* d = c.h("x-amz-decoded-content-length");
      if (!d) return s3_failure("MissingContentLength", "aws-chunked uploads must send x-amz-decoded-content-length");
      auto n = parse_u64(*d);
      if (!n) return s3_failure("InvalidArgument", "x-amz-decoded-content-length is not a number");
      f.declared = *n;
      if (!f.has_body) return s3_failure("IncompleteBody", "an aws-chunked upload without a body");
    } else if (wire_length) {
      f.declared = *wire_length;
    } else if (http_chunked || require_length) {
      return s3_failure("MissingContentLength");
    }
    return f;
  }

  // Reads the body (decoding aws-chunked), hands the payload to `sink` as it arrives, and checks
  // every digest the request declared once it is complete. On failure the rest of the body is
  // drained (bounded) so that the error response reaches the client.
  Result<BodyResult> read_body(Ctx& c, const Framing& f, const std::function<Status(std::string_view)>& sink) {
    auto expect = payload_expectations(c.headers, c.auth.payload_hash);
    if (!expect) return expect.error();
    PayloadVerifier verifier(std::move(*expect));
    std::optional<AwsChunkedDecoder> decoder;
    if (f.mode) decoder.emplace(*f.mode, c.auth.chunk_signing, config.chunked);
    c.body_started = true;
    std::uint64_t size = 0;
    auto deliver = [&](std::string_view piece) -> Status {
      size += piece.size();
      if (size > f.declared)
        return s3_failure("IncompleteBody", "The body is longer than its declared length of " +
                                                std::to_string(f.declared) + " bytes.");
      verifier.update(piece);
      return sink(piece);
    };
    std::optional<Error> failure;
    std::uint64_t drained = 0;
    bool ok = true;
    if (f.has_body && c.reader) {
      ok = (*c.reader)([&](const char* data, std::size_t len) {
        if (failure) {
          drained += len;
          return drained <= config.max_drain_bytes;
        }
        const std::string_view piece(data, len);
        Status st = decoder ? decoder->feed(piece, deliver) : deliver(piece);
        if (!st) failure = st.error();
        return true;
      });
    }
    if (failure) return *failure;
    if (!ok) return s3_failure("IncompleteBody", "The request body ended early or timed out.");
    if (decoder) {
      if (auto st = decoder->finish(); !st) return st.error();
    }
    if (size != f.declared)
      return s3_failure("IncompleteBody", "You did not provide the number of bytes specified (" +
                                              std::to_string(f.declared) + "); got " + std::to_string(size) + ".");
    static const NameValues kNoTrailers;
    if (auto st = verifier.finish(decoder ? decoder->trailers() : kNoTrailers); !st) return st.error();
    return BodyResult{size, verifier.checksum_base64()};
  }

  Result<std::string> read_small_body(Ctx& c, std::size_t limit) {
    auto f = framing(c, false);
    if (!f) return f.error();
    if (f->declared > limit)
      return s3_failure("MalformedXML", "The request body is larger than " + std::to_string(limit) + " bytes.");
    std::string body;
    auto r = read_body(c, *f, [&](std::string_view p) {
      body.append(p);
      return ok_status();
    });
    if (!r) return r.error();
    return body;
  }

  // ---- request preparation ---------------------------------------------------------------------
  // Everything decided from the request line and headers: run for Expect: 100-continue (so a
  // refused upload is never sent) and again for the request itself.
  std::optional<S3Error> prepare(Ctx& c) {
    auto& mutable_req = const_cast<httplib::Request&>(c.req);  // see the note at the top
    mutable_req.ranges.clear();
    aws::Headers wire;
    std::size_t header_bytes = 0;
    for (const auto& [name, value] : c.req.headers) {
      if (std::find(kLibraryHeaders.begin(), kLibraryHeaders.end(), name) != kLibraryHeaders.end()) continue;
      header_bytes += name.size() + value.size() + 4;
      wire.push_back({name, value});
      c.headers.emplace_back(ascii_lower(name), value);
    }
    if (header_bytes > config.max_header_bytes)
      return make_s3_error("RequestHeaderSectionTooLarge", "Your request header section exceeds the maximum allowed "
                                                           "size of " + std::to_string(config.max_header_bytes) + " bytes.");
    const std::string& target = c.req.target;
    const auto qpos = target.find('?');
    c.raw_path = target.substr(0, qpos);
    c.raw_query = qpos == std::string::npos ? std::string{} : target.substr(qpos + 1);
    auto path = aws::uri_decode(c.raw_path, false);
    if (!path || path->empty() || path->front() != '/') return make_s3_error("InvalidURI", "Couldn't parse the specified URI.");
    std::size_t start = 0;
    while (start <= c.raw_query.size()) {
      std::size_t end = c.raw_query.find('&', start);
      if (end == std::string::npos) end = c.raw_query.size();
      const std::string_view part = std::string_view(c.raw_query).substr(start, end - start);
      start = end + 1;
      if (part.empty()) continue;
      const auto eq = part.find('=');
      auto n = aws::uri_decode(part.substr(0, eq), true);
      auto v = aws::uri_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1), true);
      if (!n || !v) return make_s3_error("InvalidArgument", "Couldn't parse the query string.");
      c.query.emplace_back(std::move(*n), std::move(*v));
    }
    const std::string_view p = std::string_view(*path).substr(1);
    const auto slash = p.find('/');
    c.bucket = std::string(p.substr(0, slash));
    if (slash != std::string_view::npos) c.key = std::string(p.substr(slash + 1));
    if (c.key.size() > config.max_key_bytes)
      return make_s3_error("KeyTooLongError", "Your key is too long: " + std::to_string(c.key.size()) +
                                                  " bytes, the maximum is " + std::to_string(config.max_key_bytes) + ".");

    aws::Request signed_request;
    signed_request.method = c.req.method;
    signed_request.path = c.raw_path;
    signed_request.query = c.raw_query;
    signed_request.headers = std::move(wire);
    auto auth = authenticate(signed_request, keys, Clock::now(), config.auth);
    if (!auth && auth.error().code == "SignatureDoesNotMatch") {
      // cpp-httplib 0.11 percent-decodes every request header value before we see it. The SDKs
      // send x-amz-copy-source percent-encoded (RFC 3986, '/' kept) and sign it so; verify that
      // form again. Other header values with a '%' escape cannot be recovered (documented).
      for (auto& h : signed_request.headers) {
        if (ascii_lower(h.name) != "x-amz-copy-source") continue;
        std::string encoded = aws::uri_encode(h.value, false);
        if (encoded == h.value) break;
        h.value = std::move(encoded);
        auth = authenticate(signed_request, keys, Clock::now(), config.auth);
        break;
      }
    }
    if (!auth) return to_s3_error(auth.error());
    c.auth = std::move(*auth);

    return std::nullopt;
  }

  // Size checks an upload can fail before its body is sent.
  std::optional<S3Error> precheck_upload(Ctx& c) {
    if (c.req.method != "PUT" || c.key.empty() || c.h("x-amz-copy-source")) return std::nullopt;
    auto f = framing(c, true);
    if (!f) return to_s3_error(f.error());
    const bool part = c.has_q("uploadId");
    const std::uint64_t max = part ? config.multipart.max_part_bytes : config.max_object_bytes;
    if (f->declared > max)
      return make_s3_error("EntityTooLarge", "Your proposed upload of " + std::to_string(f->declared) +
                                                 " bytes exceeds the maximum allowed size of " + std::to_string(max) +
                                                 " bytes.");
    return std::nullopt;
  }

  void common_headers(Ctx& c) {
    c.res.set_header("x-amz-request-id", c.request_id);
    c.res.set_header("x-amz-id-2", c.request_id);
    c.res.set_header("Server", "thumbflow");
    c.res.set_header("Date", format_http_date(Clock::now()));
  }

  // ---- dispatch ----------------------------------------------------------------------------------
  void handle(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
    Ctx c{req, res, reader};
    c.request_id = next_request_id();
    c.head = req.method == "HEAD";
    common_headers(c);
    std::optional<S3Error> refused = prepare(c);
    // Only now that the signature has been checked over them (prepare() runs twice for
    // Expect: 100-continue): cpp-httplib would decompress a gzip/deflate/br body, which S3 keeps
    // as sent, and compress text responses.
    auto& mutable_req = const_cast<httplib::Request&>(req);
    mutable_req.headers.erase("Content-Encoding");
    mutable_req.headers.erase("Accept-Encoding");
    if (refused) return send_error(c, *refused);
    if (auto e = precheck_upload(c)) return send_error(c, *e);
    const std::string& m = req.method;
    if (c.bucket.empty()) {
      if (m == "GET" || m == "HEAD") return list_buckets(c);
      return send_error(c, make_s3_error("MethodNotAllowed"));
    }
    static const std::array<std::string_view, 16> kUnsupported = {
        "acl",      "policy", "tagging",    "cors",         "lifecycle", "website", "notification", "encryption",
        "logging",  "replication", "object-lock", "retention", "legal-hold", "torrent", "restore", "select"};
    for (auto sub : kUnsupported)
      if (c.has_q(sub))
        return send_error(c, make_s3_error("NotImplemented", "The '" + std::string(sub) +
                                                                 "' sub-resource is not implemented by this endpoint."));
    if (c.key.empty()) {
      if (m == "PUT") return create_bucket(c);
      if (m == "HEAD") return head_bucket(c);
      if (m == "DELETE") return delete_bucket(c);
      if (m == "GET") {
        if (c.has_q("location")) return get_location(c);
        if (c.has_q("versioning")) return get_versioning(c);
        if (c.has_q("uploads")) return list_uploads(c);
        return list_objects(c);
      }
      if (m == "POST" && c.has_q("delete")) return delete_objects(c);
      return send_error(c, make_s3_error("MethodNotAllowed"));
    }
    if (m == "PUT") {
      if (c.has_q("uploadId") || c.has_q("partNumber")) return upload_part(c);
      if (c.h("x-amz-copy-source")) return copy_object(c);
      return put_object(c);
    }
    if (m == "GET" || m == "HEAD") {
      if (m == "GET" && c.has_q("uploadId")) return list_parts(c);
      return get_object(c);
    }
    if (m == "DELETE") {
      if (c.has_q("uploadId")) return abort_upload(c);
      return delete_object(c);
    }
    if (m == "POST") {
      if (c.has_q("uploads")) return create_upload(c);
      if (c.has_q("uploadId")) return complete_upload(c);
    }
    return send_error(c, make_s3_error("MethodNotAllowed"));
  }

  int expect_continue(const httplib::Request& req, httplib::Response& res) {
    Ctx c{req, res, nullptr};
    c.request_id = next_request_id();
    std::optional<S3Error> e = prepare(c);
    if (!e) e = precheck_upload(c);
    if (!e) return 100;
    common_headers(c);
    c.body_started = true;  // nothing was sent
    send_error(c, *e);
    // cpp-httplib writes this response without computing its length.
    res.set_header("Content-Length", std::to_string(res.body.size()));
    res.set_header("Connection", "close");
    return e->status;
  }

  // ---- service and buckets -------------------------------------------------------------------------
  void list_buckets(Ctx& c) {
    auto b = store.list_buckets();
    if (!b) return send_error(c, b.error());
    send_xml(c, 200, list_buckets_xml(*b, owner));
  }

  void create_bucket(Ctx& c) {
    auto body = read_small_body(c, config.max_xml_body_bytes);
    if (!body) return send_error(c, body.error());
    XmlLimits limits;
    limits.max_bytes = config.max_xml_body_bytes;
    if (auto loc = parse_create_bucket_configuration(*body, limits); !loc) return send_error(c, loc.error());
    if (auto st = store.create_bucket(c.bucket); !st) return send_error(c, st.error());
    c.res.set_header("Location", "/" + c.bucket);
    c.res.status = 200;
  }

  void head_bucket(Ctx& c) {
    auto exists = store.bucket_exists(c.bucket);
    if (!exists) return send_error(c, exists.error());
    if (!*exists) return send_error(c, make_s3_error("NoSuchBucket"));
    c.res.set_header("x-amz-bucket-region", config.region);
    c.res.status = 200;
  }

  void delete_bucket(Ctx& c) {
    if (auto st = store.delete_bucket(c.bucket); !st) return send_error(c, st.error());
    c.res.status = 204;
  }

  bool require_bucket(Ctx& c) {
    auto exists = store.bucket_exists(c.bucket);
    if (!exists) {
      send_error(c, exists.error());
      return false;
    }
    if (!*exists) {
      S3Error e = make_s3_error("NoSuchBucket");
      e.details.emplace_back("BucketName", c.bucket);
      send_error(c, e);
      return false;
    }
    return true;
  }

  void get_location(Ctx& c) {
    if (!require_bucket(c)) return;
    send_xml(c, 200, location_xml(config.region));
  }

  void get_versioning(Ctx& c) {
    if (!require_bucket(c)) return;
    send_xml(c, 200, versioning_xml());
  }

  void list_objects(Ctx& c) {
    ListObjectsResult r;
    const std::string* lt = c.q("list-type");
    r.v2 = lt != nullptr;
    if (lt && *lt != "2") return send_error(c, make_s3_error("InvalidArgument", "Invalid list-type"));
    auto max_keys = int_param(c, "max-keys", config.max_list_keys, config.max_list_keys);
    if (!max_keys) return send_error(c, max_keys.error());
    auto enc = url_encoding(c);
    if (!enc) return send_error(c, enc.error());
    r.bucket = c.bucket;
    r.max_keys = *max_keys;
    r.url_encode = *enc;
    if (auto v = c.q("prefix")) r.prefix = *v;
    if (auto v = c.q("delimiter")) r.delimiter = *v;
    storage::ListOptions o;
    o.prefix = r.prefix;
    o.delimiter = r.delimiter;
    o.max_keys = r.max_keys;
    if (r.v2) {
      if (auto v = c.q("continuation-token")) r.continuation_token = o.continuation_token = *v;
      if (auto v = c.q("start-after")) r.start_after = o.start_after = *v;
      if (auto v = c.q("fetch-owner")) r.fetch_owner = *v == "true";
    } else if (auto v = c.q("marker")) {
      r.marker = *v;
      o.start_after = *v;
      // A marker that is a common prefix (as NextMarker gives) skips everything under it.
      if (!r.delimiter.empty() && v->size() >= r.delimiter.size() &&
          v->compare(v->size() - r.delimiter.size(), r.delimiter.size(), r.delimiter) == 0 &&
          v->compare(0, r.prefix.size(), r.prefix) == 0)
        o.start_after = *v + "\xFF";
    }
    if (r.max_keys == 0) {
      // Nothing asked for: an empty, complete page (a truncated one would have no token to go on).
      if (!require_bucket(c)) return;
      return send_xml(c, 200, list_objects_xml(r, owner));
    }
    auto page = store.list(c.bucket, o);
    if (!page) {
      if (page.error().code == "InvalidArgument" && r.v2)
        return send_error(c, make_s3_error("InvalidArgument", "The continuation token provided is incorrect"));
      return send_error(c, page.error());
    }
    r.page = std::move(*page);
    if (!r.v2 && r.page.truncated && !r.delimiter.empty()) {
      std::string last_key = r.page.objects.empty() ? std::string{} : r.page.objects.back().key;
      std::string last_prefix = r.page.common_prefixes.empty() ? std::string{} : r.page.common_prefixes.back();
      r.next_marker = std::max(last_key, last_prefix);
    }
    send_xml(c, 200, list_objects_xml(r, owner));
  }

  void delete_objects(Ctx& c) {
    if (!require_bucket(c)) return;
    auto body = read_small_body(c, config.max_xml_body_bytes);
    if (!body) return send_error(c, body.error());
    XmlLimits limits;
    limits.max_bytes = config.max_xml_body_bytes;
    auto parsed = parse_delete_objects(*body, config.max_delete_keys, limits);
    if (!parsed) return send_error(c, parsed.error());
    std::vector<DeleteOutcome> outcomes;
    for (const auto& key : parsed->keys) {
      DeleteOutcome o;
      o.key = key;
      if (key.size() > config.max_key_bytes) {
        o.code = "KeyTooLongError";
        o.message = "Your key is too long.";
      } else if (auto st = store.remove(ObjectRef{c.bucket, key}); !st) {
        const S3Error e = to_s3_error(st.error());
        o.code = e.code;
        o.message = e.message;
      }
      outcomes.push_back(std::move(o));
    }
    send_xml(c, 200, delete_result_xml(outcomes, parsed->quiet));
  }

  // ---- objects -------------------------------------------------------------------------------------
  void set_checksum_header(Ctx& c, const BodyResult& b) {
    if (b.checksum) c.res.set_header(std::string(b.checksum->first->header), b.checksum->second);
  }

  void put_object(Ctx& c) {
    auto opts = put_options(c);
    if (!opts) return send_error(c, opts.error());
    auto f = framing(c, true);
    if (!f) return send_error(c, f.error());
    // Refuse a missing bucket or an unstorable key before reading the body.
    if (!require_bucket(c)) return;
    if (auto rel = storage::key_to_relative_path(c.key); !rel) return send_error(c, rel.error());
    const ObjectRef ref = c.ref();
    std::optional<Result<BodyResult>> body;
    std::optional<Result<storage::PutResult>> put;
    if (f->declared <= config.memory_body_bytes) {
      std::string memory;
      memory.reserve(static_cast<std::size_t>(f->declared));
      body.emplace(read_body(c, *f, [&](std::string_view p) {
        memory.append(p);
        return ok_status();
      }));
      if (!body->ok()) return send_error(c, body->error());
      put.emplace(store.put(ref, memory, *opts));
    } else {
      // Streamed: the store writes while the body arrives and installs only once the body is
      // complete and every digest checked.
      const std::uint64_t declared = f->declared;
      StagingPipe pipe(config.pipe_buffer_bytes, [this, ref, declared, o = *opts](const storage::ByteSource& source) {
        return store.put_stream(ref, source, declared, o);
      });
      body.emplace(read_body(c, *f, [&](std::string_view p) { return pipe.push(p); }));
      put.emplace(pipe.finish(body->ok() ? ok_status() : Status(body->error())));
      if (!body->ok()) return send_error(c, body->error());
    }
    if (!put->ok()) return send_error(c, put->error());
    const storage::PutResult& result = put->value();
    if (auto st = emit_created(ref, body->value().size, result.etag, "ObjectCreated:Put"); !st)
      return send_error(c, st.error());
    c.res.set_header("ETag", "\"" + result.etag + "\"");
    set_checksum_header(c, body->value());
    c.res.status = 200;
  }

  // Evaluates If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since (RFC 7232's
  // order, as S3 applies it). `prefix` is "" or "x-amz-copy-source-".
  std::optional<S3Error> conditions(const Ctx& c, const storage::ObjectMeta& meta, const std::string& prefix,
                                    bool allow_not_modified) {
    const std::string* im = c.h(prefix + "if-match");
    const std::string* inm = c.h(prefix + "if-none-match");
    const std::string* ims = c.h(prefix + "if-modified-since");
    const std::string* ius = c.h(prefix + "if-unmodified-since");
    const auto modified = to_seconds(meta.last_modified);
    if (im && !etag_matches(*im, meta.etag)) return make_s3_error("PreconditionFailed");
    if (!im && ius) {
      if (auto t = parse_http_date(*ius); t && modified > to_seconds(*t)) return make_s3_error("PreconditionFailed");
    }
    const int not_modified = allow_not_modified ? 304 : 412;
    if (inm && etag_matches(*inm, meta.etag)) {
      S3Error e = make_s3_error(allow_not_modified ? "NotModified" : "PreconditionFailed");
      e.status = not_modified;
      return e;
    }
    if (!inm && ims) {
      if (auto t = parse_http_date(*ims); t && modified <= to_seconds(*t)) {
        S3Error e = make_s3_error(allow_not_modified ? "NotModified" : "PreconditionFailed");
        e.status = not_modified;
        return e;
      }
    }
    return std::nullopt;
  }

  void object_headers(Ctx& c, const storage::ObjectMeta& meta) {
    c.res.set_header("ETag", "\"" + meta.etag + "\"");
    c.res.set_header("Last-Modified", format_http_date(meta.last_modified));
    c.res.set_header("Accept-Ranges", "bytes");
    if (!meta.cache_control.empty()) c.res.set_header("Cache-Control", meta.cache_control);
    for (const auto& [name, value] : meta.stored_headers) c.res.set_header(header_case(name), value);
    for (const auto& [name, value] : meta.user_metadata) c.res.set_header(std::string(kMetaPrefix) + name, value);
  }

  void get_object(Ctx& c) {
    for (int attempt = 0;; ++attempt) {
      auto meta = store.head(c.ref());
      if (!meta) return send_error(c, meta.error());
      if (auto e = conditions(c, *meta, "", true)) {
        if (e->status == 304) {
          c.res.set_header("ETag", "\"" + meta->etag + "\"");
          c.res.set_header("Last-Modified", format_http_date(meta->last_modified));
        }
        return send_error(c, *e);
      }
      std::uint64_t first = 0, length = meta->size;
      bool partial = false;
      if (const std::string* rh = c.h("range")) {
        if (auto r = parse_range(*rh)) {
          const bool empty_suffix = r->suffix && r->first == 0;
          if (meta->size == 0 || empty_suffix || (!r->suffix && r->first >= meta->size)) {
            S3Error e = make_s3_error("InvalidRange");
            e.details.emplace_back("RangeRequested", std::string(trim_ows(*rh)));
            e.details.emplace_back("ActualObjectSize", std::to_string(meta->size));
            return send_error(c, e);
          }
          if (r->suffix) {
            length = std::min(r->first, meta->size);
            first = meta->size - length;
          } else {
            first = r->first;
            const std::uint64_t last = r->last ? std::min(*r->last, meta->size - 1) : meta->size - 1;
            length = last - first + 1;
          }
          partial = true;
        }
      }
      std::string content_type = meta->content_type;
      object_headers(c, *meta);
      static const std::array<std::pair<std::string_view, std::string_view>, 6> kOverrides = {{
          {"response-cache-control", "Cache-Control"},
          {"response-content-disposition", "Content-Disposition"},
          {"response-content-encoding", "Content-Encoding"},
          {"response-content-language", "Content-Language"},
          {"response-expires", "Expires"},
          {"response-content-type", ""},
      }};
      for (const auto& [param, header] : kOverrides) {
        const std::string* v = c.q(param);
        if (!v) continue;
        if (header.empty()) {
          content_type = *v;
        } else {
          c.res.headers.erase(std::string(header));
          c.res.set_header(std::string(header), *v);
        }
      }
      if (partial)
        c.res.set_header("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(first + length - 1) +
                                              "/" + std::to_string(meta->size));
      c.res.status = partial ? 206 : 200;
      storage::GetOptions g;
      if (partial) g.range = storage::ByteRange{first, first + length - 1, false};
      g.if_match = meta->etag;  // one version, never a mix
      if (c.head || length == 0) {
        if (length > 0) {
          c.res.set_content_provider(static_cast<std::size_t>(length), content_type,
                                     [](std::size_t, std::size_t, httplib::DataSink&) { return false; });
        } else {
          c.res.set_header("Content-Type", content_type);
        }
        return;
      }
      if (length <= config.memory_body_bytes) {
        std::string bytes;
        bytes.reserve(static_cast<std::size_t>(length));
        auto got = store.get(c.ref(), [&](std::string_view p) {
          bytes.append(p);
          return ok_status();
        }, g);
        if (!got) {
          // Replaced between head and read: start over (a handful of times) with the new version.
          if (got.error().code == "PreconditionFailed" && attempt < 3) {
            c.res.headers.clear();
            common_headers(c);
            continue;
          }
          return send_error(c, got.error());
        }
        c.res.set_content(std::move(bytes), content_type);
        return;
      }
      // Large: streamed from the file as the socket takes it. If the object is replaced before
      // the first byte is read, the If-Match fails and the connection is dropped (the client
      // retries), rather than sending bytes of another version under these headers.
      storage::LocalStore* s = &store;
      const ObjectRef ref = c.ref();
      c.res.set_content_provider(static_cast<std::size_t>(length), content_type,
                                 [s, ref, g, first](std::size_t offset, std::size_t len, httplib::DataSink& sink) {
                                   storage::GetOptions opts = g;
                                   opts.range = storage::ByteRange{first + offset, first + offset + len - 1, false};
                                   auto r = s->get(ref, [&](std::string_view p) -> Status {
                                     if (!sink.write(p.data(), p.size()))
                                       return make_error(ErrorKind::unavailable, "client went away");
                                     return ok_status();
                                   }, opts);
                                   return r.ok();
                                 });
      return;
    }
  }

  void delete_object(Ctx& c) {
    if (!require_bucket(c)) return;
    if (auto st = store.remove(c.ref()); !st) return send_error(c, st.error());
    c.res.status = 204;
  }

  // "bucket/key" or "/bucket/key", optionally "?versionId=..." (ignored: no versioning).
  Result<ObjectRef> copy_source(const Ctx& c) {
    // Already percent-decoded by cpp-httplib 0.11 (it decodes every header value).
    std::string_view s = trim_ows(*c.h("x-amz-copy-source"));
    if (auto q = s.find("?versionId="); q != std::string_view::npos) s = s.substr(0, q);
    if (!s.empty() && s.front() == '/') s.remove_prefix(1);
    const auto slash = s.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size())
      return s3_failure("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
    return ObjectRef{std::string(s.substr(0, slash)), std::string(s.substr(slash + 1))};
  }

  void copy_object(Ctx& c) {
    drain(c);
    auto src = copy_source(c);
    if (!src) return send_error(c, src.error());
    const std::string* directive = c.h("x-amz-metadata-directive");
    const bool replace = directive && *directive == "REPLACE";
    if (directive && *directive != "REPLACE" && *directive != "COPY")
      return send_error(c, make_s3_error("InvalidArgument", "Unknown metadata directive."));
    if (*src == c.ref() && !replace)
      return send_error(c, make_s3_error("InvalidRequest",
                                         "This copy request is illegal because it is trying to copy an object to "
                                         "itself without changing the object's metadata, storage class, website "
                                         "redirect location or encryption attributes."));
    auto opts = put_options(c);
    if (!opts) return send_error(c, opts.error());
    auto meta = store.head(*src);
    if (!meta) {
      S3Error e = to_s3_error(meta.error());
      if (e.code == "NoSuchBucket") e.details.emplace_back("BucketName", src->bucket);
      if (e.code == "NoSuchKey") e.details.emplace_back("Key", src->key);
      return send_error(c, e);
    }
    if (auto e = conditions(c, *meta, "x-amz-copy-source-", false)) return send_error(c, *e);
    if (meta->size > config.max_object_bytes)
      return send_error(c, make_s3_error("InvalidRequest",
                                         "The specified copy source is larger than the maximum allowable size for a "
                                         "copy source: " + std::to_string(config.max_object_bytes)));
    if (!replace) {
      // LocalStore copies these itself; the conditions on the destination still apply.
      opts->content_type.clear();
    }
    auto put = store.copy(*src, c.ref(), replace, *opts);
    if (!put) return send_error(c, put.error());
    if (auto st = emit_created(c.ref(), meta->size, put->etag, "ObjectCreated:Copy"); !st)
      return send_error(c, st.error());
    auto now = store.head(c.ref());
    send_xml(c, 200, copy_object_xml(put->etag, now ? now->last_modified : Clock::now()));
  }

  // ---- multipart -------------------------------------------------------------------------------
  Result<std::string> upload_id(const Ctx& c) {
    const std::string* id = c.q("uploadId");
    if (!id || id->empty()) return s3_failure("InvalidArgument", "uploadId is required");
    return *id;
  }

  void create_upload(Ctx& c) {
    drain(c);
    auto opts = put_options(c);
    if (!opts) return send_error(c, opts.error());
    auto u = multipart.create(c.ref(), *opts);
    if (!u) return send_error(c, u.error());
    send_xml(c, 200, initiate_multipart_xml(c.bucket, c.key, u->upload_id));
  }

  void upload_part(Ctx& c) {
    auto id = upload_id(c);
    if (!id) return send_error(c, id.error());
    const std::string* pn = c.q("partNumber");
    auto number = pn ? parse_u64(*pn) : std::nullopt;
    if (!number || *number < 1 || *number > config.multipart.max_parts)
      return send_error(c, make_s3_error("InvalidArgument", "Part number must be an integer between 1 and " +
                                                               std::to_string(config.multipart.max_parts) +
                                                               ", inclusive"));
    if (c.h("x-amz-copy-source")) return upload_part_copy(c, *id, static_cast<int>(*number));
    auto f = framing(c, true);
    if (!f) return send_error(c, f.error());
    auto writer = multipart.begin_part(*id, c.ref(), static_cast<int>(*number));
    if (!writer) return send_error(c, writer.error());
    auto body = read_body(c, *f, [&](std::string_view p) { return (*writer)->write(p); });
    if (!body) return send_error(c, body.error());
    auto part = (*writer)->commit();
    if (!part) return send_error(c, part.error());
    c.res.set_header("ETag", "\"" + part->etag + "\"");
    set_checksum_header(c, *body);
    c.res.status = 200;
  }

  void upload_part_copy(Ctx& c, const std::string& id, int number) {
    drain(c);
    auto src = copy_source(c);
    if (!src) return send_error(c, src.error());
    auto meta = store.head(*src);
    if (!meta) return send_error(c, meta.error());
    if (auto e = conditions(c, *meta, "x-amz-copy-source-", false)) return send_error(c, *e);
    storage::GetOptions g;
    g.if_match = meta->etag;
    if (const std::string* range = c.h("x-amz-copy-source-range")) {
      auto r = parse_range(*range);
      if (!r || r->suffix || !r->last || *r->last >= meta->size)
        return send_error(c, make_s3_error("InvalidArgument",
                                           "The x-amz-copy-source-range value must be of the form bytes=first-last "
                                           "where first and last are the zero-based offsets of the first and last "
                                           "bytes to copy"));
      g.range = *r;
    }
    auto writer = multipart.begin_part(id, c.ref(), number);
    if (!writer) return send_error(c, writer.error());
    auto got = store.get(*src, [&](std::string_view p) { return (*writer)->write(p); }, g);
    if (!got) return send_error(c, got.error());
    auto part = (*writer)->commit();
    if (!part) return send_error(c, part.error());
    send_xml(c, 200, copy_part_xml(part->etag, part->last_modified));
  }

  void complete_upload(Ctx& c) {
    auto id = upload_id(c);
    if (!id) return send_error(c, id.error());
    auto body = read_small_body(c, config.max_xml_body_bytes);
    if (!body) return send_error(c, body.error());
    XmlLimits limits;
    limits.max_bytes = config.max_xml_body_bytes;
    auto parts = parse_complete_multipart_upload(*body, config.multipart.max_parts, limits);
    if (!parts) return send_error(c, parts.error());
    std::uint64_t size = 0;
    auto put = multipart.complete(*id, c.ref(), *parts, &size);
    if (!put) return send_error(c, put.error());
    const std::string location = endpoint() + "/" + aws::uri_encode(c.bucket, true) + "/" + aws::uri_encode(c.key, false);
    if (auto st = emit_created(c.ref(), size, put->etag, "ObjectCreated:CompleteMultipartUpload"); !st)
      return send_error(c, st.error());
    send_xml(c, 200, complete_multipart_xml(location, c.bucket, c.key, put->etag));
  }

  void abort_upload(Ctx& c) {
    auto id = upload_id(c);
    if (!id) return send_error(c, id.error());
    if (auto st = multipart.abort(*id, c.ref()); !st) return send_error(c, st.error());
    c.res.status = 204;
  }

  void list_parts(Ctx& c) {
    auto id = upload_id(c);
    if (!id) return send_error(c, id.error());
    auto max_parts = int_param(c, "max-parts", config.max_list_keys, config.max_list_keys);
    if (!max_parts) return send_error(c, max_parts.error());
    auto marker = int_param(c, "part-number-marker", 0, 1 << 30);
    if (!marker) return send_error(c, marker.error());
    auto parts = multipart.parts(*id, c.ref());
    if (!parts) return send_error(c, parts.error());
    ListPartsResult r;
    r.bucket = c.bucket;
    r.key = c.key;
    r.upload_id = *id;
    r.part_number_marker = *marker;
    r.max_parts = *max_parts;
    for (const auto& p : *parts) {
      if (p.number <= *marker) continue;
      if (static_cast<int>(r.parts.size()) == *max_parts) {
        r.truncated = true;
        break;
      }
      r.parts.push_back(p);
      r.next_part_number_marker = p.number;
    }
    send_xml(c, 200, list_parts_xml(r, owner));
  }

  void list_uploads(Ctx& c) {
    if (!require_bucket(c)) return;
    auto max_uploads = int_param(c, "max-uploads", config.max_list_keys, config.max_list_keys);
    if (!max_uploads) return send_error(c, max_uploads.error());
    auto enc = url_encoding(c);
    if (!enc) return send_error(c, enc.error());
    ListUploadsResult r;
    r.bucket = c.bucket;
    r.max_uploads = *max_uploads;
    r.url_encode = *enc;
    if (auto v = c.q("prefix")) r.prefix = *v;
    if (auto v = c.q("delimiter")) r.delimiter = *v;
    if (auto v = c.q("key-marker")) r.key_marker = *v;
    if (auto v = c.q("upload-id-marker")) r.upload_id_marker = *v;
    if (r.max_uploads == 0) return send_xml(c, 200, list_uploads_xml(r, owner));
    auto listing = multipart.list(c.bucket, r.prefix, r.delimiter, r.key_marker, r.upload_id_marker, r.max_uploads);
    if (!listing) return send_error(c, listing.error());
    for (const auto& u : listing->uploads) r.uploads.push_back({u.ref.key, u.upload_id, u.initiated});
    r.common_prefixes = listing->common_prefixes;
    r.truncated = listing->truncated;
    r.next_key_marker = listing->next_key_marker;
    r.next_upload_id_marker = listing->next_upload_id_marker;
    send_xml(c, 200, list_uploads_xml(r, owner));
  }

  std::string endpoint() const { return "http://" + config.host + ":" + std::to_string(bound_port); }

  // ---- wiring ------------------------------------------------------------------------------------
  void install_routes() {
    const std::string any = R"([\s\S]*)";
    http.Get(any, [this](const httplib::Request& req, httplib::Response& res) { handle(req, res, nullptr); });
    auto with_body = [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
      handle(req, res, &reader);
    };
    http.Put(any, with_body);
    http.Post(any, with_body);
    http.Delete(any, with_body);
    http.set_expect_100_continue_handler(
        [this](const httplib::Request& req, httplib::Response& res) { return expect_continue(req, res); });
    http.set_exception_handler([this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      std::cerr << "thumbflow serve: " << req.method << " " << req.path << ": " << what << "\n";
      res = httplib::Response{};
      res.status = 500;
      res.set_content(error_xml("InternalError", s3_default_message("InternalError"), req.path, next_request_id()),
                      "application/xml");
    });
    // Errors cpp-httplib produces itself (unparsable request line, 414, 416 for a malformed
    // Range) get an S3 error document too.
    http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
      if (res.has_header("x-amz-request-id") || !res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      const std::string code = res.status == 416 ? "InvalidRange"
                               : res.status == 414 ? "KeyTooLongError"
                               : res.status == 413 ? "EntityTooLarge"
                                                   : "InvalidRequest";
      const std::string id = next_request_id();
      res.set_header("x-amz-request-id", id);
      if (req.method != "HEAD") {
        res.body = error_xml(code, s3_default_message(code), req.path, id);
        res.set_header("Content-Type", "application/xml");
        res.set_header("Content-Length", std::to_string(res.body.size()));
      }
      return httplib::Server::HandlerResponse::Unhandled;
    }));
    if (config.log_requests || request_observer) {
      http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        if (config.log_requests) std::cerr << req.method << " " << req.target << " " << res.status << "\n";
        if (request_observer)
          request_observer(s3_operation(req.method, req.path, req.has_header("x-amz-copy-source"),
                                        [&req](std::string_view p) { return req.has_param(std::string(p).c_str()); }),
                           res.status);
      });
    }
    const std::size_t threads = std::max<std::size_t>(1, config.worker_threads);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_keep_alive_max_count(std::max<std::size_t>(1, config.keep_alive_max_requests));
    http.set_keep_alive_timeout(config.keep_alive_timeout.count());
    http.set_read_timeout(config.read_timeout.count(), 0);
    http.set_write_timeout(config.write_timeout.count(), 0);
    http.set_tcp_nodelay(true);
  }
};

S3Server::S3Server(fs::path data_dir, KeyRing keys, S3ServerConfig config)
    : impl_(std::make_unique<Impl>(std::move(data_dir), std::move(keys), std::move(config))) {}

S3Server::~S3Server() { stop(); }

void S3Server::on_object_created(ObjectCreatedHook hook) { impl_->hook = std::move(hook); }
void S3Server::on_request(RequestObserver observer) { impl_->request_observer = std::move(observer); }

// Mirrors the dispatch in Impl::handle(), so the names match what was served.
std::string_view s3_operation(std::string_view m, std::string_view path, bool has_copy_source,
                              const std::function<bool(std::string_view)>& q) {
  std::string_view rest = path;
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  const auto slash = rest.find('/');
  const bool bucket = !rest.empty();
  const bool key = slash != std::string_view::npos && slash + 1 < rest.size();
  if (!bucket) return m == "GET" || m == "HEAD" ? "ListBuckets" : "Unknown";
  if (!key) {
    if (m == "PUT") return "CreateBucket";
    if (m == "HEAD") return "HeadBucket";
    if (m == "DELETE") return "DeleteBucket";
    if (m == "GET") {
      if (q("location")) return "GetBucketLocation";
      if (q("versioning")) return "GetBucketVersioning";
      if (q("uploads")) return "ListMultipartUploads";
      return q("list-type") ? "ListObjectsV2" : "ListObjects";
    }
    if (m == "POST" && q("delete")) return "DeleteObjects";
    return "Unknown";
  }
  if (m == "PUT") {
    if (q("uploadId") || q("partNumber")) return "UploadPart";
    return has_copy_source ? "CopyObject" : "PutObject";
  }
  if (m == "GET") return q("uploadId") ? "ListParts" : "GetObject";
  if (m == "HEAD") return "HeadObject";
  if (m == "DELETE") return q("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
  if (m == "POST") {
    if (q("uploads")) return "CreateMultipartUpload";
    if (q("uploadId")) return "CompleteMultipartUpload";
  }
  return "Unknown";
}

Status S3Server::start() {
  Impl& s = *impl_;
  if (s.listener.joinable()) return make_error(ErrorKind::invalid_argument, "the server is already running");
  s.install_routes();
  if (s.config.port == 0) {
    s.bound_port = s.http.bind_to_any_port(s.config.host);
    if (s.bound_port <= 0)
      return make_error(ErrorKind::unavailable, "cannot listen on " + s.config.host + " (any port)");
  } else {
    if (!s.http.bind_to_port(s.config.host, s.config.port))
      return make_error(ErrorKind::unavailable, "cannot listen on " + s.config.host + ":" +
                                                    std::to_string(s.config.port) + " (in use, or not an address here)");
    s.bound_port = s.config.port;
  }
  ::listen(s.http.listen_socket(), s.config.listen_backlog);
  s.listener = std::thread([&s] { s.http.listen_after_bind(); });
  // cpp-httplib's stop() does nothing until the accept loop runs, so a stop() right after start()
  // would leave the listener running; return only once it does.
  for (int i = 0; i < 5000 && !s.http.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return ok_status();
}

void S3Server::stop() {
  if (!impl_ || !impl_->listener.joinable()) return;
  impl_->http.stop();
  impl_->listener.join();
}

int S3Server::port() const { return impl_->bound_port; }
std::string S3Server::endpoint() const { return impl_->endpoint(); }
storage::LocalStore& S3Server::store() { return impl_->store; }
const S3ServerConfig& S3Server::config() const { return impl_->config; }

Status prepare_data_folder(const fs::path& data_dir, std::string_view bucket) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return make_error(ErrorKind::io, "cannot create " + data_dir.string() + ": " + ec.message());
  storage::LocalStore store(data_dir);
  auto exists = store.bucket_exists(std::string(bucket));
  if (!exists) return exists.error();
  if (!*exists) {
    if (auto st = store.create_bucket(std::string(bucket)); !st) return st;
  }
  for (const char* folder : {"uploads", "thumbnails"}) {
    fs::create_directories(data_dir / bucket / folder, ec);
    if (ec) return make_error(ErrorKind::io, "cannot create " + (data_dir / bucket / folder).string() + ": " + ec.message());
  }
  return ok_status();
}

}  // namespace thumbflow::server
