// The worked examples of the Amazon S3 API Reference ("Signature Calculations for the
// Authorization Header" and "Authenticating Requests: Using Query Parameters") and the SigV4
// test suite's get-vanilla, hard-coded: if these move, we no longer sign as AWS does. Each
// signed request must also pass our own verifier.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "aws/sigv4.hpp"
#include "sigv4_test_headers.hpp"

namespace thumbflow::aws {
namespace {

using namespace std::chrono;

const Credentials kS3DocCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const Scope kS3DocScope{"us-east-1", "s3"};
const system_clock::time_point kS3DocTime = sys_days{year{2013} / May / 24};

// The request as the server receives it: the caller's headers plus the signer's.
Request as_received(Request request, const SignedRequest& signed_request) {
  for (const Header& h : signed_request.headers_to_set) request.headers.push_back(h);
  request.payload_hash.clear();
  return request;
}

void expect_verifies(const Request& received, std::string_view secret) {
  auto parsed = parse_request_auth(received);
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  const Verification v = verify(received, *parsed, secret);
  EXPECT_TRUE(v.valid()) << v.detail << "\n" << v.canonical_request;
}


TEST(SigV4Docs, s3_get_object_with_range) {
  auto request =
      request_from_url("GET", "https://examplebucket.s3.amazonaws.com/test.txt", {{"Range", "bytes=0-9"}});
  ASSERT_TRUE(request.ok());
  auto s = sign_request(*request, kS3DocCredentials, kS3DocScope, kS3DocTime);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->canonical_request,
            "GET\n/test.txt\n\n"
            "host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s->string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s->signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(header(s->headers_to_set, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(header(s->headers_to_set, "X-Amz-Date"), "20130524T000000Z");
  EXPECT_EQ(header(s->headers_to_set, "x-amz-content-sha256"), kEmptyPayloadSha256);
  EXPECT_EQ(header(s->headers_to_set, "X-Amz-Security-Token"), "<missing>");
  expect_verifies(as_received(*request, *s), kS3DocCredentials.secret_access_key);
}

TEST(SigV4Docs, s3_put_object_with_date_and_storage_class) {
  // '$' is sent raw here and must be signed as %24.
  auto request = request_from_url(
      "PUT", "https://examplebucket.s3.amazonaws.com/test$file.text",
      {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
      sha256_hex("Welcome to Amazon S3."));
  ASSERT_TRUE(request.ok());
  auto s = sign_request(*request, kS3DocCredentials, kS3DocScope, kS3DocTime);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->canonical_request,
            "PUT\n/test%24file.text\n\n"
            "date:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(s->string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s->signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  expect_verifies(as_received(*request, *s), kS3DocCredentials.secret_access_key);
}

TEST(SigV4Docs, s3_get_bucket_lifecycle_signs_a_bare_subresource) {
  auto request = request_from_url("GET", "https://examplebucket.s3.amazonaws.com/?lifecycle");
  ASSERT_TRUE(request.ok());
  auto s = sign_request(*request, kS3DocCredentials, kS3DocScope, kS3DocTime);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_NE(s->canonical_request.find("GET\n/\nlifecycle=\n"), std::string::npos) << s->canonical_request;
  EXPECT_EQ(s->signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  expect_verifies(as_received(*request, *s), kS3DocCredentials.secret_access_key);
}

TEST(SigV4Docs, s3_get_bucket_list_objects_sorts_the_query) {
  for (const char* url : {"https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
                          "https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2"}) {
    SCOPED_TRACE(url);
    auto request = request_from_url("GET", url);
    ASSERT_TRUE(request.ok());
    auto s = sign_request(*request, kS3DocCredentials, kS3DocScope, kS3DocTime);
    ASSERT_TRUE(s.ok()) << s.error().describe();
    EXPECT_NE(s->canonical_request.find("GET\n/\nmax-keys=2&prefix=J\n"), std::string::npos);
    EXPECT_EQ(s->signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    expect_verifies(as_received(*request, *s), kS3DocCredentials.secret_access_key);
  }
}

TEST(SigV4Docs, s3_presigned_get_object_url) {
  auto url = presign_url("GET", "https://examplebucket.s3.amazonaws.com/test.txt", kS3DocCredentials,
                         kS3DocScope, kS3DocTime, seconds{86400});
  ASSERT_TRUE(url.ok()) << url.error().describe();
  EXPECT_EQ(*url,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");

  auto request = request_from_url("GET", "https://examplebucket.s3.amazonaws.com/test.txt");
  ASSERT_TRUE(request.ok());
  auto p = presign_request(*request, kS3DocCredentials, kS3DocScope, kS3DocTime, seconds{86400});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
  EXPECT_TRUE(p->canonical_request.ends_with("\nhost\nUNSIGNED-PAYLOAD"));

  auto received = request_from_url("GET", *url);
  ASSERT_TRUE(received.ok());
  expect_verifies(*received, kS3DocCredentials.secret_access_key);
}

TEST(SigV4Docs, test_suite_get_vanilla) {
  auto request = request_from_url("GET", "https://example.amazonaws.com/");
  ASSERT_TRUE(request.ok());
  auto s =
      sign_request(*request, {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""},
                   {"us-east-1", "service"}, sys_days{year{2015} / August / 30} + hours{12} + minutes{36});
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(header(s->headers_to_set, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(header(s->headers_to_set, "x-amz-content-sha256"), "<missing>");  // S3 only
}

}  // namespace
}  // namespace thumbflow::aws
