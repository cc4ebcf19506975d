#include "server/s3_xml.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

#include "aws/primitives.hpp"
#include "server/s3_error.hpp"

namespace thumbflow::server {
namespace {

std::string quoted_etag(std::string_view etag) { return "\"" + std::string(etag) + "\""; }

std::string maybe_encode(std::string_view text, bool url_encode) {
  return url_encode ? aws::uri_encode(text, false) : std::string(text);
}

std::tm utc_tm(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 && ch != '\t' && ch != '\n') {
          out += "&#" + std::to_string(c) + ";";
        } else {
          out += ch;
        }
      }
    }
  }
  return out;
}

XmlWriter::XmlWriter() : out_(R"(<?xml version="1.0" encoding="UTF-8"?>)") {}

XmlWriter& XmlWriter::open(std::string_view name, bool with_namespace) {
  out_ += '<';
  out_ += name;
  if (with_namespace) {
    out_ += " xmlns=\"";
    out_ += kS3Namespace;
    out_ += '"';
  }
  out_ += '>';
  open_.emplace_back(name);
  return *this;
}

XmlWriter& XmlWriter::close() {
  if (!open_.empty()) {
    out_ += "</" + open_.back() + ">";
    open_.pop_back();
  }
  return *this;
}

XmlWriter& XmlWriter::element(std::string_view name, std::string_view text) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  out_ += xml_escape(text);
  out_ += "</";
  out_ += name;
  out_ += '>';
  return *this;
}

std::string XmlWriter::finish() {
  while (!open_.empty()) close();
  return std::move(out_);
}

std::string format_iso8601(std::chrono::system_clock::time_point t) {
  const std::tm tm = utc_tm(t);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms < 0 ? ms + 1000 : ms));
  return buf;
}

