#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "aws/sigv4.hpp"
#include "server/s3_auth.hpp"
#include "test_support.hpp"

namespace thumbflow::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const AccessKey kKey{"TFTESTKEY", "test-secret"};
const aws::Scope kScope{"us-east-1", "s3"};
const Clock::time_point kNow = Clock::from_time_t(1'800'000'000);

aws::Request base_request(std::string method = "GET", std::string path = "/bucket/key.jpg", std::string query = "") {
  aws::Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = {{"Host", "127.0.0.1:9000"}};
  return r;
}

// Signs with our signer, as the S3 client does, and applies the headers it returns.
aws::Request sign(aws::Request r, Clock::time_point at, const AccessKey& key = kKey,
                  const aws::SigningOptions& options = {}) {
  auto s = aws::sign_request(r, {key.access_key_id, key.secret_access_key, ""}, kScope, at, options);
  EXPECT_TRUE(s) << s.error().message;
  for (const auto& h : s->headers_to_set) r.headers.push_back(h);
  return r;
}

std::string code_of(const Result<Authenticated>& r) { return r ? std::string("ok") : r.error().code; }

TEST(Authenticate, accepts_a_request_signed_with_a_configured_key) {
  KeyRing keys({{"OTHER", "x"}, kKey});
  aws::Request r = base_request();
  r.payload_hash = std::string(aws::kEmptyPayloadSha256);
  auto a = authenticate(sign(r, kNow), keys, kNow);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->auth.access_key_id, kKey.access_key_id);
  EXPECT_EQ(a->payload_hash, aws::kEmptyPayloadSha256);
  EXPECT_FALSE(a->chunk_signing);
}

TEST(Authenticate, refuses_a_wrong_secret_an_unknown_key_and_no_signature) {
  KeyRing keys({kKey});
  EXPECT_EQ(code_of(authenticate(sign(base_request(), kNow, {kKey.access_key_id, "wrong"}), keys, kNow)),
            "SignatureDoesNotMatch");
  EXPECT_EQ(code_of(authenticate(sign(base_request(), kNow, {"NOBODY", kKey.secret_access_key}), keys, kNow)),
            "InvalidAccessKeyId");
  EXPECT_EQ(code_of(authenticate(base_request(), keys, kNow)), "AccessDenied");
  aws::Request v2 = base_request();
  v2.headers.push_back({"Authorization", "AWS TFTESTKEY:c2lnbmF0dXJl"});
  EXPECT_EQ(code_of(authenticate(v2, keys, kNow)), "InvalidRequest");
  aws::Request junk = base_request();
  junk.headers.push_back({"Authorization", "AWS4-HMAC-SHA256 Credential=broken"});
  EXPECT_EQ(code_of(authenticate(junk, keys, kNow)), "AuthorizationHeaderMalformed");
}

TEST(Authenticate, refuses_tampering_after_signing) {
  KeyRing keys({kKey});
  aws::Request r = sign(base_request(), kNow);
  r.path = "/bucket/other.jpg";
  EXPECT_EQ(code_of(authenticate(r, keys, kNow)), "SignatureDoesNotMatch");
  aws::Request extra = sign(base_request(), kNow);
  extra.headers.push_back({"x-amz-meta-added", "later"});
  EXPECT_EQ(code_of(authenticate(extra, keys, kNow)), "AccessDenied");
}

TEST(Authenticate, enforces_the_clock_skew_limit_both_ways) {
  KeyRing keys({kKey});
  EXPECT_EQ(code_of(authenticate(sign(base_request(), kNow - 14min), keys, kNow)), "ok");
  EXPECT_EQ(code_of(authenticate(sign(base_request(), kNow + 14min), keys, kNow)), "ok");
  EXPECT_EQ(code_of(authenticate(sign(base_request(), kNow - 16min), keys, kNow)), "RequestTimeTooSkewed");
  EXPECT_EQ(code_of(authenticate(sign(base_request(), kNow + 16min), keys, kNow)), "RequestTimeTooSkewed");
  AuthPolicy strict;
  strict.max_clock_skew = 1min;
  EXPECT_EQ(code_of(authenticate(sign(base_request(), kNow - 2min), keys, kNow, strict)), "RequestTimeTooSkewed");
}

TEST(Authenticate, requires_x_amz_content_sha256_with_header_auth) {
  KeyRing keys({kKey});
  aws::SigningOptions no_sha;
  no_sha.content_sha256_header = false;
  EXPECT_EQ(code_of(authenticate(sign(base_request(), kNow, kKey, no_sha), keys, kNow)), "InvalidRequest");
}

