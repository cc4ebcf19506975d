#include "storage/s3_store.hpp"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "aws/primitives.hpp"

namespace thumbflow::storage {

// ================================================================================================
// XML, errors, dates: pure functions
// ================================================================================================
namespace s3 {
namespace {

bool is_name_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '-' || c == '.' || c == ':' || u >= 0x80;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class XmlParser {
 public:
  explicit XmlParser(std::string_view doc) : s_(doc) {}

  Result<XmlElement> document() {
    if (s_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
    if (Status st = misc(); !st) return st.error();
    if (pos_ >= s_.size() || s_[pos_] != '<') return fail("no root element");
    XmlElement root;
    if (Status st = element(root, 0); !st) return st.error();
    if (Status st = misc(); !st) return st.error();
    if (pos_ != s_.size()) return fail("content after the root element");
    return root;
  }

 private:
  Error fail(const std::string& what) const {
    return make_error(ErrorKind::corrupt, "malformed XML at byte " + std::to_string(pos_) + ": " + what, "MalformedXML");
  }
  bool at(std::string_view token) const { return s_.substr(pos_).starts_with(token); }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  Status skip_past(std::string_view end, const char* what) {
    const std::size_t e = s_.find(end, pos_);
    if (e == std::string_view::npos) return fail(std::string("unterminated ") + what);
    pos_ = e + end.size();
    return ok_status();
  }
  // Whitespace, comments and processing instructions around the root element.
  Status misc() {
    for (;;) {
      skip_space();
      if (at("<?")) {
        if (Status st = skip_past("?>", "processing instruction"); !st) return st;
      } else if (at("<!--")) {
        if (Status st = skip_past("-->", "comment"); !st) return st;
      } else if (at("<!")) {
        return fail("DOCTYPE and declarations are not accepted");
      } else {
        return ok_status();
      }
    }
  }
  Result<std::string> name() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
    if (pos_ == start) return fail("expected a name");
    return std::string(s_.substr(start, pos_ - start));
  }
  Status decode_text(std::string_view raw, std::string& out) {
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '&') {
        out += raw[i];
        continue;
      }
      const std::size_t semi = raw.find(';', i);
      if (semi == std::string_view::npos || semi - i > 12) return fail("unterminated entity");
      const std::string_view ent = raw.substr(i + 1, semi - i - 1);
      if (ent == "lt") out += '<';
      else if (ent == "gt") out += '>';
      else if (ent == "amp") out += '&';
      else if (ent == "quot") out += '"';
      else if (ent == "apos") out += '\'';
      else if (ent.size() > 1 && ent[0] == '#') {
        const bool hex = ent[1] == 'x' || ent[1] == 'X';
        const std::string_view digits = ent.substr(hex ? 2 : 1);
        if (digits.empty()) return fail("empty character reference");
        std::uint32_t cp = 0;
        for (char c : digits) {
          const auto u = static_cast<unsigned char>(c);
          std::uint32_t d;
          if (std::isdigit(u)) d = static_cast<std::uint32_t>(c - '0');
          else if (hex && std::isxdigit(u)) d = static_cast<std::uint32_t>(std::tolower(u) - 'a' + 10);
          else return fail("bad character reference");
          cp = cp * (hex ? 16u : 10u) + d;
          if (cp > 0x10FFFF) return fail("character reference out of range");
        }
        if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return fail("invalid character reference");
        append_utf8(out, cp);
      } else {
        return fail("unknown entity &" + std::string(ent) + ";");
      }
      i = semi;
    }
    return ok_status();
  }
  Status element(XmlElement& el, std::size_t depth) {
    if (depth >= kMaxXmlDepth) return fail("nested deeper than " + std::to_string(kMaxXmlDepth));
    if (++elements_ > kMaxXmlElements) return fail("more than " + std::to_string(kMaxXmlElements) + " elements");
    ++pos_;  // '<'
    auto raw_name = name();
    if (!raw_name) return raw_name.error();
    const std::size_t colon = raw_name->rfind(':');
    el.name = colon == std::string::npos ? *raw_name : raw_name->substr(colon + 1);
    // Attributes are skipped (S3 only puts xmlns on the root), but must be well formed.
    for (;;) {
      skip_space();
      if (pos_ >= s_.size()) return fail("unterminated start tag");
      if (at("/>")) {
        pos_ += 2;
        return ok_status();
      }
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      if (auto attr = name(); !attr) return attr.error();
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '=') return fail("expected '=' in attribute");
      ++pos_;
      skip_space();
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) return fail("expected a quoted attribute value");
      const char quote = s_[pos_++];
      const std::size_t end = s_.find(quote, pos_);
      if (end == std::string_view::npos) return fail("unterminated attribute value");
      pos_ = end + 1;
    }
    // Content.
    for (;;) {
      if (pos_ >= s_.size()) return fail("unterminated element <" + *raw_name + ">");
      if (s_[pos_] != '<') {
        const std::size_t end = std::min(s_.find('<', pos_), s_.size());
        if (Status st = decode_text(s_.substr(pos_, end - pos_), el.text); !st) return st;
        pos_ = end;
        continue;
      }
      if (at("</")) {
        pos_ += 2;
        auto close = name();
        if (!close) return close.error();
        if (*close != *raw_name) return fail("</" + *close + "> closes <" + *raw_name + ">");
        skip_space();
        if (pos_ >= s_.size() || s_[pos_] != '>') return fail("unterminated end tag");
        ++pos_;
        return ok_status();
      }
      if (at("<!--")) {
        if (Status st = skip_past("-->", "comment"); !st) return st;
      } else if (at("<![CDATA[")) {
        pos_ += 9;
        const std::size_t end = s_.find("]]>", pos_);
        if (end == std::string_view::npos) return fail("unterminated CDATA");
        el.text.append(s_.substr(pos_, end - pos_));
        pos_ = end + 3;
      } else if (at("<?")) {
        if (Status st = skip_past("?>", "processing instruction"); !st) return st;
      } else if (at("<!")) {
        return fail("declarations are not accepted inside elements");
      } else {
        el.children.emplace_back();
        if (Status st = element(el.children.back(), depth + 1); !st) return st;
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t elements_ = 0;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t len) {
  if (pos + len > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::optional<std::chrono::system_clock::time_point> make_time(int y, int mo, int d, int h, int mi, int se) {
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{se};
}

}  // namespace

const XmlElement* XmlElement::child(std::string_view child_name) const {
  for (const auto& c : children)
    if (c.name == child_name) return &c;
  return nullptr;
}

std::string XmlElement::child_text(std::string_view child_name) const {
  const XmlElement* c = child(child_name);
  return c ? c->text : std::string();
}

Result<XmlElement> parse_xml(std::string_view document) { return XmlParser(document).document(); }

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string strip_etag_quotes(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  // Some servers send &quot; in XML documents that were escaped twice.
  std::string out(etag);
  for (std::string_view q : {"&quot;", "&#34;"}) {
    while (out.starts_with(q)) out.erase(0, q.size());
    while (out.ends_with(q)) out.erase(out.size() - q.size());
  }
  return out;
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s) {
  // 2009-10-12T17:50:30.000Z ; the fraction and the zone designator are optional (UTC assumed).
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2), h = digits(s, 11, 2), mi = digits(s, 14, 2),
       se = digits(s, 17, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  return make_time(*y, *mo, *d, *h, *mi, *se);
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s) {
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() < 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
      s[22] != ':')
    return std::nullopt;
  int month = 0;
  for (int i = 0; i < 12; ++i)
    if (s.substr(8, 3) == kMonths[i]) month = i + 1;
  auto d = digits(s, 5, 2), y = digits(s, 12, 4), h = digits(s, 17, 2), mi = digits(s, 20, 2), se = digits(s, 23, 2);
  if (!month || !d || !y || !h || !mi || !se) return std::nullopt;
  return make_time(*y, month, *d, *h, *mi, *se);
}

std::string range_header(const ByteRange& range) {
  if (range.suffix) return "bytes=-" + std::to_string(range.first);
  std::string out = "bytes=" + std::to_string(range.first) + "-";
  if (range.last) out += std::to_string(*range.last);
  return out;
}

S3ErrorInfo parse_error(long status, std::string_view body, const aws::Headers& headers) {
  S3ErrorInfo info;
  for (const auto& h : headers) {
    if (info.request_id.empty() && (h.name == "x-amz-request-id" || h.name == "x-amz-id-2")) info.request_id = h.value;
  }
  if (!body.empty()) {
    if (auto doc = parse_xml(body); doc && doc->name == "Error") {
      info.code = doc->child_text("Code");
      info.message = doc->child_text("Message");
      info.resource = doc->child_text("Resource");
      if (auto id = doc->child_text("RequestId"); !id.empty()) info.request_id = id;
    }
  }
  if (info.code.empty()) {
    // HEAD responses and some proxies carry no document: name the status the way SDKs do.
    switch (status) {
      case 304: info.code = "NotModified"; break;
      case 400: info.code = "BadRequest"; break;
      case 403: info.code = "AccessDenied"; break;
      case 404: info.code = "NotFound"; break;
      case 409: info.code = "Conflict"; break;
      case 412: info.code = "PreconditionFailed"; break;
      case 416: info.code = "InvalidRange"; break;
      case 429: info.code = "TooManyRequests"; break;
      case 500: info.code = "InternalError"; break;
      case 503: info.code = "ServiceUnavailable"; break;
      default: info.code = "HTTP" + std::to_string(status);
    }
  }
  return info;
}

ErrorKind kind_for(long status, std::string_view code) {
  static const std::map<std::string_view, ErrorKind> kCodes = {
      {"NoSuchKey", ErrorKind::not_found},
      {"NoSuchBucket", ErrorKind::not_found},
      {"NoSuchUpload", ErrorKind::not_found},
      {"NoSuchVersion", ErrorKind::not_found},
      {"NotFound", ErrorKind::not_found},
      {"PreconditionFailed", ErrorKind::precondition_failed},
      {"NotModified", ErrorKind::precondition_failed},
      {"BucketNotEmpty", ErrorKind::precondition_failed},
      {"ConditionalRequestConflict", ErrorKind::precondition_failed},
      {"SignatureDoesNotMatch", ErrorKind::access_denied},
      {"InvalidAccessKeyId", ErrorKind::access_denied},
      {"AccessDenied", ErrorKind::access_denied},
      {"AllAccessDisabled", ErrorKind::access_denied},
      {"ExpiredToken", ErrorKind::access_denied},
      {"InvalidToken", ErrorKind::access_denied},
      {"TokenRefreshRequired", ErrorKind::access_denied},
      {"RequestTimeTooSkewed", ErrorKind::access_denied},
      {"AccountProblem", ErrorKind::access_denied},
      {"BucketAlreadyOwnedByYou", ErrorKind::already_exists},
      {"BucketAlreadyExists", ErrorKind::already_exists},
      {"EntityTooLarge", ErrorKind::too_large},
      {"MetadataTooLarge", ErrorKind::too_large},
      {"MaxMessageLengthExceeded", ErrorKind::too_large},
      {"SlowDown", ErrorKind::unavailable},
      {"ServiceUnavailable", ErrorKind::unavailable},
      {"InternalError", ErrorKind::unavailable},
      {"RequestTimeout", ErrorKind::unavailable},
      {"OperationAborted", ErrorKind::unavailable},
      {"TooManyRequests", ErrorKind::unavailable},
      {"Throttling", ErrorKind::unavailable},
      {"ThrottlingException", ErrorKind::unavailable},
      {"RequestLimitExceeded", ErrorKind::unavailable},
  };
  if (auto it = kCodes.find(code); it != kCodes.end()) return it->second;
  if (status >= 500 || status == 429) return ErrorKind::unavailable;
  if (status == 401 || status == 403) return ErrorKind::access_denied;
  if (status == 404) return ErrorKind::not_found;
  if (status == 304 || status == 409 || status == 412) return ErrorKind::precondition_failed;
  if (status == 413) return ErrorKind::too_large;
  if (status >= 400) return ErrorKind::invalid_argument;
  return ErrorKind::internal;
}

bool retryable_code(std::string_view code) {
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" || code == "ServiceUnavailable" ||
         code == "OperationAborted" || code == "Throttling" || code == "ThrottlingException" ||
         code == "RequestLimitExceeded" || code == "TooManyRequests";
}

ObjectMeta meta_from_headers(const aws::Headers& headers) {
  ObjectMeta meta;
  std::optional<std::uint64_t> total_from_range;
  for (const auto& h : headers) {
    const std::string name = lower(h.name);
    if (name == "content-length") {
      if (auto v = parse_u64(h.value)) meta.size = *v;
    } else if (name == "content-range") {
      // "bytes 0-9/100": the object's size is after the slash ("*" when unknown).
      const auto slash = h.value.rfind('/');
      if (slash != std::string::npos) total_from_range = parse_u64(h.value.substr(slash + 1));
    } else if (name == "etag") {
      meta.etag = strip_etag_quotes(h.value);
    } else if (name == "content-type") {
      meta.content_type = h.value;
    } else if (name == "cache-control") {
      meta.cache_control = h.value;
    } else if (is_stored_header(name)) {
      meta.stored_headers[name] = h.value;
    } else if (name == "last-modified") {
      if (auto t = parse_http_date(h.value)) meta.last_modified = *t;
    } else if (name == "x-amz-version-id") {
      if (h.value != "null") meta.version_id = h.value;
    } else if (name.starts_with("x-amz-meta-")) {
      meta.user_metadata[name.substr(11)] = h.value;
    }
  }
  if (total_from_range) meta.size = *total_from_range;
  return meta;
}

Result<ListPage> parse_list_objects_v2(std::string_view body) {
  auto doc = parse_xml(body);
  if (!doc) return doc.error();
  if (doc->name != "ListBucketResult")
    return make_error(ErrorKind::corrupt, "expected <ListBucketResult>, got <" + doc->name + ">", "MalformedXML");
  const bool url_encoded = lower(doc->child_text("EncodingType")) == "url";
  auto decode = [&](const std::string& text) -> Result<std::string> {
    if (!url_encoded) return text;
    auto d = aws::uri_decode(text, true);
    if (!d) return make_error(ErrorKind::corrupt, "undecodable URL-encoded key '" + text + "' in list response", "MalformedXML");
    return *d;
  };
  ListPage page;
  page.truncated = lower(doc->child_text("IsTruncated")) == "true";
  page.next_continuation_token = doc->child_text("NextContinuationToken");
  for (const auto& c : doc->children) {
    if (c.name == "Contents") {
      ObjectMeta m;
      auto key = decode(c.child_text("Key"));
      if (!key) return key.error();
      m.key = std::move(*key);
      m.size = parse_u64(c.child_text("Size")).value_or(0);
      m.etag = strip_etag_quotes(c.child_text("ETag"));
      if (auto t = parse_iso8601(c.child_text("LastModified"))) m.last_modified = *t;
      page.objects.push_back(std::move(m));
    } else if (c.name == "CommonPrefixes") {
      auto prefix = decode(c.child_text("Prefix"));
      if (!prefix) return prefix.error();
      page.common_prefixes.push_back(std::move(*prefix));
    }
  }
  if (page.truncated && page.next_continuation_token.empty())
    return make_error(ErrorKind::corrupt, "truncated list page without a NextContinuationToken", "MalformedXML");
  return page;
}

Result<std::vector<BucketInfo>> parse_list_buckets(std::string_view body) {
  auto doc = parse_xml(body);
  if (!doc) return doc.error();
  if (doc->name != "ListAllMyBucketsResult")
    return make_error(ErrorKind::corrupt, "expected <ListAllMyBucketsResult>, got <" + doc->name + ">", "MalformedXML");
  std::vector<BucketInfo> out;
  if (const XmlElement* buckets = doc->child("Buckets")) {
    for (const auto& b : buckets->children) {
      if (b.name != "Bucket") continue;
      BucketInfo info;
      info.name = b.child_text("Name");
      if (auto t = parse_iso8601(b.child_text("CreationDate"))) info.created = *t;
      out.push_back(std::move(info));
    }
  }
  return out;
}

}  // namespace s3

// ================================================================================================
// S3Store
// ================================================================================================
namespace {

using aws::Header;
using aws::Headers;
using aws::HttpRequest;
using aws::HttpResponse;

bool is_2xx(long status) { return status >= 200 && status < 300; }

bool has_control_chars(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

bool is_token(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

Status validate_bucket(const std::string& bucket) {
  if (bucket.empty()) return make_error(ErrorKind::invalid_argument, "empty bucket name", "InvalidBucketName");
  if (bucket.size() > 255 || has_control_chars(bucket) ||
      bucket.find_first_of("/?# ") != std::string::npos)
    return make_error(ErrorKind::invalid_argument, "invalid bucket name '" + bucket.substr(0, 64) + "'",
                      "InvalidBucketName");
  return ok_status();
}

Status validate_ref(const ObjectRef& ref) {
  if (Status s = validate_bucket(ref.bucket); !s) return s;
  if (ref.key.empty()) return make_error(ErrorKind::invalid_argument, "empty object key", "InvalidKey");
  if (ref.key.size() > kMaxKeyBytes)
    return make_error(ErrorKind::invalid_argument,
                      "object key is " + std::to_string(ref.key.size()) + " bytes; S3 allows " +
                          std::to_string(kMaxKeyBytes),
                      "KeyTooLongError");
  return ok_status();
}

// Content-Type, Cache-Control and x-amz-meta-* from PutOptions (line breaks refused: they would
// let a value inject headers).
Status add_object_headers(Headers& headers, const PutOptions& opts) {
  auto add = [&](std::string name, const std::string& value) -> Status {
    if (value.find_first_of("\r\n") != std::string::npos || value.find('\0') != std::string::npos)
      return make_error(ErrorKind::invalid_argument, name + " contains a line break or NUL");
    headers.push_back({std::move(name), value});
    return ok_status();
  };
  if (!opts.content_type.empty())
    if (Status s = add("Content-Type", opts.content_type); !s) return s;
  if (!opts.cache_control.empty())
    if (Status s = add("Cache-Control", opts.cache_control); !s) return s;
  for (const auto& [name, value] : opts.stored_headers)
    if (is_stored_header(name))
      if (Status s = add(name, value); !s) return s;
  for (const auto& [name, value] : opts.user_metadata) {
    if (!is_token(name))
      return make_error(ErrorKind::invalid_argument, "metadata name '" + name + "' is not a valid HTTP header name");
    if (Status s = add("x-amz-meta-" + s3::lower(name), value); !s) return s;
  }
  return ok_status();
}

Status add_condition_headers(Headers& headers, const PutOptions& opts) {
  if (opts.if_none_match_any) headers.push_back({"If-None-Match", "*"});
  if (opts.if_match) {
    if (opts.if_match->find_first_of("\r\n") != std::string::npos)
      return make_error(ErrorKind::invalid_argument, "If-Match value contains a line break");
    const std::string& etag = *opts.if_match;
    headers.push_back({"If-Match", (etag.starts_with('"') || etag == "*") ? etag : "\"" + etag + "\""});
  }
  return ok_status();
}

std::string quoted(const std::string& etag) {
  return etag.starts_with('"') ? etag : "\"" + etag + "\"";
}

std::string attempts_text(int attempts) {
  return std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts");
}

// Reads exactly n bytes (fewer only at the end of the source) from an optional in-memory
// prefix, then the source.
class PartReader {
 public:
  PartReader(const ByteSource& source, std::string prefix) : source_(source), prefix_(std::move(prefix)) {}

  Result<std::size_t> read(char* buf, std::size_t n) {
    std::size_t got = 0;
    if (prefix_pos_ < prefix_.size()) {
      const std::size_t k = std::min(n, prefix_.size() - prefix_pos_);
      std::copy_n(prefix_.data() + prefix_pos_, k, buf);
      prefix_pos_ += k;
      got += k;
      if (prefix_pos_ == prefix_.size()) std::string().swap(prefix_);
    }
    while (got < n && !ended_) {
      auto r = source_(buf + got, n - got);
      if (!r) return r.error();
      if (*r == 0) ended_ = true;
      got += *r;
    }
    total_ += got;
    return got;
  }
  bool ended() const { return ended_ && prefix_pos_ >= prefix_.size(); }
  std::uint64_t total() const { return total_; }

 private:
  const ByteSource& source_;
  std::string prefix_;
  std::size_t prefix_pos_ = 0;
  bool ended_ = false;
  std::uint64_t total_ = 0;
};

}  // namespace

Status S3Config::validate() const {
  auto bad = [](const std::string& what) { return make_error(ErrorKind::invalid_argument, "S3Config: " + what); };
  if (!endpoint.empty() && !endpoint.starts_with("http://") && !endpoint.starts_with("https://"))
    return bad("endpoint must start with http:// or https://, got '" + endpoint + "'");
  if (!endpoint.empty()) {
    const std::string_view rest = std::string_view(endpoint).substr(endpoint.find("://") + 3);
    if (rest.empty() || rest.front() == '/') return bad("endpoint has no host: '" + endpoint + "'");
    const auto slash = rest.find('/');
    if (slash != std::string_view::npos && slash + 1 != rest.size())
      return bad("endpoint must not have a path: '" + endpoint + "'");
  }
  if (region.empty() || region.size() > aws::kMaxScopeFieldLength || has_control_chars(region) ||
      region.find('/') != std::string::npos)
    return bad("region must be a non-empty name like us-east-1");
  if (part_size < kS3MinPartSize || part_size > kS3MaxPartSize)
    return bad("part_size must be between 5 MiB and 5 GiB, got " + std::to_string(part_size));
  if (multipart_threshold > kS3MaxSinglePutSize)
    return bad("multipart_threshold must be at most 5 GiB (the largest single PUT)");
  if (upload_concurrency < 1 || upload_concurrency > kS3MaxUploadConcurrency)
    return bad("upload_concurrency must be between 1 and " + std::to_string(kS3MaxUploadConcurrency));
  if (retry.max_attempts < 1) return bad("retry.max_attempts must be at least 1");
  if ((credentials.access_key_id.empty()) != (credentials.secret_access_key.empty()))
    return bad("credentials need both an access key id and a secret (or neither, for anonymous access)");
  return ok_status();
}

struct S3Store::Impl {
  explicit Impl(const S3Config& config) : config_(config), http_(http_options(config)) {
    signing_.credentials = config.credentials;
    signing_.source = config.credential_source;
    signing_.scope = aws::Scope{config.region, "s3"};
    classifier_ = [](const HttpResponse& r) { return s3::retryable_code(s3::parse_error(r.status, r.body, r.headers).code); };
    std::string endpoint = config.endpoint.empty() ? "https://s3." + config.region + ".amazonaws.com" : config.endpoint;
    while (endpoint.ends_with('/')) endpoint.pop_back();
    const auto sep = endpoint.find("://");
    scheme_ = endpoint.substr(0, sep);
    authority_ = endpoint.substr(sep + 3);
  }

  static aws::HttpClient::Options http_options(const S3Config& config) {
    aws::HttpClient::Options o;
    o.retry = config.retry;
    o.timeouts = config.timeouts;
    o.ca_bundle = config.ca_bundle;
    o.user_agent = config.user_agent;
    return o;
  }

  // Bucket URL (key empty) or object URL, with an optional query (already encoded).
  std::string url(const std::string& bucket, std::string_view key, std::string_view query = {}) const {
    std::string out;
    if (bucket.empty()) {
      out = scheme_ + "://" + authority_ + "/";
    } else if (config_.path_style) {
      out = scheme_ + "://" + authority_ + "/" + aws::uri_encode(bucket, true);
      if (!key.empty()) out += "/" + aws::uri_encode(key, false);
    } else {
      out = scheme_ + "://" + bucket + "." + authority_ + "/" + aws::uri_encode(key, false);
    }
    if (!query.empty()) {
      out += '?';
      out += query;
    }
    return out;
  }

  Result<HttpResponse> send(const HttpRequest& request, const aws::BodySink* sink = nullptr) {
    const bool anonymous = config_.credentials.access_key_id.empty() && !config_.credential_source;
    return http_.send(request, anonymous ? nullptr : &signing_, sink, &classifier_);
  }

  // An S3 error response as an Error: kind from S3's code, the code, and a message naming the
  // operation, the target, S3's message, the status, the request id and the attempts.
  static Error failure(std::string_view op, const std::string& target, const HttpResponse& r) {
    const s3::S3ErrorInfo info = s3::parse_error(r.status, r.body, r.headers);
    std::string msg = std::string(op) + " " + target + ": ";
    msg += info.message.empty() ? info.code : info.message;
    msg += " (HTTP " + std::to_string(r.status) + " " + info.code;
    if (!info.request_id.empty()) msg += ", request id " + info.request_id;
    msg += ", " + attempts_text(r.attempts) + ")";
    return make_error(s3::kind_for(r.status, info.code), msg, info.code);
  }
  static Error prefixed(std::string_view op, const std::string& target, Error e) {
    e.message = std::string(op) + " " + target + ": " + e.message;
    return e;
  }

  Result<PutResult> put_single(const ObjectRef& ref, std::string_view body, const PutOptions& opts);
  Result<PutResult> put_multipart(const ObjectRef& ref, PartReader& reader, std::optional<std::uint64_t> size,
                                  const PutOptions& opts);
  Status abort_upload(const ObjectRef& ref, const std::string& upload_id);
  bool should_retry_unquoted_if_match(const ObjectRef& ref, const std::string& if_match);

  S3Config config_;
  aws::HttpClient http_;
  aws::SigningConfig signing_;
  aws::RetryClassifier classifier_;
  std::string scheme_;
  std::string authority_;
};

Result<std::unique_ptr<S3Store>> S3Store::create(S3Config config) {
  if (Status s = config.validate(); !s) return s.error();
  return std::unique_ptr<S3Store>(new S3Store(std::move(config)));
}

S3Store::S3Store(S3Config config) : config_(std::move(config)), impl_(std::make_unique<Impl>(config_)) {}
S3Store::~S3Store() = default;

std::string S3Store::url_for(const std::string& bucket, std::string_view key) const { return impl_->url(bucket, key); }

// ---- PUT ----------------------------------------------------------------------------------------

Result<PutResult> S3Store::Impl::put_single(const ObjectRef& ref, std::string_view body, const PutOptions& opts) {
  HttpRequest req;
  req.method = "PUT";
  req.url = url(ref.bucket, ref.key);
  if (Status s = add_object_headers(req.headers, opts); !s) return prefixed("PUT", ref.uri(), s.error());
  if (Status s = add_condition_headers(req.headers, opts); !s) return prefixed("PUT", ref.uri(), s.error());
  // Streamed from the caller's view (no copy), but signed with its SHA-256 and rewindable, so
  // the server checks the bytes and a retry resends them.
  std::size_t offset = 0;
  req.body_source = [&](char* buf, std::size_t cap) -> Result<std::size_t> {
    const std::size_t n = std::min(cap, body.size() - offset);
    std::copy_n(body.data() + offset, n, buf);
    offset += n;
    return n;
  };
  req.body_rewind = [&] {
    offset = 0;
    return true;
  };
  req.body_size = body.size();
  req.payload_hash = aws::sha256_hex(body);
  auto r = send(req);
  if (!r) return prefixed("PUT", ref.uri(), r.error());
  if (r->status == 412 && opts.if_match && should_retry_unquoted_if_match(ref, *opts.if_match)) {
    for (auto& h : req.headers)
      if (h.name == "If-Match") h.value = s3::strip_etag_quotes(*opts.if_match);
    offset = 0;
    r = send(req);
    if (!r) return prefixed("PUT", ref.uri(), r.error());
  }
  if (!is_2xx(r->status)) return failure("PUT", ref.uri(), *r);
  return PutResult{s3::strip_etag_quotes(r->header("etag")), r->header("x-amz-version-id")};
}

// RADOS Gateway 16 compares a PUT's If-Match with the bare ETag, so the standard quoted form
// always fails there. After a 412, look: when the object's ETag is the one asked for, the 412
// came from the quotes, and the request is sent once more with the bare ETag (which the server
// still checks, so a concurrent change is still refused).
bool S3Store::Impl::should_retry_unquoted_if_match(const ObjectRef& ref, const std::string& if_match) {
  HttpRequest head;
  head.method = "HEAD";
  head.url = url(ref.bucket, ref.key);
  auto r = send(head);
  return r && is_2xx(r->status) && s3::strip_etag_quotes(r->header("etag")) == s3::strip_etag_quotes(if_match);
}

Status S3Store::Impl::abort_upload(const ObjectRef& ref, const std::string& upload_id) {
  HttpRequest req;
  req.method = "DELETE";
  req.url = url(ref.bucket, ref.key, "uploadId=" + aws::uri_encode(upload_id, true));
  auto r = send(req);
  if (!r) return r.error();
  if (!is_2xx(r->status) && r->status != 404) return failure("AbortMultipartUpload", ref.uri(), *r);
  return ok_status();
}

Result<PutResult> S3Store::Impl::put_multipart(const ObjectRef& ref, PartReader& reader,
                                               std::optional<std::uint64_t> size, const PutOptions& opts) {
  const std::string target = ref.uri();
  if (size && *size > kS3MaxObjectSize)
    return make_error(ErrorKind::too_large, "PUT " + target + ": " + std::to_string(*size) + " bytes is over S3's 5 TiB limit",
                      "EntityTooLarge");
  // Parts must be few enough for S3's 10,000-part limit: grow them for large known sizes.
  std::uint64_t part_size = config_.part_size;
  if (size && *size > part_size * kS3MaxParts) part_size = (*size + kS3MaxParts - 1) / kS3MaxParts;

  // Conditional uploads are checked before any part is sent (so a doomed upload costs one
  // HEAD), and the condition is sent again with CompleteMultipartUpload, where servers that
  // support it (AWS S3) make it hold under a race. Servers that ignore conditions there (RADOS
  // Gateway 16) only get the check before the upload.
  if (opts.if_none_match_any || opts.if_match) {
    HttpRequest head;
    head.method = "HEAD";
    head.url = url(ref.bucket, ref.key);
    auto r = send(head);
    if (!r) return prefixed("PUT", target, r.error());
    if (!is_2xx(r->status) && r->status != 404) return failure("PUT", target, *r);
    if (opts.if_none_match_any && is_2xx(r->status))
      return make_error(ErrorKind::precondition_failed,
                        "PUT " + target + ": the object exists and If-None-Match: * was asked", "PreconditionFailed");
    if (opts.if_match && (!is_2xx(r->status) ||
                          s3::strip_etag_quotes(r->header("etag")) != s3::strip_etag_quotes(*opts.if_match)))
      return make_error(ErrorKind::precondition_failed,
                        "PUT " + target + ": the object's ETag is not " + *opts.if_match + " (If-Match)",
                        "PreconditionFailed");
  }

  // 1. CreateMultipartUpload.
  std::string upload_id;
  {
    HttpRequest req;
    req.method = "POST";
    req.url = url(ref.bucket, ref.key, "uploads");
    if (Status s = add_object_headers(req.headers, opts); !s) return prefixed("PUT", target, s.error());
    auto r = send(req);
    if (!r) return prefixed("CreateMultipartUpload", target, r.error());
    if (!is_2xx(r->status)) return failure("CreateMultipartUpload", target, *r);
    auto doc = s3::parse_xml(r->body);
    if (!doc) return prefixed("CreateMultipartUpload", target, doc.error());
    upload_id = doc->child_text("UploadId");
    if (upload_id.empty())
      return make_error(ErrorKind::internal, "CreateMultipartUpload " + target + ": no UploadId in the answer");
  }

  // 2. Parts: read in order here, uploaded by worker threads, at most `concurrency` in memory.
  struct Part {
    std::uint32_t number;
    std::string bytes;
  };
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Part> queue;
  std::size_t outstanding = 0;  // read but not yet uploaded
  bool done_reading = false;
  std::optional<Error> failed;
  std::vector<std::string> etags;  // index = part number - 1

  auto upload_part = [&](Part& part) -> Result<std::string> {
    HttpRequest req;
    req.method = "PUT";
    req.url = url(ref.bucket, ref.key,
                  "partNumber=" + std::to_string(part.number) + "&uploadId=" + aws::uri_encode(upload_id, true));
    req.body = std::move(part.bytes);  // in memory: signed with its SHA-256 and retryable
    auto r = send(req);
    if (!r) return prefixed("UploadPart " + std::to_string(part.number), target, r.error());
    if (!is_2xx(r->status)) return failure("UploadPart " + std::to_string(part.number), target, *r);
    std::string etag = r->header("etag");
    if (etag.empty())
      return make_error(ErrorKind::internal, "UploadPart " + std::to_string(part.number) + " " + target + ": no ETag");
    return etag;
  };
  auto worker = [&] {
    for (;;) {
      Part part;
      {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return failed || !queue.empty() || done_reading; });
        if (failed || queue.empty()) return;
        part = std::move(queue.front());
        queue.pop_front();
      }
      auto etag = upload_part(part);
      {
        std::lock_guard lock(mutex);
        --outstanding;
        if (!etag) {
          if (!failed) failed = etag.error();
        } else {
          if (etags.size() < part.number) etags.resize(part.number);
          etags[part.number - 1] = std::move(*etag);
        }
      }
      cv.notify_all();
    }
  };

