// Body integrity: the digests S3 clients send and the incremental hashers that check them while
// the body streams to disk. Content-MD5 (base64 MD5), x-amz-content-sha256 (hex SHA-256, signed),
// and the flexible checksums x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256} (base64 of the
// big-endian digest) as a header or as an aws-chunked trailer. Pure computation, no I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace thumbflow::server {

std::uint32_t crc32_update(std::uint32_t crc, std::string_view data);      // zlib's CRC-32 (ISO-HDLC)
std::uint32_t crc32c_update(std::uint32_t crc, std::string_view data);     // Castagnoli
std::uint64_t crc64nvme_update(std::uint64_t crc, std::string_view data);  // CRC-64/NVME

std::string base64_encode(std::string_view bytes);
// Strict: the standard alphabet, padded, no white space.
Result<std::string> base64_decode(std::string_view text);

enum class DigestKind { md5, sha1, sha256, crc32, crc32c, crc64nvme };

// Incremental digest of any kind; digest() gives the raw bytes (CRCs big-endian, as S3 encodes).
class Hasher {
 public:
  explicit Hasher(DigestKind kind);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  DigestKind kind() const { return kind_; }
  void update(std::string_view data);
  std::string digest();  // once

 private:
  DigestKind kind_;
  struct Evp;
  std::unique_ptr<Evp> evp_;
  std::uint64_t crc_ = 0;
};

// The flexible checksum algorithms S3 accepts.
struct ChecksumAlgorithm {
  DigestKind kind;
  std::string_view name;    // "CRC32", as in x-amz-sdk-checksum-algorithm and ChecksumAlgorithm
  std::string_view header;  // "x-amz-checksum-crc32"
};
const std::vector<ChecksumAlgorithm>& checksum_algorithms();
const ChecksumAlgorithm* checksum_by_header(std::string_view lower_header_name);
const ChecksumAlgorithm* checksum_by_name(std::string_view name);  // case-insensitive

// What a request says its body must hash to. Values are raw digests (decoded from base64/hex).
struct PayloadExpectations {
  std::optional<std::string> md5;     // Content-MD5
  std::optional<std::string> sha256;  // x-amz-content-sha256 when it is a hash
  std::optional<std::pair<const ChecksumAlgorithm*, std::string>> checksum;  // a checksum header
  const ChecksumAlgorithm* trailer = nullptr;  // x-amz-trailer: the checksum arrives after the body
  // Also compute this checksum (to return it) even if no value was sent.
  const ChecksumAlgorithm* compute = nullptr;
};

// From the request's headers (lower-case names). Refuses malformed digests (InvalidDigest),
// several checksum headers, or an x-amz-trailer naming something other than a checksum.
Result<PayloadExpectations> payload_expectations(const std::vector<std::pair<std::string, std::string>>& headers,
                                                 std::string_view content_sha256);

// Feeds on the body as it streams; finish() checks every expectation (BadDigest,
// XAmzContentSHA256Mismatch) once the body and its trailers are complete.
class PayloadVerifier {
 public:
  explicit PayloadVerifier(PayloadExpectations expect);
  void update(std::string_view data);
  // trailers: lower-case names, from the aws-chunked decoder.
  Status finish(const std::vector<std::pair<std::string, std::string>>& trailers = {});
  std::uint64_t bytes() const { return bytes_; }
  // After finish(): the checksum computed, for the response's x-amz-checksum-* header.
  std::optional<std::pair<const ChecksumAlgorithm*, std::string>> checksum_base64() const { return result_; }

 private:
  PayloadExpectations expect_;
  std::optional<Hasher> md5_, sha256_, checksum_;
  const ChecksumAlgorithm* checksum_alg_ = nullptr;
  std::uint64_t bytes_ = 0;
  std::optional<std::pair<const ChecksumAlgorithm*, std::string>> result_;
};

}  // namespace thumbflow::server