TEST(Authenticate, refuses_session_tokens) {
  KeyRing keys({kKey});
  auto s = aws::sign_request(base_request(), {kKey.access_key_id, kKey.secret_access_key, "token"}, kScope, kNow);
  ASSERT_TRUE(s);
  aws::Request r = base_request();
  for (const auto& h : s->headers_to_set) r.headers.push_back(h);
  EXPECT_EQ(code_of(authenticate(r, keys, kNow)), "InvalidToken");
}

aws::Request presigned(Clock::time_point at, std::chrono::seconds expires, const AccessKey& key = kKey) {
  aws::Request r = base_request("PUT");
  auto p = aws::presign_request(r, {key.access_key_id, key.secret_access_key, ""}, kScope, at, expires);
  EXPECT_TRUE(p) << p.error().message;
  r.query = p->query;
  return r;
}

TEST(Authenticate, accepts_presigned_urls_until_they_expire) {
  KeyRing keys({kKey});
  auto a = authenticate(presigned(kNow - 10min, 3600s), keys, kNow);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->payload_hash, "UNSIGNED-PAYLOAD");
  EXPECT_EQ(a->auth.form, aws::AuthForm::query);
  EXPECT_EQ(code_of(authenticate(presigned(kNow - 61min, 3600s), keys, kNow)), "AccessDenied");
  EXPECT_EQ(code_of(authenticate(presigned(kNow - 60s, 60s), keys, kNow)), "ok");
  EXPECT_EQ(code_of(authenticate(presigned(kNow - 61s, 60s), keys, kNow)), "AccessDenied");
  EXPECT_EQ(code_of(authenticate(presigned(kNow + 20min, 3600s), keys, kNow)), "AccessDenied");
  EXPECT_EQ(code_of(authenticate(presigned(kNow, 3600s, {kKey.access_key_id, "wrong"}), keys, kNow)),
            "SignatureDoesNotMatch");
  aws::Request r = presigned(kNow, 3600s);
  r.query += "&extra=1";
  EXPECT_EQ(code_of(authenticate(r, keys, kNow)), "SignatureDoesNotMatch");
}

// The request of AWS's chunked-upload example signs to the seed signature the documentation
// prints; authentication hands that seed and the signing scope to the chunk decoder.
TEST(Authenticate, gives_the_chunk_decoder_the_seed_of_the_aws_example) {
  const AccessKey doc{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
  const auto at = Clock::from_time_t(1369353600);  // 2013-05-24T00:00:00Z
  aws::Request r = base_request("PUT", "/examplebucket/chunkObject.txt");
  r.headers = {{"Host", "s3.amazonaws.com"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"Content-Encoding", "aws-chunked"},
               {"x-amz-decoded-content-length", "66560"},
               {"Content-Length", "66824"}};
  r.payload_hash = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
  aws::Request s = sign(r, at, doc);
  s.payload_hash.clear();
  auto a = authenticate(s, KeyRing({doc}), at + 1min);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(a->chunk_signing);
  EXPECT_EQ(a->chunk_signing->seed_signature, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
  EXPECT_EQ(a->chunk_signing->scope, "20130524/us-east-1/s3/aws4_request");
  EXPECT_EQ(a->chunk_signing->amz_date, "20130524T000000Z");
}

TEST(Credentials, are_generated_once_with_mode_0600_and_read_back) {
  test::TempDir dir;
  auto first = load_or_create_credentials(dir.path(), std::nullopt);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->origin, LoadedCredentials::Origin::generated);
  EXPECT_EQ(first->key.access_key_id.size(), 20u);
  EXPECT_EQ(first->key.secret_access_key.size(), 40u);
  struct stat st{};
  ASSERT_EQ(::stat(first->file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(first->file.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ::chmod(first->file.c_str(), 0644);
  auto again = load_or_create_credentials(dir.path(), std::nullopt);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->origin, LoadedCredentials::Origin::file);
  EXPECT_EQ(again->key.secret_access_key, first->key.secret_access_key);
  ASSERT_EQ(::stat(first->file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(generate_access_key().secret_access_key, generate_access_key().secret_access_key);
}

TEST(Credentials, from_the_environment_win_and_are_not_stored) {
  test::TempDir dir;
  ::setenv(kAccessKeyEnv, "ENVKEY", 1);
  ::unsetenv(kSecretKeyEnv);
  EXPECT_FALSE(access_key_from_environment());
  ::setenv(kSecretKeyEnv, "ENVSECRET", 1);
  auto env = access_key_from_environment();
  ASSERT_TRUE(env);
  ASSERT_TRUE(*env);
  auto loaded = load_or_create_credentials(dir.path(), *env);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->origin, LoadedCredentials::Origin::environment);
  EXPECT_EQ(loaded->key.secret_access_key, "ENVSECRET");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / kCredentialsFile));
  ::unsetenv(kAccessKeyEnv);
  ::unsetenv(kSecretKeyEnv);
  auto none = access_key_from_environment();
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

}  // namespace
}  // namespace thumbflow::server