  const auto concurrency = static_cast<std::size_t>(config_.upload_concurrency);
  std::vector<std::thread> workers;
  workers.reserve(concurrency);
  for (std::size_t i = 0; i < concurrency; ++i) workers.emplace_back(worker);

  std::uint32_t parts = 0;
  std::optional<Error> read_error;
  for (;;) {
    {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return failed || outstanding < concurrency; });
      if (failed) break;
    }
    if (parts == kS3MaxParts) {
      if (reader.ended()) break;
      // Unknown size and more than 10,000 parts of part_size: check for one more byte.
      char probe;
      auto more = reader.read(&probe, 1);
      if (!more) {
        read_error = more.error();
        break;
      }
      if (*more == 0) break;
      read_error = make_error(ErrorKind::too_large,
                              "the body needs more than " + std::to_string(kS3MaxParts) + " parts of " +
                                  std::to_string(part_size) + " bytes; raise part_size or pass the size",
                              "EntityTooLarge");
      break;
    }
    if (reader.ended() && parts > 0) break;
    std::string buffer(static_cast<std::size_t>(part_size), '\0');
    auto got = reader.read(buffer.data(), buffer.size());
    if (!got) {
      read_error = got.error();
      break;
    }
    if (*got == 0 && parts > 0) break;
    buffer.resize(*got);
    {
      std::lock_guard lock(mutex);
      queue.push_back(Part{++parts, std::move(buffer)});
      ++outstanding;
    }
    cv.notify_all();
    if (*got < part_size) break;  // the source ended inside this part
  }
  if (!read_error && size && reader.total() != *size)
    read_error = make_error(ErrorKind::invalid_argument, "the body source gave " + std::to_string(reader.total()) +
                                                             " bytes, not the " + std::to_string(*size) + " announced");
  {
    std::lock_guard lock(mutex);
    done_reading = true;
    if (read_error && !failed) failed = prefixed("PUT", target, *read_error);
  }
  cv.notify_all();
  for (auto& w : workers) w.join();

  auto abort_with = [&](Error e) -> Error {
    if (Status s = abort_upload(ref, upload_id); !s)
      e.message += "; aborting the upload also failed (" + s.error().message + ")";
    return e;
  };
  if (failed) return abort_with(std::move(*failed));

  // 3. CompleteMultipartUpload (the object appears only now).
  std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (std::uint32_t i = 0; i < parts; ++i) {
    xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + s3::xml_escape(etags[i]) +
           "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  HttpRequest req;
  req.method = "POST";
  req.url = url(ref.bucket, ref.key, "uploadId=" + aws::uri_encode(upload_id, true));
  req.headers.push_back({"Content-Type", "application/xml"});
  if (Status s = add_condition_headers(req.headers, opts); !s) return abort_with(prefixed("PUT", target, s.error()));
  req.body = std::move(xml);
  // A 200 can still carry an <Error> (S3 starts answering before the assembly ends); retry
  // those that say so, like any 5xx.
  for (int attempt = 1;; ++attempt) {
    auto r = send(req);
    if (!r) return abort_with(prefixed("CompleteMultipartUpload", target, r.error()));
    if (!is_2xx(r->status)) return abort_with(failure("CompleteMultipartUpload", target, *r));
    auto doc = s3::parse_xml(r->body);
    if (!doc) return abort_with(prefixed("CompleteMultipartUpload", target, doc.error()));
    if (doc->name == "Error") {
      if (s3::retryable_code(doc->child_text("Code")) && attempt < config_.retry.max_attempts) continue;
      return abort_with(failure("CompleteMultipartUpload", target, *r));
    }
    std::string etag = doc->child_text("ETag");
    if (etag.empty()) etag = r->header("etag");
    if (etag.empty()) {
      // RADOS Gateway 16 answers with an empty <ETag>: ask the object itself.
      HttpRequest head;
      head.method = "HEAD";
      head.url = url(ref.bucket, ref.key);
      if (auto h = send(head); h && is_2xx(h->status)) etag = h->header("etag");
    }
    return PutResult{s3::strip_etag_quotes(etag), r->header("x-amz-version-id")};
  }
}

