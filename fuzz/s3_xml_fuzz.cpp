// S3 XML request bodies through the tiny reader (server/s3_xml.hpp). The first byte picks
//   0  parse_xml with small limits     1  parse_complete_multipart_upload
//   2  parse_delete_objects            3  parse_create_bucket_configuration
// Checks: a parsed tree respects the limits it was given (depth, element count); parsed parts
// have numbers 1..10000 and there are at most max_parts of them, likewise keys; and a parsed
// CompleteMultipartUpload or Delete, written back with xml_escape, parses to the same parts or
// keys (the reader and the escaper agree on every character).
#include <string>

#include "fuzz_check.hpp"
#include "server/s3_xml.hpp"

using namespace thumbflow;
using namespace thumbflow::server;

namespace {

constexpr std::size_t kMaxParts = 64;
constexpr std::size_t kMaxKeys = 64;

void measure(const XmlElement& e, std::size_t depth, std::size_t& max_depth, std::size_t& count) {
  ++count;
  if (depth > max_depth) max_depth = depth;
  FUZZ_CHECK(!e.name.empty());
  for (const auto& c : e.children) measure(c, depth + 1, max_depth, count);
}

void fuzz_tree(std::string_view body) {
  XmlLimits limits;
  limits.max_bytes = 64 * 1024;
  limits.max_depth = 6;
  limits.max_elements = 100;
  auto root = parse_xml(body, limits);
  if (!root) {
    FUZZ_CHECK(!root.error().message.empty());
    return;
  }
  std::size_t depth = 0;
  std::size_t count = 0;
  measure(*root, 1, depth, count);
  FUZZ_CHECK(depth <= limits.max_depth);
  FUZZ_CHECK(count <= limits.max_elements);
}

void fuzz_complete(std::string_view body) {
  auto parts = parse_complete_multipart_upload(body, kMaxParts);
  if (!parts) return;
  FUZZ_CHECK(!parts->empty() && parts->size() <= kMaxParts);
  std::string doc = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& p : *parts) {
    FUZZ_CHECK(p.number >= 1 && p.number <= 10000);
    doc += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>\"" + xml_escape(p.etag) +
           "\"</ETag></Part>";
  }
  doc += "</CompleteMultipartUpload>";
  auto again = parse_complete_multipart_upload(doc, kMaxParts);
  FUZZ_CHECK(again.ok() && again->size() == parts->size());
  for (std::size_t i = 0; i < parts->size(); ++i) {
    FUZZ_CHECK((*again)[i].number == (*parts)[i].number);
    // The entity form of quotes ("&quot;...&quot;" as text) is stripped once more on the way back.
    const std::string& etag = (*parts)[i].etag;
    if (etag.rfind("&quot;", 0) != 0) FUZZ_CHECK((*again)[i].etag == etag);
  }
}

void fuzz_delete(std::string_view body) {
  auto req = parse_delete_objects(body, kMaxKeys);
  if (!req) return;
  FUZZ_CHECK(!req->keys.empty() && req->keys.size() <= kMaxKeys);
  std::string doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>";
  doc += req->quiet ? "true" : "false";
  doc += "</Quiet>";
  for (const auto& k : req->keys) doc += "<Object><Key>" + xml_escape(k) + "</Key></Object>";
  doc += "</Delete>";
  auto again = parse_delete_objects(doc, kMaxKeys);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->quiet == req->quiet && again->keys == req->keys);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t mode = in.byte();
  switch (mode & 3) {
    case 0: fuzz_tree(in.rest()); break;
    case 1: fuzz_complete(in.rest()); break;
    case 2: fuzz_delete(in.rest()); break;
    default: {
      auto region = parse_create_bucket_configuration(in.rest());
      if (region) FUZZ_CHECK(region->size() <= in.rest().size());
      break;
    }
  }
  return 0;
}
