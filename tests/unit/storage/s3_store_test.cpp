// S3Store's pure pieces: the XML parser at its limits, S3 error documents and their kinds, list
// and bucket documents, response headers, dates, ranges, config limits at the edge and URL
// encoding of awkward keys. No server: requests that must not be sent go to a closed port.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "storage/s3_store.hpp"

namespace thumbflow::storage {
namespace {

using namespace std::chrono;

TEST(S3Xml, parses_an_error_document_with_namespace_entities_cdata_and_comments) {
  auto doc = s3::parse_xml(
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->"
      "<s3:Error xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<s3:Code>NoSuchKey</s3:Code><Message>The key &quot;a&amp;b&lt;c&gt;&apos;&#233;&#x1F600;&quot; is gone</Message>"
      "<Key><![CDATA[x<y]]></Key><Empty/><RequestId>tx0001</RequestId></s3:Error>\n");
  ASSERT_TRUE(doc.ok()) << doc.error().describe();
  EXPECT_EQ(doc->name, "Error");
  EXPECT_EQ(doc->child_text("Code"), "NoSuchKey");
  EXPECT_EQ(doc->child_text("Message"), "The key \"a&b<c>'\xC3\xA9\xF0\x9F\x98\x80\" is gone");
  EXPECT_EQ(doc->child_text("Key"), "x<y");
  EXPECT_NE(doc->child("Empty"), nullptr);
  EXPECT_EQ(doc->child("Missing"), nullptr);
  EXPECT_EQ(doc->child_text("Missing"), "");
}

TEST(S3Xml, keeps_leading_and_trailing_spaces_of_text) {
  auto doc = s3::parse_xml("<Key>  spaced key  </Key>");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->text, "  spaced key  ");
}

TEST(S3Xml, refuses_doctype_and_entity_declarations) {
  auto doc = s3::parse_xml("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().kind, ErrorKind::corrupt);
  EXPECT_FALSE(s3::parse_xml("<x><!ENTITY a \"b\"></x>").ok());
}

TEST(S3Xml, refuses_malformed_documents) {
  for (const char* bad : {"", "text only", "<a>", "<a></b>", "<a><b></a></b>", "<a>&bogus;</a>", "<a>&#0;</a>",
                          "<a>&#xD800;</a>", "<a>&#x110000;</a>", "<a x=1></a>", "<a x=\"1></a>", "<a></a><b></b>",
                          "<a><!-- open</a>", "<a><![CDATA[open</a>", "<a>&amp</a>"}) {
    EXPECT_FALSE(s3::parse_xml(bad).ok()) << bad;
  }
}

TEST(S3Xml, depth_limit_at_the_edge) {
  auto nested = [](std::size_t depth) {
    std::string open, close;
    for (std::size_t i = 0; i < depth; ++i) {
      open += "<e>";
      close = "</e>" + close;
    }
    return open + close;
  };
  EXPECT_TRUE(s3::parse_xml(nested(s3::kMaxXmlDepth)).ok());
  EXPECT_FALSE(s3::parse_xml(nested(s3::kMaxXmlDepth + 1)).ok());
}

TEST(S3Errors, parse_error_takes_code_message_and_request_id) {
  const auto info = s3::parse_error(
      404, "<Error><Code>NoSuchBucket</Code><Message>no bucket</Message><RequestId>tx9</RequestId></Error>", {});
  EXPECT_EQ(info.code, "NoSuchBucket");
  EXPECT_EQ(info.message, "no bucket");
  EXPECT_EQ(info.request_id, "tx9");
}

TEST(S3Errors, a_bodyless_response_is_named_by_its_status_and_header_request_id) {
  const auto info = s3::parse_error(404, "", {{"x-amz-request-id", "hdr-id"}});
  EXPECT_EQ(info.code, "NotFound");
  EXPECT_EQ(info.request_id, "hdr-id");
  EXPECT_EQ(s3::parse_error(412, "", {}).code, "PreconditionFailed");
  EXPECT_EQ(s3::parse_error(304, "", {}).code, "NotModified");
  EXPECT_EQ(s3::parse_error(503, "<html>proxy</html>", {}).code, "ServiceUnavailable");
  EXPECT_EQ(s3::parse_error(418, "", {}).code, "HTTP418");
}

TEST(S3Errors, codes_map_to_kinds) {
  struct Case {
    long status;
    const char* code;
    ErrorKind kind;
  };
  const Case cases[] = {
      {404, "NoSuchKey", ErrorKind::not_found},
      {404, "NoSuchBucket", ErrorKind::not_found},
      {404, "NoSuchUpload", ErrorKind::not_found},
      {412, "PreconditionFailed", ErrorKind::precondition_failed},
      {304, "NotModified", ErrorKind::precondition_failed},
      {409, "BucketNotEmpty", ErrorKind::precondition_failed},
      {403, "SignatureDoesNotMatch", ErrorKind::access_denied},
      {403, "InvalidAccessKeyId", ErrorKind::access_denied},
      {403, "AccessDenied", ErrorKind::access_denied},
      {403, "RequestTimeTooSkewed", ErrorKind::access_denied},
      {409, "BucketAlreadyOwnedByYou", ErrorKind::already_exists},
      {409, "BucketAlreadyExists", ErrorKind::already_exists},
      {503, "SlowDown", ErrorKind::unavailable},
      {500, "InternalError", ErrorKind::unavailable},
      {400, "RequestTimeout", ErrorKind::unavailable},
      {502, "BadGateway", ErrorKind::unavailable},
      {429, "TooManyRequests", ErrorKind::unavailable},
      {400, "EntityTooLarge", ErrorKind::too_large},
      {400, "MetadataTooLarge", ErrorKind::too_large},
      {400, "InvalidArgument", ErrorKind::invalid_argument},
      {400, "KeyTooLongError", ErrorKind::invalid_argument},
      {416, "InvalidRange", ErrorKind::invalid_argument},
      {403, "SomethingNew", ErrorKind::access_denied},
      {404, "SomethingNew", ErrorKind::not_found},
      {409, "SomethingNew", ErrorKind::precondition_failed},
  };
  for (const auto& c : cases) EXPECT_EQ(s3::kind_for(c.status, c.code), c.kind) << c.status << " " << c.code;
}

TEST(S3Errors, throttling_and_timeout_codes_are_retryable) {
  for (const char* code : {"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling"})
    EXPECT_TRUE(s3::retryable_code(code)) << code;
  for (const char* code : {"NoSuchKey", "AccessDenied", "InvalidArgument", "PreconditionFailed", ""})
    EXPECT_FALSE(s3::retryable_code(code)) << code;
}

TEST(S3List, parses_a_url_encoded_v2_page) {
  const char* body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>dir%2F</Prefix>"
      "<KeyCount>3</KeyCount><MaxKeys>2</MaxKeys><Delimiter>%2F</Delimiter><IsTruncated>true</IsTruncated>"
      "<EncodingType>url</EncodingType><NextContinuationToken>tok/+=</NextContinuationToken>"
      "<Contents><Key>dir/a+b%2Bc%25+%C3%BC</Key><LastModified>2024-02-29T12:34:56.789Z</LastModified>"
      "<ETag>&quot;0123abcd&quot;</ETag><Size>42</Size><StorageClass>STANDARD</StorageClass></Contents>"
      "<Contents><Key>dir/z</Key><ETag>\"ffff-3\"</ETag><Size>0</Size></Contents>"
      "<CommonPrefixes><Prefix>dir/sub%20dir/</Prefix></CommonPrefixes></ListBucketResult>";
  auto page = s3::parse_list_objects_v2(body);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "dir/a b+c% \xC3\xBC");
  EXPECT_EQ(page->objects[0].size, 42u);
  EXPECT_EQ(page->objects[0].etag, "0123abcd");
  EXPECT_EQ(page->objects[0].last_modified, sys_days{2024y / February / 29} + 12h + 34min + 56s);
  EXPECT_EQ(page->objects[1].etag, "ffff-3");
  ASSERT_EQ(page->common_prefixes.size(), 1u);
  EXPECT_EQ(page->common_prefixes[0], "dir/sub dir/");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "tok/+=");
}