Result<PutResult> S3Store::put(const ObjectRef& ref, std::string_view bytes, const PutOptions& opts) {
  if (Status s = validate_ref(ref); !s) return s.error();
  if (bytes.size() <= config_.multipart_threshold) return impl_->put_single(ref, bytes, opts);
  std::size_t offset = 0;
  const ByteSource source = [&](char* buf, std::size_t cap) -> Result<std::size_t> {
    const std::size_t n = std::min(cap, bytes.size() - offset);
    std::copy_n(bytes.data() + offset, n, buf);
    offset += n;
    return n;
  };
  PartReader reader(source, {});
  return impl_->put_multipart(ref, reader, bytes.size(), opts);
}

Result<PutResult> S3Store::put_stream(const ObjectRef& ref, const ByteSource& source, std::optional<std::uint64_t> size,
                                      const PutOptions& opts) {
  if (Status s = validate_ref(ref); !s) return s.error();
  if (!source) return make_error(ErrorKind::invalid_argument, "PUT " + ref.uri() + ": no body source");
  if (size && *size > config_.multipart_threshold) {
    PartReader reader(source, {});
    return impl_->put_multipart(ref, reader, size, opts);
  }
  // Small or unknown size: read up to the threshold (plus one byte to tell) into memory.
  const std::uint64_t want = size ? *size + 1 : config_.multipart_threshold + 1;
  std::string buffer(static_cast<std::size_t>(want), '\0');
  PartReader head_reader(source, {});
  auto got = head_reader.read(buffer.data(), buffer.size());
  if (!got) return Impl::prefixed("PUT", ref.uri(), got.error());
  buffer.resize(*got);
  if (size && buffer.size() != *size)
    return make_error(ErrorKind::invalid_argument, "PUT " + ref.uri() + ": the body source gave " +
                                                       (buffer.size() > *size ? "more than" : std::to_string(buffer.size()) + " bytes, not") +
                                                       " the " + std::to_string(*size) + " bytes announced");
  if (buffer.size() <= config_.multipart_threshold) return impl_->put_single(ref, buffer, opts);
  PartReader reader(source, std::move(buffer));
  return impl_->put_multipart(ref, reader, std::nullopt, opts);
}

