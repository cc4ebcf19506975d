#include "server/aws_chunked.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <span>

#include "aws/sigv4.hpp"
#include "server/s3_error.hpp"
#include "core/text.hpp"

namespace thumbflow::server {
namespace {

constexpr std::string_view kChunkSignature = "chunk-signature=";
constexpr std::string_view kTrailerSignature = "x-amz-trailer-signature";

bool is_hex_lower_or_upper(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::optional<ChunkedMode> chunked_mode_for(std::string_view content_sha256) {
  if (content_sha256 == kStreamingSigned) return ChunkedMode::signed_chunks;
  if (content_sha256 == kStreamingSignedTrailer) return ChunkedMode::signed_chunks_trailer;
  if (content_sha256 == kStreamingUnsignedTrailer) return ChunkedMode::unsigned_trailer;
  return std::nullopt;
}

AwsChunkedDecoder::AwsChunkedDecoder(ChunkedMode mode, std::optional<ChunkSigningContext> signing,
                                     ChunkedLimits limits)
    : mode_(mode), signing_(std::move(signing)), limits_(limits) {
  if (signing_) previous_signature_ = signing_->seed_signature;
  if (mode_ != ChunkedMode::unsigned_trailer && !signing_) {
    state_ = State::failed;  // a programming error: reported on first use
  }
}

Status AwsChunkedDecoder::fail(std::string code, std::string message) {
  state_ = State::failed;
  return s3_failure(code, "aws-chunked body: " + std::move(message));
}

Status AwsChunkedDecoder::check_chunk_signature(std::string_view declared, const std::string& data_sha256_hex) {
  std::string sts = "AWS4-HMAC-SHA256-PAYLOAD\n";
  sts.append(signing_->amz_date).append("\n").append(signing_->scope).append("\n");
  sts.append(previous_signature_).append("\n").append(aws::kEmptyPayloadSha256).append("\n");
  sts.append(data_sha256_hex);
  const std::string expected = aws::hex_lower(aws::hmac_sha256(signing_->signing_key, sts));
  std::string lower(declared);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c); });
  if (lower.size() != expected.size() || CRYPTO_memcmp(lower.data(), expected.data(), expected.size()) != 0)
    return fail("SignatureDoesNotMatch", "a chunk signature does not match (chunk ending at payload byte " +
                                             std::to_string(payload_bytes_) + ")");
  previous_signature_ = expected;
  return ok_status();
}

Status AwsChunkedDecoder::on_size_line(std::string_view line) {
  const auto semi = line.find(';');
  const std::string_view hex = line.substr(0, semi);
  if (hex.empty() || hex.size() > 16 || !std::all_of(hex.begin(), hex.end(), is_hex_lower_or_upper))
    return fail("InvalidRequest", "bad chunk size '" + std::string(hex.substr(0, 32)) + "'");
  std::uint64_t size = 0;
  for (char c : hex) {
    const int v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    size = size * 16 + static_cast<std::uint64_t>(v);
  }
  const bool is_signed = mode_ != ChunkedMode::unsigned_trailer;
  if (is_signed) {
    const std::string_view ext = semi == std::string_view::npos ? std::string_view{} : line.substr(semi + 1);
    if (ext.substr(0, kChunkSignature.size()) != kChunkSignature)
      return fail("InvalidRequest", "a chunk has no chunk-signature");
    const std::string_view sig = ext.substr(kChunkSignature.size());
    if (sig.size() != 64 || !std::all_of(sig.begin(), sig.end(), is_hex_lower_or_upper))
      return fail("InvalidRequest", "a chunk-signature is not 64 hex digits");
    declared_signature_ = std::string(sig);
  }
  if (size == 0) {
    saw_final_chunk_ = true;
    if (is_signed) {
      if (auto st = check_chunk_signature(declared_signature_, std::string(aws::kEmptyPayloadSha256)); !st) return st;
    }
    state_ = State::trailer;
    return ok_status();
  }
  remaining_ = size;
  if (is_signed) chunk_hash_.emplace(DigestKind::sha256);
  state_ = State::data;
  return ok_status();
}