TEST(S3List, keys_of_a_server_that_ignores_encoding_type_stay_literal) {
  auto page = s3::parse_list_objects_v2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>100%+a b</Key><Size>1</Size></Contents>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->objects[0].key, "100%+a b");
  EXPECT_FALSE(page->truncated);
}

TEST(S3List, a_truncated_page_without_a_token_is_refused) {
  auto page = s3::parse_list_objects_v2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().kind, ErrorKind::corrupt);
  EXPECT_FALSE(s3::parse_list_objects_v2("<Error><Code>x</Code></Error>").ok());
}

TEST(S3List, parses_the_bucket_list) {
  auto buckets = s3::parse_list_buckets(
      "<ListAllMyBucketsResult><Owner><ID>me</ID></Owner><Buckets>"
      "<Bucket><Name>one</Name><CreationDate>2020-01-01T00:00:00.000Z</CreationDate></Bucket>"
      "<Bucket><Name>two</Name><CreationDate>bogus</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>");
  ASSERT_TRUE(buckets.ok());
  ASSERT_EQ(buckets->size(), 2u);
  EXPECT_EQ((*buckets)[0].name, "one");
  EXPECT_EQ((*buckets)[0].created, sys_days{2020y / January / 1});
  EXPECT_EQ((*buckets)[1].created, system_clock::time_point{});
}