// ---- GET / HEAD / DELETE ---------------------------------------------------------------------

Result<ObjectMeta> S3Store::get(const ObjectRef& ref, const ByteSink& sink, const GetOptions& opts) {
  if (Status s = validate_ref(ref); !s) return s.error();
  const std::string target = ref.uri();
  for (const auto* v : {&opts.if_match, &opts.if_none_match})
    if (*v && (*v)->find_first_of("\r\n") != std::string::npos)
      return make_error(ErrorKind::invalid_argument, "GET " + target + ": condition contains a line break");

  std::optional<ObjectMeta> meta;
  std::uint64_t delivered = 0;
  // What the first response said about the bytes it carries (absolute offsets), for resuming.
  std::uint64_t abs_first = 0;
  std::optional<std::uint64_t> abs_last;

  HttpRequest req;
  req.method = "GET";
  req.url = impl_->url(ref.bucket, ref.key);
  auto base_headers = [&]() {
    Headers h;
    if (opts.if_none_match) h.push_back({"If-None-Match", quoted(*opts.if_none_match)});
    return h;
  };
  req.headers = base_headers();
  if (opts.range) req.headers.push_back({"Range", s3::range_header(*opts.range)});
  if (opts.if_match) req.headers.push_back({"If-Match", quoted(*opts.if_match)});

  req.on_response_headers = [&](const HttpResponse& r) -> Status {
    if (meta) return ok_status();  // a resumed transfer: the first response's metadata stands
    ObjectMeta m = s3::meta_from_headers(r.headers);
    std::uint64_t length = 0;
    for (const auto& h : r.headers)
      if (h.name == "content-length") length = std::strtoull(h.value.c_str(), nullptr, 10);
    if (opts.max_bytes && length > opts.max_bytes)
      return make_error(ErrorKind::too_large, target + " is " + std::to_string(length) + " bytes, over the cap of " +
                                                  std::to_string(opts.max_bytes));
    // Content-Range: bytes first-last/total
    const std::string range = r.header("content-range");
    if (r.status == 206 && range.starts_with("bytes ")) {
      const auto dash = range.find('-'), slash = range.find('/');
      if (dash != std::string::npos && slash != std::string::npos) {
        abs_first = std::strtoull(range.c_str() + 6, nullptr, 10);
        abs_last = std::strtoull(range.c_str() + dash + 1, nullptr, 10);
      }
    } else if (length > 0) {
      abs_first = 0;
      abs_last = length - 1;
    }
    meta = std::move(m);
    return ok_status();
  };
  const aws::BodySink counting = [&](std::string_view chunk) -> Status {
    if (opts.max_bytes && delivered + chunk.size() > opts.max_bytes)
      return make_error(ErrorKind::too_large, target + " is larger than the cap of " + std::to_string(opts.max_bytes) + " bytes");
    if (Status s = sink(chunk); !s) return s;
    delivered += chunk.size();
    return ok_status();
  };

  for (int resumes = 0;; ++resumes) {
    auto r = impl_->send(req, &counting);
    if (!r) {
      // A broken transfer after some bytes: resume the rest of the same version.
      const bool can_resume = r.error().kind == ErrorKind::unavailable && meta && delivered > 0 && abs_last &&
                              !meta->etag.empty() && resumes + 1 < config_.retry.max_attempts;
      if (!can_resume) return Impl::prefixed("GET", target, r.error());
      req.headers = base_headers();
      req.headers.push_back({"Range", "bytes=" + std::to_string(abs_first + delivered) + "-" + std::to_string(*abs_last)});
      req.headers.push_back({"If-Match", quoted(meta->etag)});
      continue;
    }
    if (!is_2xx(r->status)) return Impl::failure("GET", target, *r);
    if (!meta) meta = s3::meta_from_headers(r->headers);  // empty body: the callback never ran
    return std::move(*meta);
  }
}

