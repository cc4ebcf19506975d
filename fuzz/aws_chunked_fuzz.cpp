// server::AwsChunkedDecoder in its three modes. Input: one byte for the mode, two bytes seeding
// the piece sizes the body is fed in (0: the whole body at once), then the encoded body. The
// signed modes use a fixed signing context (AWS's documented example key and seed signature),
// so seeds with valid chunk signatures reach the valid-signature paths.
// Checks: the payload emitted is never larger than the input; payload_bytes() counts exactly
// what was emitted; complete() agrees with finish(); the outcome (success or failure, payload,
// trailers) does not depend on how the body was split; and an unsigned stream that decodes,
// written back as one chunk with its trailers, decodes to the same payload and trailers.
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "aws/sigv4.hpp"
#include "fuzz_check.hpp"
#include "server/aws_chunked.hpp"

using namespace thumbflow;
using namespace thumbflow::server;

namespace {

const ChunkSigningContext& context() {
  static const ChunkSigningContext ctx = [] {
    ChunkSigningContext c;
    c.signing_key = aws::signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3");
    c.amz_date = "20130524T000000Z";
    c.scope = "20130524/us-east-1/s3/aws4_request";
    c.seed_signature = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    return c;
  }();
  return ctx;
}

struct Outcome {
  bool ok = false;
  std::string code;
  std::string payload;
  std::vector<std::pair<std::string, std::string>> trailers;
};

Outcome decode(ChunkedMode mode, std::string_view body, unsigned split_seed) {
  std::optional<ChunkSigningContext> signing;
  if (mode != ChunkedMode::unsigned_trailer) signing = context();
  ChunkedLimits limits;
  limits.max_line_bytes = 256;
  limits.max_trailer_bytes = 1024;
  limits.max_trailers = 4;
  AwsChunkedDecoder d(mode, signing, limits);
  Outcome out;
  const AwsChunkedDecoder::Sink sink = [&](std::string_view piece) -> Status {
    out.payload.append(piece);
    return ok_status();
  };
  std::minstd_rand rng(split_seed);
  std::size_t pos = 0;
  Status st = ok_status();
  while (st && pos < body.size()) {
    const std::size_t left = body.size() - pos;
    const std::size_t n = split_seed == 0 ? left : std::min<std::size_t>(left, 1 + rng() % 64);
    st = d.feed(body.substr(pos, n), sink);
    pos += n;
  }
  if (st) st = d.finish();
  out.ok = st.ok();
  if (!st) {
    out.code = st.error().code;
    FUZZ_CHECK(!st.error().message.empty());
  }
  FUZZ_CHECK(out.payload.size() <= body.size());
  FUZZ_CHECK(d.payload_bytes() == out.payload.size());
  if (out.ok) FUZZ_CHECK(d.complete());
  out.trailers = d.trailers();
  return out;
}

std::string hex(std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[n % 16]);
    n /= 16;
  } while (n != 0);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  constexpr ChunkedMode kModes[] = {ChunkedMode::signed_chunks, ChunkedMode::signed_chunks_trailer,
                                    ChunkedMode::unsigned_trailer};
  const ChunkedMode mode = kModes[in.byte() % 3];
  const unsigned seed = static_cast<unsigned>(in.byte()) << 8 | in.byte();
  const std::string_view body = in.rest();

  const Outcome split = decode(mode, body, seed);
  const Outcome whole = seed == 0 ? split : decode(mode, body, 0);
  FUZZ_CHECK(split.ok == whole.ok);
  FUZZ_CHECK(split.code == whole.code);
  if (split.ok) FUZZ_CHECK(split.payload == whole.payload && split.trailers == whole.trailers);

  if (whole.ok && mode == ChunkedMode::unsigned_trailer) {
    std::string again;
    if (!whole.payload.empty()) again += hex(whole.payload.size()) + "\r\n" + whole.payload + "\r\n";
    again += "0\r\n";
    for (const auto& [name, value] : whole.trailers) again += name + ":" + value + "\r\n";
    again += "\r\n";
    const Outcome back = decode(mode, again, 0);
    FUZZ_CHECK(back.ok && back.payload == whole.payload && back.trailers == whole.trailers);
  }
  return 0;
}
