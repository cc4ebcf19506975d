// Hashing, HMAC, percent-encoding and amz-date helpers against published vectors (FIPS 180-2,
// RFC 4231, the AWS signing-key example) and at the edges of their formats.
#include "aws/primitives.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "aws/sigv4.hpp"

namespace thumbflow::aws {
namespace {

using namespace std::chrono;

TEST(SigV4Primitives, sha256_matches_published_vectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Embedded NUL bytes are data, not terminators.
  EXPECT_EQ(sha256_hex(std::string("a\0b", 3)),
            "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138");
  EXPECT_EQ(sha256_hex("Welcome to Amazon S3."),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

TEST(SigV4Primitives, hmac_sha256_matches_rfc4231) {
  const std::string key1(20, '\x0b');
  EXPECT_EQ(hex_lower(hmac_sha256(key1, "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex_lower(hmac_sha256(std::string_view("Jefe"), "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size is hashed first.
  const std::string key6(131, '\xaa');
  EXPECT_EQ(hex_lower(hmac_sha256(key6, "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(SigV4Primitives, signing_key_matches_the_aws_derivation_example) {
  // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
  EXPECT_EQ(
      hex_lower(signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")),
      "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  // A second call is served from the cache and must be identical.
  EXPECT_EQ(
      hex_lower(signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")),
      "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

Digest uncached_signing_key(const std::string& secret, const std::string& date, const std::string& region,
                            const std::string& service) {
  Digest k = hmac_sha256("AWS4" + secret, date);
  k = hmac_sha256(k, region);
  k = hmac_sha256(k, service);
  return hmac_sha256(k, "aws4_request");
}

TEST(SigV4Primitives, signing_key_cache_is_correct_under_concurrent_use_and_eviction) {
  // More distinct keys than the cache holds, from several threads at once: every answer must
  // still equal the uncached derivation (run under TSan to check the locking too).
  constexpr int kThreads = 8;
  constexpr int kKeys = static_cast<int>(kSigningKeyCacheCapacity) * 2 + 5;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failures] {
      for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < kKeys; ++i) {
          const std::string secret = "secret-" + std::to_string((i + t) % kKeys);
          const std::string region = i % 2 == 0 ? "us-east-1" : "eu-west-1";
          if (signing_key(secret, "20240229", region, "s3") !=
              uncached_signing_key(secret, "20240229", region, "s3")) {
            ++failures[static_cast<std::size_t>(t)];
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
  // Different secrets, days, regions and services never share a key.
  EXPECT_NE(signing_key("a", "20240101", "r", "s3"), signing_key("b", "20240101", "r", "s3"));
  EXPECT_NE(signing_key("a", "20240101", "r", "s3"), signing_key("a", "20240102", "r", "s3"));
  EXPECT_NE(signing_key("a", "20240101", "r", "s3"), signing_key("a", "20240101", "q", "s3"));
  EXPECT_NE(signing_key("a", "20240101", "r", "s3"), signing_key("a", "20240101", "r", "sqs"));
}

TEST(SigV4Primitives, uri_encode_keeps_only_the_unreserved_set) {
  EXPECT_EQ(uri_encode("AZaz09-._~", true), "AZaz09-._~");
  EXPECT_EQ(uri_encode("a b+c", true), "a%20b%2Bc");
  EXPECT_EQ(uri_encode("()*!'$&,;=:@", true), "%28%29%2A%21%27%24%26%2C%3B%3D%3A%40");
  EXPECT_EQ(uri_encode("100%", true), "100%25");
  EXPECT_EQ(uri_encode("a/b", false), "a/b");
  EXPECT_EQ(uri_encode("a/b", true), "a%2Fb");
  EXPECT_EQ(uri_encode("ключ", false), "%D0%BA%D0%BB%D1%8E%D1%87");
  EXPECT_EQ(uri_encode(std::string("\0\x7f\xff", 3), true), "%00%7F%FF");
  EXPECT_EQ(uri_encode("", true), "");
}

TEST(SigV4Primitives, uri_decode_is_strict_and_plus_is_literal_outside_queries) {
  EXPECT_EQ(uri_decode("%41%2b%2B%e1%88%b4").value(), "A++\xe1\x88\xb4");
  EXPECT_EQ(uri_decode("a+b").value(), "a+b");
  EXPECT_EQ(uri_decode("a+b", true).value(), "a b");
  EXPECT_EQ(uri_decode("a%2Bb", true).value(), "a+b");
  for (const char* bad : {"%", "%4", "a%zz", "%g1", "%%41", "abc%"}) {
    auto r = uri_decode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
  }
}

TEST(SigV4Primitives, amz_date_formats_utc_and_drops_subseconds) {
  const auto t = sys_days{year{2013} / May / 24} + hours{0} + milliseconds{999};
  EXPECT_EQ(format_amz_date(t).value(), "20130524T000000Z");
  const auto t2 = sys_days{year{2024} / February / 29} + hours{23} + minutes{59} + seconds{59};
  EXPECT_EQ(format_amz_date(t2).value(), "20240229T235959Z");
  EXPECT_EQ(format_amz_date(sys_days{year{1970} / January / 1}).value(), "19700101T000000Z");
  EXPECT_EQ(format_amz_date(sys_days{year{1969} / December / 31} + seconds{86399}).value(),
            "19691231T235959Z");
}

TEST(SigV4Primitives, amz_date_parses_its_own_output_and_nothing_else) {
  const auto t = sys_days{year{2015} / August / 30} + hours{12} + minutes{36};
  EXPECT_EQ(parse_amz_date("20150830T123600Z").value(), t);
  EXPECT_TRUE(parse_amz_date("20240229T000000Z").ok());
  for (const char* bad :
       {"", "20230229T000000Z", "20131324T000000Z", "20130532T000000Z", "20130524T240000Z",
        "20130524T236000Z", "20130524T235960Z", "20130524t000000Z", "20130524T000000", "20130524T0000000Z",
        "2013-05-24T00:00:00Z", "2013052AT000000Z", "20130524T000000z", " 20130524T00000Z",
        // Real dates, but beyond what a nanosecond system_clock holds.
        "00010101T000000Z", "99991231T235959Z"}) {
    auto r = parse_amz_date(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
  }
}

}  // namespace
}  // namespace thumbflow::aws