Result<ObjectMeta> S3Store::head(const ObjectRef& ref) {
  if (Status s = validate_ref(ref); !s) return s.error();
  HttpRequest req;
  req.method = "HEAD";
  req.url = impl_->url(ref.bucket, ref.key);
  auto r = impl_->send(req);
  if (!r) return Impl::prefixed("HEAD", ref.uri(), r.error());
  if (!is_2xx(r->status)) return Impl::failure("HEAD", ref.uri(), *r);
  ObjectMeta meta = s3::meta_from_headers(r->headers);
  meta.key = ref.key;
  return meta;
}

Status S3Store::remove(const ObjectRef& ref) {
  if (Status s = validate_ref(ref); !s) return s.error();
  HttpRequest req;
  req.method = "DELETE";
  req.url = impl_->url(ref.bucket, ref.key);
  auto r = impl_->send(req);
  if (!r) return Impl::prefixed("DELETE", ref.uri(), r.error());
  if (is_2xx(r->status)) return ok_status();
  Error e = Impl::failure("DELETE", ref.uri(), *r);
  if (e.code == "NoSuchKey") return ok_status();  // deleting a missing key succeeds, as in S3
  return e;
}

// ---- LIST / COPY --------------------------------------------------------------------------------

Result<ListPage> S3Store::list(const std::string& bucket, const ListOptions& opts) {
  if (Status s = validate_bucket(bucket); !s) return s.error();
  if (opts.max_keys < 1 || opts.max_keys > 1000)
    return make_error(ErrorKind::invalid_argument, "list s3://" + bucket + ": max_keys must be 1..1000, got " +
                                                       std::to_string(opts.max_keys));
  std::string query = "list-type=2&encoding-type=url&max-keys=" + std::to_string(opts.max_keys);
  auto param = [&](const char* name, const std::string& value) {
    if (!value.empty()) query += std::string("&") + name + "=" + aws::uri_encode(value, true);
  };
  param("prefix", opts.prefix);
  param("delimiter", opts.delimiter);
  param("continuation-token", opts.continuation_token);
  param("start-after", opts.start_after);
  HttpRequest req;
  req.method = "GET";
  req.url = impl_->url(bucket, {}, query);
  const std::string target = "s3://" + bucket + "/" + opts.prefix;
  auto r = impl_->send(req);
  if (!r) return Impl::prefixed("LIST", target, r.error());
  if (!is_2xx(r->status)) return Impl::failure("LIST", target, *r);
  auto page = s3::parse_list_objects_v2(r->body);
  if (!page) return Impl::prefixed("LIST", target, page.error());
  return page;
}