TEST(S3Headers, object_metadata_from_response_headers) {
  const aws::Headers headers = {{"content-length", "10"},
                                {"content-range", "bytes 0-9/12345"},
                                {"etag", "\"abc-2\""},
                                {"content-type", "image/webp"},
                                {"cache-control", "max-age=60"},
                                {"last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"},
                                {"x-amz-version-id", "null"},
                                {"x-amz-meta-source", "camera 1"},
                                {"X-Amz-Meta-Owner", "Me"}};
  const ObjectMeta m = s3::meta_from_headers(headers);
  EXPECT_EQ(m.size, 12345u);  // the object's size, not the range's
  EXPECT_EQ(m.etag, "abc-2");
  EXPECT_EQ(m.content_type, "image/webp");
  EXPECT_EQ(m.cache_control, "max-age=60");
  EXPECT_EQ(m.last_modified, sys_days{1994y / November / 6} + 8h + 49min + 37s);
  EXPECT_EQ(m.version_id, "");
  EXPECT_EQ(m.user_metadata.at("source"), "camera 1");
  EXPECT_EQ(m.user_metadata.at("owner"), "Me");
}

TEST(S3Headers, dates_and_ranges) {
  EXPECT_FALSE(s3::parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT").has_value());
  EXPECT_FALSE(s3::parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT").has_value());
  EXPECT_FALSE(s3::parse_iso8601("2024-13-01T00:00:00Z").has_value());
  EXPECT_TRUE(s3::parse_iso8601("2024-12-01T00:00:00Z").has_value());
  EXPECT_EQ(s3::range_header({0, 99, false}), "bytes=0-99");
  EXPECT_EQ(s3::range_header({100, std::nullopt, false}), "bytes=100-");
  EXPECT_EQ(s3::range_header({500, std::nullopt, true}), "bytes=-500");
  EXPECT_EQ(s3::strip_etag_quotes("\"abc\""), "abc");
  EXPECT_EQ(s3::strip_etag_quotes("W/\"abc\""), "abc");
  EXPECT_EQ(s3::strip_etag_quotes("&quot;abc&quot;"), "abc");
  EXPECT_EQ(s3::xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
}

S3Config local_config() {
  S3Config c;
  c.endpoint = "http://127.0.0.1:9";  // discard port: nothing listens
  c.path_style = true;
  c.credentials = {"AKID", "secret", ""};
  c.retry.max_attempts = 1;
  c.timeouts.connect = milliseconds(500);
  return c;
}

TEST(S3Config, limits_at_the_edge) {
  S3Config c = local_config();
  EXPECT_TRUE(c.validate().ok());
  c.part_size = kS3MinPartSize;
  EXPECT_TRUE(c.validate().ok());
  c.part_size = kS3MinPartSize - 1;
  EXPECT_EQ(c.validate().error().kind, ErrorKind::invalid_argument);
  c.part_size = kS3MaxPartSize;
  EXPECT_TRUE(c.validate().ok());
  c.part_size = kS3MaxPartSize + 1;
  EXPECT_FALSE(c.validate().ok());
  c = local_config();
  c.upload_concurrency = kS3MaxUploadConcurrency;
  EXPECT_TRUE(c.validate().ok());
  c.upload_concurrency = kS3MaxUploadConcurrency + 1;
  EXPECT_FALSE(c.validate().ok());
  c.upload_concurrency = 0;
  EXPECT_FALSE(c.validate().ok());
  c = local_config();
  c.multipart_threshold = kS3MaxSinglePutSize + 1;
  EXPECT_FALSE(c.validate().ok());
  c = local_config();
  c.endpoint = "http://127.0.0.1:9/prefix";
  EXPECT_FALSE(c.validate().ok());
  c.endpoint = "127.0.0.1:9";
  EXPECT_FALSE(c.validate().ok());
  c.endpoint = "http://127.0.0.1:9/";
  EXPECT_TRUE(c.validate().ok());
  c = local_config();
  c.credentials.secret_access_key.clear();
  EXPECT_FALSE(c.validate().ok());
  c.credentials.access_key_id.clear();
  EXPECT_TRUE(c.validate().ok());  // anonymous
  c.region = "";
  EXPECT_FALSE(S3Store::create(c).ok());
}

TEST(S3Urls, keys_are_uri_encoded_byte_for_byte) {
  auto store = S3Store::create(local_config());
  ASSERT_TRUE(store.ok());
  auto& s = **store;
  EXPECT_EQ(s.url_for("bucket"), "http://127.0.0.1:9/bucket");
  EXPECT_EQ(s.url_for("bucket", "a b+c%d/e.jpg"), "http://127.0.0.1:9/bucket/a%20b%2Bc%25d/e.jpg");
  EXPECT_EQ(s.url_for("bucket", "\xC3\xBCml\xE2\x82\xAC"), "http://127.0.0.1:9/bucket/%C3%BCml%E2%82%AC");
  EXPECT_EQ(s.url_for("bucket", "../x/./y//z"), "http://127.0.0.1:9/bucket/../x/./y//z");
  EXPECT_EQ(s.url_for("bucket", "q?h#a&b=c"), "http://127.0.0.1:9/bucket/q%3Fh%23a%26b%3Dc");
  EXPECT_EQ(s.url_for("bucket", "~-_."), "http://127.0.0.1:9/bucket/~-_.");
}

TEST(S3Urls, virtual_hosted_and_default_aws_endpoints) {
  S3Config c;
  c.region = "eu-west-1";
  auto aws = S3Store::create(c);
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ((*aws)->url_for("photos", "a b"), "https://photos.s3.eu-west-1.amazonaws.com/a%20b");
  c.path_style = true;
  EXPECT_EQ((*S3Store::create(c))->url_for("photos", "k"), "https://s3.eu-west-1.amazonaws.com/photos/k");
}

TEST(S3Store, refuses_bad_keys_before_any_request) {
  auto store = S3Store::create(local_config());
  ASSERT_TRUE(store.ok());
  auto& s = **store;
  // A 1025-byte key: invalid_argument, not unavailable (nothing listens on the port).
  auto too_long = s.put({"bucket", std::string(kMaxKeyBytes + 1, 'k')}, "x");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(too_long.error().code, "KeyTooLongError");
  // 1024 bytes is allowed: it gets as far as the (closed) port.
  auto at_limit = s.put({"bucket", std::string(kMaxKeyBytes, 'k')}, "x");
  ASSERT_FALSE(at_limit.ok());
  EXPECT_EQ(at_limit.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(s.head({"bucket", ""}).error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(s.head({"", "k"}).error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(s.head({"bad/bucket", "k"}).error().kind, ErrorKind::invalid_argument);
}

TEST(S3Store, refuses_header_injection_and_bad_metadata_names) {
  auto store = S3Store::create(local_config());
  ASSERT_TRUE(store.ok());
  PutOptions o;
  o.content_type = "text/plain\r\nx-amz-acl: public-read";
  EXPECT_EQ((*store)->put({"bucket", "k"}, "x", o).error().kind, ErrorKind::invalid_argument);
  o = {};
  o.user_metadata["bad name"] = "v";
  EXPECT_EQ((*store)->put({"bucket", "k"}, "x", o).error().kind, ErrorKind::invalid_argument);
  o = {};
  o.user_metadata["ok"] = "line\nbreak";
  EXPECT_EQ((*store)->put({"bucket", "k"}, "x", o).error().kind, ErrorKind::invalid_argument);
  ListOptions l;
  l.max_keys = 0;
  EXPECT_EQ((*store)->list("bucket", l).error().kind, ErrorKind::invalid_argument);
  l.max_keys = 1001;
  EXPECT_EQ((*store)->list("bucket", l).error().kind, ErrorKind::invalid_argument);
}

TEST(S3Store, a_down_endpoint_is_unavailable_and_says_where) {
  auto store = S3Store::create(local_config());
  ASSERT_TRUE(store.ok());
  auto r = (*store)->head({"bucket", "key"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::unavailable);
  EXPECT_NE(r.error().message.find("s3://bucket/key"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("127.0.0.1:9"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace thumbflow::storage
