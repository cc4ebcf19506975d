#include <gtest/gtest.h>

#include "server/checksums.hpp"

namespace thumbflow::server {
namespace {

// The CRC catalogue's check values: the CRC of the nine bytes "123456789".
TEST(Crc, matches_the_catalogue_check_values) {
  EXPECT_EQ(crc32_update(0, "123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32c_update(0, "123456789"), 0xE3069283u);
  EXPECT_EQ(crc64nvme_update(0, "123456789"), 0xAE8B14860A799888ull);
}

TEST(Crc, is_incremental) {
  EXPECT_EQ(crc32c_update(crc32c_update(0, "1234"), "56789"), 0xE3069283u);
  EXPECT_EQ(crc64nvme_update(crc64nvme_update(0, "12345678"), "9"), 0xAE8B14860A799888ull);
  EXPECT_EQ(crc32_update(crc32_update(0, ""), "123456789"), 0xCBF43926u);
}

TEST(Base64, round_trips_and_is_strict) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\xff\x00\x10"}) EXPECT_EQ(*base64_decode(base64_encode(s)), s);
  EXPECT_FALSE(base64_decode("Zg="));
  EXPECT_FALSE(base64_decode("Z==="));
  EXPECT_FALSE(base64_decode("Zg=a"));
  EXPECT_FALSE(base64_decode("Zm9v\n"));
  EXPECT_FALSE(base64_decode("Zm9*"));
}

TEST(Hasher, gives_big_endian_crcs_and_standard_digests) {
  Hasher crc(DigestKind::crc32);
  crc.update("123456789");
  EXPECT_EQ(base64_encode(crc.digest()), base64_encode(std::string("\xCB\xF4\x39\x26", 4)));
  Hasher md5(DigestKind::md5);
  md5.update("");
  EXPECT_EQ(base64_encode(md5.digest()), "1B2M2Y8AsgTpgAmY7PhCfg==");
  Hasher sha(DigestKind::sha256);
  sha.update("");
  EXPECT_EQ(base64_encode(sha.digest()), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

using Headers = std::vector<std::pair<std::string, std::string>>;

Status verify(const Headers& headers, std::string_view sha, std::string_view body, const Headers& trailers = {}) {
  auto e = payload_expectations(headers, sha);
  if (!e) return e.error();
  PayloadVerifier v(std::move(*e));
  v.update(body.substr(0, body.size() / 2));
  v.update(body.substr(body.size() / 2));
  return v.finish(trailers);
}

TEST(PayloadVerifier, checks_content_md5) {
  const std::string hello_md5 = "XUFAKrxLKna5cZ2REBfFkg==";  // md5("hello")
  EXPECT_TRUE(verify({{"content-md5", hello_md5}}, "UNSIGNED-PAYLOAD", "hello"));
  EXPECT_EQ(verify({{"content-md5", hello_md5}}, "UNSIGNED-PAYLOAD", "hellO").error().code, "BadDigest");
  EXPECT_EQ(verify({{"content-md5", "nope"}}, "UNSIGNED-PAYLOAD", "hello").error().code, "InvalidDigest");
  EXPECT_EQ(verify({{"content-md5", "Zm9v"}}, "UNSIGNED-PAYLOAD", "hello").error().code, "InvalidDigest");
}

TEST(PayloadVerifier, checks_the_signed_sha256) {
  const std::string hello_sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
  EXPECT_TRUE(verify({}, hello_sha, "hello"));
  EXPECT_EQ(verify({}, hello_sha, "hello!").error().code, "XAmzContentSHA256Mismatch");
}

TEST(PayloadVerifier, checks_checksum_headers_and_trailers) {
  const std::string crc = base64_encode(std::string("\xCB\xF4\x39\x26", 4));
  EXPECT_TRUE(verify({{"x-amz-checksum-crc32", crc}}, "UNSIGNED-PAYLOAD", "123456789"));
  EXPECT_EQ(verify({{"x-amz-checksum-crc32", crc}}, "UNSIGNED-PAYLOAD", "123456780").error().code, "BadDigest");
  EXPECT_EQ(verify({{"x-amz-checksum-crc32", "AAAA"}}, "UNSIGNED-PAYLOAD", "1").error().code, "InvalidDigest");
  EXPECT_EQ(verify({{"x-amz-checksum-crc32", crc}, {"x-amz-checksum-crc32c", crc}}, "UNSIGNED-PAYLOAD", "1")
                .error()
                .code,
            "InvalidRequest");
  const Headers trailer = {{"x-amz-trailer", "x-amz-checksum-crc32"}};
  EXPECT_TRUE(verify(trailer, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "123456789", {{"x-amz-checksum-crc32", crc}}));
  EXPECT_EQ(verify(trailer, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "12345678", {{"x-amz-checksum-crc32", crc}})
                .error()
                .code,
            "BadDigest");
  EXPECT_EQ(verify(trailer, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "123456789").error().code, "InvalidRequest");
  EXPECT_EQ(verify({{"x-amz-trailer", "x-amz-meta-foo"}}, "UNSIGNED-PAYLOAD", "").error().code, "InvalidRequest");
}

TEST(PayloadVerifier, computes_the_announced_algorithm_for_the_response) {
  auto e = payload_expectations({{"x-amz-sdk-checksum-algorithm", "crc32c"}}, "UNSIGNED-PAYLOAD");
  ASSERT_TRUE(e);
  PayloadVerifier v(std::move(*e));
  v.update("123456789");
  ASSERT_TRUE(v.finish());
  ASSERT_TRUE(v.checksum_base64());
  EXPECT_EQ(v.checksum_base64()->first->header, "x-amz-checksum-crc32c");
  EXPECT_EQ(v.checksum_base64()->second, base64_encode(std::string("\xE3\x06\x92\x83", 4)));
}

}  // namespace
}  // namespace thumbflow::server