Result<PutResult> S3Store::copy(const ObjectRef& from, const ObjectRef& to, bool replace_metadata, const PutOptions& opts) {
  if (Status s = validate_ref(from); !s) return s.error();
  if (Status s = validate_ref(to); !s) return s.error();
  const std::string target = from.uri() + " to " + to.uri();
  HttpRequest req;
  req.method = "PUT";
  req.url = impl_->url(to.bucket, to.key);
  req.headers.push_back({"x-amz-copy-source", "/" + aws::uri_encode(from.bucket, true) + "/" + aws::uri_encode(from.key, false)});
  req.headers.push_back({"x-amz-metadata-directive", replace_metadata ? "REPLACE" : "COPY"});
  if (replace_metadata)
    if (Status s = add_object_headers(req.headers, opts); !s) return Impl::prefixed("COPY", target, s.error());
  if (Status s = add_condition_headers(req.headers, opts); !s) return Impl::prefixed("COPY", target, s.error());
  auto r = impl_->send(req);
  if (!r) return Impl::prefixed("COPY", target, r.error());
  if (!is_2xx(r->status)) return Impl::failure("COPY", target, *r);
  auto doc = s3::parse_xml(r->body);
  if (!doc) return Impl::prefixed("COPY", target, doc.error());
  if (doc->name == "Error") return Impl::failure("COPY", target, *r);  // a 200 that failed late
  return PutResult{s3::strip_etag_quotes(doc->child_text("ETag")), r->header("x-amz-version-id")};
}

