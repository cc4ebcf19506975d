// S3's XML, both directions, as pure functions over strings (no sockets, no store), so they are
// unit-tested and fuzzed directly.
//
// Writing: S3's response documents (ListBuckets, ListObjects v1/v2, multipart, DeleteObjects,
// CopyObject, Error). Parsing: the small request bodies S3 accepts (CompleteMultipartUpload,
// Delete, CreateBucketConfiguration) with a deliberately tiny XML reader: no DTDs (a DOCTYPE is
// refused, so no entity expansion), the five predefined entities and character references, CDATA,
// comments, namespaces reduced to local names; nesting depth, element count and body size are
// bounded by XmlLimits. Any violation is MalformedXML, as S3 says.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "storage/object_store.hpp"

namespace thumbflow::server {

inline constexpr std::string_view kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

// ---- Writing -------------------------------------------------------------------------------
// Escapes &, <, >, " and ' and writes control characters as character references (a bare CR
// would be read back as LF).
std::string xml_escape(std::string_view text);

class XmlWriter {
 public:
  XmlWriter();  // starts with the XML declaration
  XmlWriter& open(std::string_view name, bool with_namespace = false);
  XmlWriter& close();
  XmlWriter& element(std::string_view name, std::string_view text);
  // Closes whatever is still open and returns the document.
  std::string finish();

 private:
  std::string out_;
  std::vector<std::string> open_;
};

// "2009-10-12T17:50:30.000Z"
std::string format_iso8601(std::chrono::system_clock::time_point t);
// RFC 7231 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
std::string format_http_date(std::chrono::system_clock::time_point t);
// IMF-fixdate, RFC 850 and asctime forms (as HTTP requires of recipients), and ISO-8601 "Z".
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

struct Owner {
  std::string id = "thumbflow";
  std::string display_name = "thumbflow";
};

std::string list_buckets_xml(const std::vector<storage::BucketInfo>& buckets, const Owner& owner);

// Keys, prefixes and markers are percent-encoded in the document when url_encode is set
// (encoding-type=url, which the AWS CLI always asks for).
struct ListObjectsResult {
  bool v2 = true;
  std::string bucket;
  std::string prefix;
  std::string delimiter;
  int max_keys = 1000;
  bool url_encode = false;
  bool fetch_owner = false;
  // v2
  std::string continuation_token;
  std::string start_after;
  // v1
  std::string marker;
  std::string next_marker;  // written only when set
  storage::ListPage page;
};
std::string list_objects_xml(const ListObjectsResult& r, const Owner& owner);

std::string initiate_multipart_xml(std::string_view bucket, std::string_view key, std::string_view upload_id);
std::string complete_multipart_xml(std::string_view location, std::string_view bucket, std::string_view key,
                                   std::string_view etag);
std::string copy_object_xml(std::string_view etag, std::chrono::system_clock::time_point last_modified);
std::string copy_part_xml(std::string_view etag, std::chrono::system_clock::time_point last_modified);

struct PartEntry {
  int number = 0;
  std::uint64_t size = 0;
  std::string etag;
  std::chrono::system_clock::time_point last_modified{};
};
struct ListPartsResult {
  std::string bucket, key, upload_id;
  int part_number_marker = 0;
  int next_part_number_marker = 0;
  int max_parts = 1000;
  bool truncated = false;
  std::vector<PartEntry> parts;
};
std::string list_parts_xml(const ListPartsResult& r, const Owner& owner);

struct UploadEntry {
  std::string key, upload_id;
  std::chrono::system_clock::time_point initiated{};
};
struct ListUploadsResult {
  std::string bucket, prefix, delimiter, key_marker, upload_id_marker;
  std::string next_key_marker, next_upload_id_marker;
  int max_uploads = 1000;
  bool truncated = false;
  bool url_encode = false;
  std::vector<UploadEntry> uploads;
  std::vector<std::string> common_prefixes;
};
std::string list_uploads_xml(const ListUploadsResult& r, const Owner& owner);

struct DeleteOutcome {
  std::string key;
  std::string code;     // empty: deleted
  std::string message;
};
std::string delete_result_xml(const std::vector<DeleteOutcome>& outcomes, bool quiet);

std::string error_xml(std::string_view code, std::string_view message, std::string_view resource,
                      std::string_view request_id,
                      const std::vector<std::pair<std::string, std::string>>& details = {});
std::string location_xml(std::string_view region);
std::string versioning_xml();

// ---- Parsing -------------------------------------------------------------------------------
struct XmlLimits {
  std::size_t max_bytes = 4 * 1024 * 1024;  // the body
  std::size_t max_depth = 16;               // S3's documents nest 3 deep
  std::size_t max_elements = 50'000;        // 10,000 parts x (Part, PartNumber, ETag, a checksum) + slack
};

struct XmlElement {
  std::string name;  // local name (any namespace prefix dropped)
  std::string text;  // character data directly inside, entities decoded, untrimmed
  std::vector<XmlElement> children;
  const XmlElement* child(std::string_view local_name) const;
};

Result<XmlElement> parse_xml(std::string_view document, const XmlLimits& limits = {});

struct CompletedPart {
  int number = 0;
  std::string etag;  // quotes stripped
};
// <CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"..."</ETag></Part>...
// Order and existence are the caller's to check (InvalidPartOrder, InvalidPart).
Result<std::vector<CompletedPart>> parse_complete_multipart_upload(std::string_view body, std::size_t max_parts,
                                                                   const XmlLimits& limits = {});

struct DeleteRequest {
  bool quiet = false;
  std::vector<std::string> keys;
};
// <Delete><Quiet>true</Quiet><Object><Key>k</Key></Object>...; more than max_keys is MalformedXML.
Result<DeleteRequest> parse_delete_objects(std::string_view body, std::size_t max_keys,
                                           const XmlLimits& limits = {});

// <CreateBucketConfiguration><LocationConstraint>r</LocationConstraint>; an empty body is fine.
Result<std::string> parse_create_bucket_configuration(std::string_view body, const XmlLimits& limits = {});

}  // namespace thumbflow::server
