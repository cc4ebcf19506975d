// The aws-chunked body encoding of S3 uploads, as a pure incremental decoder: feed it the bytes
// of the request body in pieces of any size (down to one byte) and it emits the payload and
// collects the trailers. Three forms, named by x-amz-content-sha256:
//
//   STREAMING-AWS4-HMAC-SHA256-PAYLOAD          <hex>;chunk-signature=<sig>\r\n<data>\r\n ...
//                                               0;chunk-signature=<sig>\r\n\r\n
//   STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  the same, then trailer lines and
//                                               x-amz-trailer-signature:<sig>\r\n\r\n
//   STREAMING-UNSIGNED-PAYLOAD-TRAILER          <hex>\r\n<data>\r\n ... 0\r\n<name>:<value>\r\n\r\n
//
// Signed chunks chain: each chunk's signature signs the previous one (the first, the request's
// own "seed" signature) and the SHA-256 of the chunk's data, so chunks cannot be reordered,
// dropped or altered. A chunk's bytes are emitted before its signature can be checked (at its
// end); callers must treat the payload as provisional until finish() succeeds — the server stages
// it and installs nothing before that.
//
// Policy on leniency: hex sizes in either case, chunk extensions other than chunk-signature are
// ignored in the unsigned form, and an unsigned stream that ends right after "0\r\n" (no trailer
// and no final CRLF, as some SDKs write it when they send no checksum) is complete.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/primitives.hpp"
#include "core/error.hpp"
#include "server/checksums.hpp"

namespace thumbflow::server {

inline constexpr std::string_view kStreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view kStreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
inline constexpr std::string_view kStreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

enum class ChunkedMode { signed_chunks, signed_chunks_trailer, unsigned_trailer };
// The mode an x-amz-content-sha256 value asks for; nullopt for a hash or UNSIGNED-PAYLOAD.
std::optional<ChunkedMode> chunked_mode_for(std::string_view content_sha256);

// What signed chunks are checked against: the request's signing key and scope, and its signature.
struct ChunkSigningContext {
  aws::Digest signing_key{};
  std::string amz_date;        // "20130524T000000Z"
  std::string scope;           // "20130524/us-east-1/s3/aws4_request"
  std::string seed_signature;  // the request's Authorization signature
};

struct ChunkedLimits {
  std::size_t max_line_bytes = 4096;      // a chunk header or one trailer line, CRLF included
  std::size_t max_trailer_bytes = 16384;  // all trailer lines together
  std::size_t max_trailers = 16;
};

class AwsChunkedDecoder {
 public:
  using Sink = std::function<Status(std::string_view payload)>;

  AwsChunkedDecoder(ChunkedMode mode, std::optional<ChunkSigningContext> signing, ChunkedLimits limits = {});

  // Decodes the next piece of the encoded body; payload bytes go to `out` as they are decoded.
  // Errors: InvalidRequest (malformed), SignatureDoesNotMatch (a chunk or the trailer), or
  // whatever `out` returns. After an error the decoder stays failed.
  Status feed(std::string_view encoded, const Sink& out);
  // The encoded body has ended; fails with IncompleteBody unless the encoding ended properly.
  Status finish();

  bool complete() const { return state_ == State::done; }
  std::uint64_t payload_bytes() const { return payload_bytes_; }
  // Trailer lines, names lower-cased, values trimmed; the trailer signature is not among them.
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }

 private:
  enum class State { size_line, data, data_crlf, trailer, done, failed };
  Status fail(std::string code, std::string message);
  Status on_size_line(std::string_view line);
  Status on_trailer_line(std::string_view line);
  Status check_chunk_signature(std::string_view declared, const std::string& data_sha256_hex);

  ChunkedMode mode_;
  std::optional<ChunkSigningContext> signing_;
  ChunkedLimits limits_;
  State state_ = State::size_line;
  std::string line_;             // the line being collected (size line or trailer line)
  std::uint64_t remaining_ = 0;  // data bytes left in the current chunk
  std::string declared_signature_;
  std::string previous_signature_;
  std::optional<Hasher> chunk_hash_;
  std::string trailer_block_;  // "name:value\n" per trailer, for the trailer signature
  std::string trailer_signature_;
  std::size_t trailer_bytes_ = 0;
  std::uint64_t payload_bytes_ = 0;
  bool saw_final_chunk_ = false;
  std::vector<std::pair<std::string, std::string>> trailers_;
};

}  // namespace thumbflow::server