// ---- Buckets --------------------------------------------------------------------------------------

Status S3Store::create_bucket(const std::string& bucket) {
  if (Status s = validate_bucket(bucket); !s) return s;
  // S3 in us-east-1 (and RADOS Gateway) answer 200 when the caller already owns the bucket; the
  // interface promises already_exists, so look first. A race with another creator still ends
  // in BucketAlreadyExists / BucketAlreadyOwnedByYou from the server where it reports them.
  auto exists = bucket_exists(bucket);
  if (!exists) return exists.error();
  if (*exists)
    return make_error(ErrorKind::already_exists, "CREATE BUCKET s3://" + bucket + ": the bucket already exists",
                      "BucketAlreadyOwnedByYou");
  HttpRequest req;
  req.method = "PUT";
  req.url = impl_->url(bucket, {});
  if (config_.region != "us-east-1") {
    req.headers.push_back({"Content-Type", "application/xml"});
    req.body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
               s3::xml_escape(config_.region) + "</LocationConstraint></CreateBucketConfiguration>";
  }
  auto r = impl_->send(req);
  if (!r) return Impl::prefixed("CREATE BUCKET", "s3://" + bucket, r.error());
  if (!is_2xx(r->status)) return Impl::failure("CREATE BUCKET", "s3://" + bucket, *r);
  return ok_status();
}

