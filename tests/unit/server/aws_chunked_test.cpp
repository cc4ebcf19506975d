#include <gtest/gtest.h>

#include <random>

#include "aws/sigv4.hpp"
#include "server/aws_chunked.hpp"
#include "server/checksums.hpp"

namespace thumbflow::server {
namespace {

// AWS's worked example of STREAMING-AWS4-HMAC-SHA256-PAYLOAD ("Signature Calculations for the
// Authorization Header: Transferring Payload in Multiple Chunks"): 66,560 bytes of 'a' in chunks
// of 65,536 and 1,024 bytes, with the signatures the documentation prints.
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kSeed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
constexpr std::string_view kSig1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
constexpr std::string_view kSig2 = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
constexpr std::string_view kSig3 = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

ChunkSigningContext doc_context() {
  ChunkSigningContext ctx;
  ctx.signing_key = aws::signing_key(kSecret, "20130524", "us-east-1", "s3");
  ctx.amz_date = "20130524T000000Z";
  ctx.scope = "20130524/us-east-1/s3/aws4_request";
  ctx.seed_signature = std::string(kSeed);
  return ctx;
}

std::string doc_body() {
  std::string b;
  b += "10000;chunk-signature=" + std::string(kSig1) + "\r\n" + std::string(65536, 'a') + "\r\n";
  b += "400;chunk-signature=" + std::string(kSig2) + "\r\n" + std::string(1024, 'a') + "\r\n";
  b += "0;chunk-signature=" + std::string(kSig3) + "\r\n\r\n";
  return b;
}

struct Decoded {
  Status status = ok_status();
  std::string payload;
  std::vector<std::pair<std::string, std::string>> trailers;
};

// Feeds `body` in pieces whose sizes come from `seed` (1 byte up to 1000), then finishes.
Decoded decode(ChunkedMode mode, std::optional<ChunkSigningContext> ctx, const std::string& body, unsigned seed,
               ChunkedLimits limits = {}) {
  AwsChunkedDecoder d(mode, std::move(ctx), limits);
  Decoded out;
  std::mt19937 rng(seed);
  std::size_t pos = 0;
  auto sink = [&](std::string_view p) {
    out.payload.append(p);
    return ok_status();
  };
  while (pos < body.size()) {
    const std::size_t n = std::min<std::size_t>(body.size() - pos, seed == 0 ? body.size() : 1 + rng() % 1000);
    out.status = d.feed(std::string_view(body).substr(pos, n), sink);
    if (!out.status) return out;
    pos += n;
  }
  out.status = d.finish();
  out.trailers = d.trailers();
  return out;
}

TEST(AwsChunkedDecoder, decodes_the_aws_documentation_example_in_pieces_of_any_size) {
  for (unsigned seed : {0u, 1u, 2u, 3u}) {
    Decoded r = decode(ChunkedMode::signed_chunks, doc_context(), doc_body(), seed);
    ASSERT_TRUE(r.status) << r.status.error().message;
    EXPECT_EQ(r.payload, std::string(66560, 'a'));
  }
  // One byte at a time.
  AwsChunkedDecoder d(ChunkedMode::signed_chunks, doc_context());
  std::size_t bytes = 0;
  for (char c : doc_body())
    ASSERT_TRUE(d.feed(std::string_view(&c, 1), [&](std::string_view p) {
      bytes += p.size();
      return ok_status();
    }));
  EXPECT_TRUE(d.finish());
  EXPECT_EQ(bytes, 66560u);
  EXPECT_EQ(d.payload_bytes(), 66560u);
}

TEST(AwsChunkedDecoder, refuses_altered_data_signatures_and_order) {
  std::string body = doc_body();
  body[body.find("\r\n") + 2 + 100] = 'b';  // one payload byte of the first chunk
  EXPECT_EQ(decode(ChunkedMode::signed_chunks, doc_context(), body, 1).status.error().code, "SignatureDoesNotMatch");

  ChunkSigningContext wrong_key = doc_context();
  wrong_key.signing_key = aws::signing_key("not the secret", "20130524", "us-east-1", "s3");
  EXPECT_EQ(decode(ChunkedMode::signed_chunks, wrong_key, doc_body(), 1).status.error().code,
            "SignatureDoesNotMatch");

  ChunkSigningContext other_seed = doc_context();
  other_seed.seed_signature[0] = '5';
  EXPECT_EQ(decode(ChunkedMode::signed_chunks, other_seed, doc_body(), 1).status.error().code,
            "SignatureDoesNotMatch");

  // The second chunk alone (the first dropped) does not chain from the seed.
  std::string dropped = "400;chunk-signature=" + std::string(kSig2) + "\r\n" + std::string(1024, 'a') + "\r\n" +
                        "0;chunk-signature=" + std::string(kSig3) + "\r\n\r\n";
  EXPECT_EQ(decode(ChunkedMode::signed_chunks, doc_context(), dropped, 1).status.error().code,
            "SignatureDoesNotMatch");
}

TEST(AwsChunkedDecoder, refuses_malformed_framing) {
  auto code = [](const std::string& body) {
    Decoded r = decode(ChunkedMode::unsigned_trailer, std::nullopt, body, 0);
    return r.status ? std::string("ok") : r.status.error().code;
  };
  EXPECT_EQ(code("5\r\nhello\r\n0\r\n\r\n"), "ok");
  EXPECT_EQ(code("5\r\nhello\r\n0\r\n"), "ok");  // no trailer, no final CRLF: some SDKs end so
  EXPECT_EQ(code("5\r\nhello\r\n"), "IncompleteBody");
  EXPECT_EQ(code("5\r\nhel"), "IncompleteBody");
  EXPECT_EQ(code(""), "IncompleteBody");
  EXPECT_EQ(code("zz\r\nhello\r\n0\r\n\r\n"), "InvalidRequest");
  EXPECT_EQ(code("5\nhello\r\n0\r\n\r\n"), "InvalidRequest");            // bare LF
  EXPECT_EQ(code("5\r\nhelloXX0\r\n\r\n"), "InvalidRequest");            // no CRLF after data
  EXPECT_EQ(code("5\r\nhello\r\n0\r\n\r\nextra"), "InvalidRequest");     // data after the end
  EXPECT_EQ(code("11111111111111111\r\n"), "InvalidRequest");            // 17 hex digits
  EXPECT_EQ(code(std::string(5000, '1') + "\r\n"), "InvalidRequest");    // line too long
  EXPECT_EQ(code("0\r\nno-colon\r\n\r\n"), "InvalidRequest");
  // Signed chunks must carry a signature.
  Decoded r = decode(ChunkedMode::signed_chunks, doc_context(), "5\r\nhello\r\n0\r\n\r\n", 0);
  EXPECT_EQ(r.status.error().code, "InvalidRequest");
}

TEST(AwsChunkedDecoder, collects_unsigned_trailers) {
  const std::string crc = base64_encode(std::string("\xCB\xF4\x39\x26", 4));
  Decoded r = decode(ChunkedMode::unsigned_trailer, std::nullopt,
                     "4\r\n1234\r\n5\r\n56789\r\n0\r\nX-Amz-Checksum-CRC32: " + crc + "\r\n\r\n", 0);
  ASSERT_TRUE(r.status) << r.status.error().message;
  EXPECT_EQ(r.payload, "123456789");
  ASSERT_EQ(r.trailers.size(), 1u);
  EXPECT_EQ(r.trailers[0].first, "x-amz-checksum-crc32");
  EXPECT_EQ(r.trailers[0].second, crc);
  ChunkedLimits small;
  small.max_trailer_bytes = 10;
  EXPECT_FALSE(decode(ChunkedMode::unsigned_trailer, std::nullopt,
                      "0\r\nx-amz-checksum-crc32:" + crc + "\r\n\r\n", 0, small)
                   .status);
}

// Found by fuzz/aws_chunked_fuzz.cpp: " :value" was kept as a trailer with an empty name, and
// names with control bytes were kept too. A trailer name is an HTTP token.
TEST(AwsChunkedDecoder, refuses_a_trailer_name_that_is_not_a_token) {
  using namespace std::string_literals;
  for (const std::string& line : {" :x"s, "\t:x"s, "a\0b:x"s, "a b:x"s, "x(y):z"s}) {
    Decoded r = decode(ChunkedMode::unsigned_trailer, std::nullopt, "1\r\na\r\n0\r\n" + line + "\r\n\r\n", 0);
    ASSERT_FALSE(r.status) << line;
    EXPECT_EQ(r.status.error().code, "InvalidRequest");
    EXPECT_NE(r.status.error().message.find("HTTP token"), std::string::npos) << r.status.error().message;
  }
  Decoded ok = decode(ChunkedMode::unsigned_trailer, std::nullopt, "1\r\na\r\n0\r\nx-custom_1 : v\r\n\r\n", 0);
  ASSERT_TRUE(ok.status) << ok.status.error().message;
  ASSERT_EQ(ok.trailers.size(), 1u);
  EXPECT_EQ(ok.trailers[0].first, "x-custom_1");
}

// Signed chunks with a signed trailer, signatures computed here from the documented rules
// (string to sign "AWS4-HMAC-SHA256-PAYLOAD" / "AWS4-HMAC-SHA256-TRAILER").
std::string hmac_hex(const aws::Digest& key, const std::string& sts) { return aws::hex_lower(aws::hmac_sha256(key, sts)); }

TEST(AwsChunkedDecoder, verifies_a_signed_trailer) {
  const ChunkSigningContext ctx = doc_context();
  const std::string prefix = "AWS4-HMAC-SHA256-PAYLOAD\n" + ctx.amz_date + "\n" + ctx.scope + "\n";
  const std::string empty = std::string(aws::kEmptyPayloadSha256);
  const std::string s1 = hmac_hex(ctx.signing_key, prefix + ctx.seed_signature + "\n" + empty + "\n" + aws::sha256_hex("hello"));
  const std::string s2 = hmac_hex(ctx.signing_key, prefix + s1 + "\n" + empty + "\n" + empty);
  const std::string trailer = "x-amz-checksum-crc32:NhCmhg==";
  const std::string st = hmac_hex(ctx.signing_key, "AWS4-HMAC-SHA256-TRAILER\n" + ctx.amz_date + "\n" + ctx.scope +
                                                       "\n" + s2 + "\n" + aws::sha256_hex(trailer + "\n"));
  const std::string body = "5;chunk-signature=" + s1 + "\r\nhello\r\n0;chunk-signature=" + s2 + "\r\n" + trailer +
                           "\r\nx-amz-trailer-signature:" + st + "\r\n\r\n";
  Decoded ok = decode(ChunkedMode::signed_chunks_trailer, ctx, body, 3);
  ASSERT_TRUE(ok.status) << ok.status.error().message;
  EXPECT_EQ(ok.payload, "hello");
  ASSERT_EQ(ok.trailers.size(), 1u);

  std::string tampered = body;
  tampered.replace(tampered.find("NhCmhg=="), 8, "AAAAAA==");
  EXPECT_EQ(decode(ChunkedMode::signed_chunks_trailer, ctx, tampered, 3).status.error().code, "SignatureDoesNotMatch");
  std::string unsigned_trailer = body.substr(0, body.find("x-amz-trailer-signature")) + "\r\n";
  EXPECT_EQ(decode(ChunkedMode::signed_chunks_trailer, ctx, unsigned_trailer, 3).status.error().code,
            "InvalidRequest");
}

TEST(AwsChunkedDecoder, stops_on_a_sink_error) {
  AwsChunkedDecoder d(ChunkedMode::unsigned_trailer, std::nullopt);
  Status st = d.feed("5\r\nhello\r\n", [](std::string_view) -> Status {
    return make_error(ErrorKind::too_large, "full", "EntityTooLarge");
  });
  EXPECT_EQ(st.error().code, "EntityTooLarge");
  EXPECT_FALSE(d.feed("0\r\n\r\n", [](std::string_view) { return ok_status(); }));
}

TEST(ChunkedMode, follows_x_amz_content_sha256) {
  EXPECT_EQ(chunked_mode_for("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ChunkedMode::signed_chunks);
  EXPECT_EQ(chunked_mode_for("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"), ChunkedMode::signed_chunks_trailer);
  EXPECT_EQ(chunked_mode_for("STREAMING-UNSIGNED-PAYLOAD-TRAILER"), ChunkedMode::unsigned_trailer);
  EXPECT_FALSE(chunked_mode_for("UNSIGNED-PAYLOAD"));
  EXPECT_FALSE(chunked_mode_for(aws::kEmptyPayloadSha256));
}

}  // namespace
}  // namespace thumbflow::server