std::string format_http_date(std::chrono::system_clock::time_point t) {
  const std::tm tm = utc_tm(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays[static_cast<std::size_t>(tm.tm_wday % 7)].data(),
                tm.tm_mday, kMonths[static_cast<std::size_t>(tm.tm_mon % 12)].data(), tm.tm_year + 1900,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  const char* end = nullptr;
  for (const char* format : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y",
                             "%Y-%m-%dT%H:%M:%S"}) {
    tm = std::tm{};
    end = strptime(s.c_str(), format, &tm);
    if (end != nullptr) break;
  }
  if (end == nullptr) return std::nullopt;
  // ISO-8601: optional fraction, then Z.
  std::string_view rest(end);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  if (rest == "Z") rest = {};
  if (!rest.empty()) return std::nullopt;
  const std::time_t secs = timegm(&tm);
  if (secs == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(secs);
}

std::string list_buckets_xml(const std::vector<storage::BucketInfo>& buckets, const Owner& owner) {
  XmlWriter w;
  w.open("ListAllMyBucketsResult", true);
  w.open("Owner").element("ID", owner.id).element("DisplayName", owner.display_name).close();
  w.open("Buckets");
  for (const auto& b : buckets)
    w.open("Bucket").element("Name", b.name).element("CreationDate", format_iso8601(b.created)).close();
  w.close();
  return w.finish();
}

std::string list_objects_xml(const ListObjectsResult& r, const Owner& owner) {
  XmlWriter w;
  const bool enc = r.url_encode;
  w.open("ListBucketResult", true);
  w.element("Name", r.bucket);
  w.element("Prefix", maybe_encode(r.prefix, enc));
  if (r.v2) {
    if (!r.continuation_token.empty()) w.element("ContinuationToken", r.continuation_token);
    if (!r.start_after.empty()) w.element("StartAfter", maybe_encode(r.start_after, enc));
    w.element("KeyCount", std::to_string(r.page.objects.size() + r.page.common_prefixes.size()));
  } else {
    w.element("Marker", maybe_encode(r.marker, enc));
    if (!r.next_marker.empty()) w.element("NextMarker", maybe_encode(r.next_marker, enc));
  }
  w.element("MaxKeys", std::to_string(r.max_keys));
  if (!r.delimiter.empty()) w.element("Delimiter", maybe_encode(r.delimiter, enc));
  if (enc) w.element("EncodingType", "url");
  w.element("IsTruncated", r.page.truncated ? "true" : "false");
  if (r.v2 && r.page.truncated) w.element("NextContinuationToken", r.page.next_continuation_token);
  for (const auto& o : r.page.objects) {
    w.open("Contents");
    w.element("Key", maybe_encode(o.key, enc));
    w.element("LastModified", format_iso8601(o.last_modified));
    w.element("ETag", quoted_etag(o.etag));
    w.element("Size", std::to_string(o.size));
    if (!r.v2 || r.fetch_owner)
      w.open("Owner").element("ID", owner.id).element("DisplayName", owner.display_name).close();
    w.element("StorageClass", "STANDARD");
    w.close();
  }
  for (const auto& p : r.page.common_prefixes) w.open("CommonPrefixes").element("Prefix", maybe_encode(p, enc)).close();
  return w.finish();
}

std::string initiate_multipart_xml(std::string_view bucket, std::string_view key, std::string_view upload_id) {
  XmlWriter w;
  w.open("InitiateMultipartUploadResult", true);
  w.element("Bucket", bucket).element("Key", key).element("UploadId", upload_id);
  return w.finish();
}

std::string complete_multipart_xml(std::string_view location, std::string_view bucket, std::string_view key,
                                   std::string_view etag) {
  XmlWriter w;
  w.open("CompleteMultipartUploadResult", true);
  w.element("Location", location).element("Bucket", bucket).element("Key", key).element("ETag", quoted_etag(etag));
  return w.finish();
}

std::string copy_object_xml(std::string_view etag, std::chrono::system_clock::time_point last_modified) {
  XmlWriter w;
  w.open("CopyObjectResult", true);
  w.element("LastModified", format_iso8601(last_modified)).element("ETag", quoted_etag(etag));
  return w.finish();
}

std::string copy_part_xml(std::string_view etag, std::chrono::system_clock::time_point last_modified) {
  XmlWriter w;
  w.open("CopyPartResult", true);
  w.element("LastModified", format_iso8601(last_modified)).element("ETag", quoted_etag(etag));
  return w.finish();
}

std::string list_parts_xml(const ListPartsResult& r, const Owner& owner) {
  XmlWriter w;
  w.open("ListPartsResult", true);
  w.element("Bucket", r.bucket).element("Key", r.key).element("UploadId", r.upload_id);
  w.open("Initiator").element("ID", owner.id).element("DisplayName", owner.display_name).close();
  w.open("Owner").element("ID", owner.id).element("DisplayName", owner.display_name).close();
  w.element("StorageClass", "STANDARD");
  w.element("PartNumberMarker", std::to_string(r.part_number_marker));
  if (r.truncated) w.element("NextPartNumberMarker", std::to_string(r.next_part_number_marker));
  w.element("MaxParts", std::to_string(r.max_parts));
  w.element("IsTruncated", r.truncated ? "true" : "false");
  for (const auto& p : r.parts) {
    w.open("Part");
    w.element("PartNumber", std::to_string(p.number));
    w.element("LastModified", format_iso8601(p.last_modified));
    w.element("ETag", quoted_etag(p.etag));
    w.element("Size", std::to_string(p.size));
    w.close();
  }
  return w.finish();
}

std::string list_uploads_xml(const ListUploadsResult& r, const Owner& owner) {
  XmlWriter w;
  const bool enc = r.url_encode;
  w.open("ListMultipartUploadsResult", true);
  w.element("Bucket", r.bucket);
  w.element("KeyMarker", maybe_encode(r.key_marker, enc));
  w.element("UploadIdMarker", r.upload_id_marker);
  if (r.truncated) {
    w.element("NextKeyMarker", maybe_encode(r.next_key_marker, enc));
    w.element("NextUploadIdMarker", r.next_upload_id_marker);
  }
  if (!r.prefix.empty()) w.element("Prefix", maybe_encode(r.prefix, enc));
  if (!r.delimiter.empty()) w.element("Delimiter", maybe_encode(r.delimiter, enc));
  if (enc) w.element("EncodingType", "url");
  w.element("MaxUploads", std::to_string(r.max_uploads));
  w.element("IsTruncated", r.truncated ? "true" : "false");
  for (const auto& u : r.uploads) {
    w.open("Upload");
    w.element("Key", maybe_encode(u.key, enc));
    w.element("UploadId", u.upload_id);
    w.open("Initiator").element("ID", owner.id).element("DisplayName", owner.display_name).close();
    w.open("Owner").element("ID", owner.id).element("DisplayName", owner.display_name).close();
    w.element("StorageClass", "STANDARD");
    w.element("Initiated", format_iso8601(u.initiated));
    w.close();
  }
  for (const auto& p : r.common_prefixes) w.open("CommonPrefixes").element("Prefix", maybe_encode(p, enc)).close();
  return w.finish();
}

std::string delete_result_xml(const std::vector<DeleteOutcome>& outcomes, bool quiet) {
  XmlWriter w;
  w.open("DeleteResult", true);
  for (const auto& o : outcomes) {
    if (o.code.empty()) {
      if (!quiet) w.open("Deleted").element("Key", o.key).close();
    } else {
      w.open("Error").element("Key", o.key).element("Code", o.code).element("Message", o.message).close();
    }
  }
  return w.finish();
}

std::string error_xml(std::string_view code, std::string_view message, std::string_view resource,
                      std::string_view request_id, const std::vector<std::pair<std::string, std::string>>& details) {
  XmlWriter w;
  w.open("Error");
  w.element("Code", code).element("Message", message);
  for (const auto& [name, value] : details) w.element(name, value);
  if (!resource.empty()) w.element("Resource", resource);
  w.element("RequestId", request_id);
  return w.finish();
}

std::string location_xml(std::string_view region) {
  // us-east-1 is written as an empty constraint, as S3 does.
  XmlWriter w;
  w.open("LocationConstraint", true);
  std::string out = w.finish();
  if (region != "us-east-1") {
    out.resize(out.size() - std::string_view("</LocationConstraint>").size());
    out += xml_escape(region) + "</LocationConstraint>";
  }
  return out;
}

std::string versioning_xml() {
  XmlWriter w;
  w.open("VersioningConfiguration", true);
  return w.finish();
}

// ---- The reader ------------------------------------------------------------------------------
const XmlElement* XmlElement::child(std::string_view local_name) const {
  for (const auto& c : children)
    if (c.name == local_name) return &c;
  return nullptr;
}

namespace {

Error malformed(std::string why) {
  return s3_failure("MalformedXML",
                    "The XML you provided was not well-formed or did not validate against our published schema: " +
                        std::move(why));
}

bool is_name_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == ':' || u >= 0x80;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

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

class Reader {
 public:
  Reader(std::string_view doc, const XmlLimits& limits) : s_(doc), limits_(limits) {}

  Result<XmlElement> document() {
    if (s_.size() > limits_.max_bytes)
      return malformed("the document is larger than " + std::to_string(limits_.max_bytes) + " bytes");
    // XML allows no NUL character in any form; &#0; is refused below, so the raw byte is too
    // (otherwise a key with a NUL would parse, and written back with xml_escape, would not).
    if (const auto nul = s_.find('\0'); nul != std::string_view::npos)
      return malformed("NUL byte at offset " + std::to_string(nul) + " (XML allows none)");
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    if (auto st = misc(); !st) return st.error();
    if (pos_ >= s_.size() || s_[pos_] != '<') return malformed("no root element");
    XmlElement root;
    if (auto st = element(root, 1); !st) return st.error();
    if (auto st = misc(); !st) return st.error();
    if (pos_ != s_.size()) return malformed("content after the root element");
    return root;
  }

 private:
  bool starts(std::string_view what) const { return s_.substr(pos_, what.size()) == what; }

  // Whitespace, comments and processing instructions (the prolog and after the root).
  Status misc() {
    for (;;) {
      while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
      if (starts("<?")) {
        auto end = s_.find("?>", pos_ + 2);
        if (end == std::string_view::npos) return malformed("unterminated processing instruction");
        pos_ = end + 2;
      } else if (starts("<!--")) {
        if (auto st = comment(); !st) return st;
      } else if (starts("<!")) {
        return malformed("DOCTYPE and other declarations are not accepted");
      } else {
        return ok_status();
      }
    }
  }

  Status comment() {
    auto end = s_.find("-->", pos_ + 4);
    if (end == std::string_view::npos) return malformed("unterminated comment");
    pos_ = end + 3;
    return ok_status();
  }

  Result<std::string> name() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
    if (pos_ == start) return malformed("expected a name at offset " + std::to_string(start));
    std::string_view n = s_.substr(start, pos_ - start);
    if (auto colon = n.rfind(':'); colon != std::string_view::npos) n.remove_prefix(colon + 1);
    if (n.empty()) return malformed("empty local name at offset " + std::to_string(start));
    return std::string(n);
  }

  Status reference(std::string& out) {
    const auto end = s_.find(';', pos_);
    if (end == std::string_view::npos || end - pos_ > 12) return malformed("bad entity reference");
    const std::string_view ref = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    if (ref == "lt") out += '<';
    else if (ref == "gt") out += '>';
    else if (ref == "amp") out += '&';
    else if (ref == "quot") out += '"';
    else if (ref == "apos") out += '\'';
    else if (ref.size() > 1 && ref[0] == '#') {
      std::uint32_t cp = 0;
      const bool hex = ref[1] == 'x';
      const std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return malformed("empty character reference");
      for (char c : digits) {
        int v = -1;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (hex && c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F') v = c - 'A' + 10;
        if (v < 0) return malformed("bad character reference");
        cp = cp * (hex ? 16u : 10u) + static_cast<std::uint32_t>(v);
        if (cp > 0x10FFFF) return malformed("character reference out of range");
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return malformed("character reference out of range");
      append_utf8(out, cp);
    } else {
      return malformed("unknown entity '&" + std::string(ref) + ";' (only the predefined ones are accepted)");
    }
    return ok_status();
  }

  Status element(XmlElement& el, std::size_t depth) {
    if (depth > limits_.max_depth) return malformed("nesting deeper than " + std::to_string(limits_.max_depth));
    if (++elements_ > limits_.max_elements)
      return malformed("more than " + std::to_string(limits_.max_elements) + " elements");
    ++pos_;  // '<'
    const std::size_t name_start = pos_;
    auto n = name();
    if (!n) return n.error();
    el.name = std::move(*n);
    const std::string_view qname = s_.substr(name_start, pos_ - name_start);
    // Attributes: parsed for well-formedness, ignored (xmlns and friends).
    for (;;) {
      const std::size_t before = pos_;
      while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
      if (pos_ >= s_.size()) return malformed("unterminated start tag <" + el.name + ">");
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      if (starts("/>")) {
        pos_ += 2;
        return ok_status();
      }
      if (pos_ == before) return malformed("expected white space before an attribute");
      if (auto a = name(); !a) return a.error();
      while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
      if (pos_ >= s_.size() || s_[pos_] != '=') return malformed("expected '=' in an attribute");
      ++pos_;
      while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) return malformed("unquoted attribute value");
      const char quote = s_[pos_];
      const auto end = s_.find(quote, pos_ + 1);
      if (end == std::string_view::npos) return malformed("unterminated attribute value");
      if (s_.substr(pos_ + 1, end - pos_ - 1).find('<') != std::string_view::npos)
        return malformed("'<' in an attribute value");
      pos_ = end + 1;
    }
    // Content.
    for (;;) {
      if (pos_ >= s_.size()) return malformed("element <" + el.name + "> is not closed");
      const char c = s_[pos_];
      if (c == '&') {
        if (auto st = reference(el.text); !st) return st;
      } else if (c != '<') {
        if (c == '>' && s_.substr(pos_ >= 2 ? pos_ - 2 : 0, 2) == "]]") return malformed("']]>' in text");
        el.text += c;
        ++pos_;
      } else if (starts("</")) {
        pos_ += 2;
        const std::size_t start = pos_;
        while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
        if (s_.substr(start, pos_ - start) != qname)
          return malformed("</" + std::string(s_.substr(start, std::min<std::size_t>(pos_ - start, 64))) +
                           "> does not close <" + el.name + ">");
        while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
        if (pos_ >= s_.size() || s_[pos_] != '>') return malformed("unterminated end tag");
        ++pos_;
        return ok_status();
      } else if (starts("<!--")) {
        if (auto st = comment(); !st) return st;
      } else if (starts("<![CDATA[")) {
        const auto end = s_.find("]]>", pos_ + 9);
        if (end == std::string_view::npos) return malformed("unterminated CDATA section");
        el.text.append(s_.substr(pos_ + 9, end - pos_ - 9));
        pos_ = end + 3;
      } else if (starts("<?")) {
        const auto end = s_.find("?>", pos_ + 2);
        if (end == std::string_view::npos) return malformed("unterminated processing instruction");
        pos_ = end + 2;
      } else if (starts("<!")) {
        return malformed("declarations are not accepted inside elements");
      } else {
        el.children.emplace_back();
        if (auto st = element(el.children.back(), depth + 1); !st) return st;
      }
    }
  }

  std::string_view s_;
  const XmlLimits& limits_;
  std::size_t pos_ = 0;
  std::size_t elements_ = 0;
};

bool only_space(std::string_view text) { return std::all_of(text.begin(), text.end(), is_space); }

std::string_view trim(std::string_view t) {
  while (!t.empty() && is_space(t.front())) t.remove_prefix(1);
  while (!t.empty() && is_space(t.back())) t.remove_suffix(1);
  return t;
}

std::string strip_quotes(std::string_view etag) {
  etag = trim(etag);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  // Some clients send the entity form.
  if (etag.size() >= 12 && etag.substr(0, 6) == "&quot;" && etag.substr(etag.size() - 6) == "&quot;")
    etag = etag.substr(6, etag.size() - 12);
  return std::string(etag);
}

}  // namespace

Result<XmlElement> parse_xml(std::string_view document, const XmlLimits& limits) {
  return Reader(document, limits).document();
}

Result<std::vector<CompletedPart>> parse_complete_multipart_upload(std::string_view body, std::size_t max_parts,
                                                                   const XmlLimits& limits) {
  auto root = parse_xml(body, limits);
  if (!root) return root.error();
  if (root->name != "CompleteMultipartUpload") return malformed("the root element must be CompleteMultipartUpload");
  std::vector<CompletedPart> parts;
  for (const auto& part : root->children) {
    if (part.name != "Part") continue;
    const XmlElement* number = part.child("PartNumber");
    const XmlElement* etag = part.child("ETag");
    if (!number || !etag) return malformed("each Part needs a PartNumber and an ETag");
    const std::string_view digits = trim(number->text);
    if (digits.empty() || digits.size() > 5 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return s3_failure("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
    int n = 0;
    for (char c : digits) n = n * 10 + (c - '0');
    if (n < 1 || n > 10000)
      return s3_failure("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
    if (parts.size() == max_parts) return malformed("more than " + std::to_string(max_parts) + " parts");
    parts.push_back({n, strip_quotes(etag->text)});
  }
  if (parts.empty()) return malformed("CompleteMultipartUpload lists no parts");
  return parts;
}

Result<DeleteRequest> parse_delete_objects(std::string_view body, std::size_t max_keys, const XmlLimits& limits) {
  auto root = parse_xml(body, limits);
  if (!root) return root.error();
  if (root->name != "Delete") return malformed("the root element must be Delete");
  DeleteRequest req;
  for (const auto& child : root->children) {
    if (child.name == "Quiet") {
      const std::string_view v = trim(child.text);
      if (v != "true" && v != "false") return malformed("Quiet must be true or false");
      req.quiet = v == "true";
    } else if (child.name == "Object") {
      const XmlElement* key = child.child("Key");
      if (!key) return malformed("each Object needs a Key");
      if (req.keys.size() == max_keys) return malformed("more than " + std::to_string(max_keys) + " keys");
      req.keys.push_back(key->text);
    }
  }
  if (req.keys.empty()) return malformed("Delete lists no objects");
  return req;
}

Result<std::string> parse_create_bucket_configuration(std::string_view body, const XmlLimits& limits) {
  if (only_space(body)) return std::string{};
  auto root = parse_xml(body, limits);
  if (!root) return root.error();
  if (root->name != "CreateBucketConfiguration") return malformed("the root element must be CreateBucketConfiguration");
  const XmlElement* loc = root->child("LocationConstraint");
  return loc ? std::string(trim(loc->text)) : std::string{};
}

}  // namespace thumbflow::server