Status S3Store::delete_bucket(const std::string& bucket) {
  if (Status s = validate_bucket(bucket); !s) return s;
  HttpRequest req;
  req.method = "DELETE";
  req.url = impl_->url(bucket, {});
  auto r = impl_->send(req);
  if (!r) return Impl::prefixed("DELETE BUCKET", "s3://" + bucket, r.error());
  if (!is_2xx(r->status)) return Impl::failure("DELETE BUCKET", "s3://" + bucket, *r);
  return ok_status();
}

Result<bool> S3Store::bucket_exists(const std::string& bucket) {
  if (Status s = validate_bucket(bucket); !s) return s.error();
  HttpRequest req;
  req.method = "HEAD";
  req.url = impl_->url(bucket, {});
  auto r = impl_->send(req);
  if (!r) return Impl::prefixed("HEAD BUCKET", "s3://" + bucket, r.error());
  if (is_2xx(r->status)) return true;
  if (r->status == 404) return false;
  return Impl::failure("HEAD BUCKET", "s3://" + bucket, *r);
}

Result<std::vector<BucketInfo>> S3Store::list_buckets() {
  HttpRequest req;
  req.method = "GET";
  req.url = impl_->url({}, {});
  auto r = impl_->send(req);
  if (!r) return Impl::prefixed("LIST BUCKETS", "s3://", r.error());
  if (!is_2xx(r->status)) return Impl::failure("LIST BUCKETS", "s3://", *r);
  auto buckets = s3::parse_list_buckets(r->body);
  if (!buckets) return Impl::prefixed("LIST BUCKETS", "s3://", buckets.error());
  return buckets;
}

}  // namespace thumbflow::storage