Status AwsChunkedDecoder::on_trailer_line(std::string_view line) {
  if (line.empty()) {
    if (mode_ == ChunkedMode::signed_chunks_trailer) {
      if (trailer_signature_.empty()) return fail("InvalidRequest", "the trailer has no x-amz-trailer-signature");
      std::string sts = "AWS4-HMAC-SHA256-TRAILER\n";
      sts.append(signing_->amz_date).append("\n").append(signing_->scope).append("\n");
      sts.append(previous_signature_).append("\n").append(aws::sha256_hex(trailer_block_));
      const std::string expected = aws::hex_lower(aws::hmac_sha256(signing_->signing_key, sts));
      if (trailer_signature_.size() != expected.size() ||
          CRYPTO_memcmp(trailer_signature_.data(), expected.data(), expected.size()) != 0)
        return fail("SignatureDoesNotMatch", "the trailer signature does not match");
    }
    state_ = State::done;
    return ok_status();
  }
  if (mode_ == ChunkedMode::signed_chunks) return fail("InvalidRequest", "trailers sent without x-amz-trailer");
  trailer_bytes_ += line.size() + 2;
  if (trailer_bytes_ > limits_.max_trailer_bytes || trailers_.size() == limits_.max_trailers)
    return fail("InvalidRequest", "the trailer is too large");
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return fail("InvalidRequest", "a trailer line has no name");
  std::string name(trim_ows(line.substr(0, colon)));
  // A field name is an HTTP token (RFC 9110): an empty or blank name, or one with control bytes,
  // would be kept as a trailer no client could have sent (and that cannot be written back).
  const auto tchar = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  };
  if (name.empty() || !std::all_of(name.begin(), name.end(), tchar))
    return fail("InvalidRequest", "a trailer name is not an HTTP token");
  std::transform(name.begin(), name.end(), name.begin(),
                 [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  const std::string value(trim_ows(line.substr(colon + 1)));
  if (name == kTrailerSignature) {
    if (mode_ != ChunkedMode::signed_chunks_trailer || !trailer_signature_.empty())
      return fail("InvalidRequest", "unexpected x-amz-trailer-signature");
    trailer_signature_ = value;
    std::transform(trailer_signature_.begin(), trailer_signature_.end(), trailer_signature_.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c); });
    return ok_status();
  }
  if (!trailer_signature_.empty()) return fail("InvalidRequest", "a trailer follows the trailer signature");
  trailer_block_ += name + ":" + value + "\n";
  trailers_.emplace_back(std::move(name), value);
  return ok_status();
}

Status AwsChunkedDecoder::feed(std::string_view in, const Sink& out) {
  if (state_ == State::failed) return s3_failure("InvalidRequest", "aws-chunked body: the decoder has failed");
  while (!in.empty()) {
    switch (state_) {
      case State::size_line:
      case State::trailer: {
        const auto nl = in.find('\n');
        const std::size_t take = nl == std::string_view::npos ? in.size() : nl + 1;
        if (line_.size() + take > limits_.max_line_bytes)
          return fail("InvalidRequest", "a chunk header or trailer line is longer than " +
                                            std::to_string(limits_.max_line_bytes) + " bytes");
        line_.append(in.substr(0, take));
        in.remove_prefix(take);
        if (nl == std::string_view::npos) break;
        if (line_.size() < 2 || line_[line_.size() - 2] != '\r') return fail("InvalidRequest", "a line does not end in CRLF");
        const std::string line = line_.substr(0, line_.size() - 2);
        line_.clear();
        Status st = state_ == State::size_line ? on_size_line(line) : on_trailer_line(line);
        if (!st) return st;
        break;
      }
      case State::data: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
        const std::string_view piece = in.substr(0, n);
        if (chunk_hash_) chunk_hash_->update(piece);
        payload_bytes_ += n;
        remaining_ -= n;
        in.remove_prefix(n);
        if (Status st = out(piece); !st) {
          state_ = State::failed;
          return st;
        }
        if (remaining_ == 0) state_ = State::data_crlf;
        break;
      }
      case State::data_crlf: {
        line_ += in.front();
        in.remove_prefix(1);
        if (line_.size() < 2) break;
        if (line_ != "\r\n") return fail("InvalidRequest", "chunk data is not followed by CRLF");
        line_.clear();
        if (chunk_hash_) {
          const std::string d = chunk_hash_->digest();
          const std::string hash =
              aws::hex_lower(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(d.data()), d.size()));
          chunk_hash_.reset();
          if (auto st = check_chunk_signature(declared_signature_, hash); !st) return st;
        }
        state_ = State::size_line;
        break;
      }
      case State::done: return fail("InvalidRequest", "data after the end of the body");
      case State::failed: return s3_failure("InvalidRequest", "aws-chunked body: the decoder has failed");
    }
  }
  return ok_status();
}

Status AwsChunkedDecoder::finish() {
  if (state_ == State::done) return ok_status();
  // "0\r\n" and nothing more: an unsigned stream without trailers, as some SDKs end it.
  if (mode_ == ChunkedMode::unsigned_trailer && state_ == State::trailer && line_.empty() && trailers_.empty() &&
      saw_final_chunk_) {
    state_ = State::done;
    return ok_status();
  }
  if (state_ == State::failed) return s3_failure("InvalidRequest", "aws-chunked body: the decoder has failed");
  state_ = State::failed;
  return s3_failure("IncompleteBody", "The aws-chunked body ended before its final chunk.");
}

}  // namespace thumbflow::server
