#include "server/checksums.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>

#include "aws/primitives.hpp"
#include "server/s3_error.hpp"
#include "core/text.hpp"

namespace thumbflow::server {
namespace {

template <typename T, T Poly>
constexpr std::array<T, 256> reflected_table() {
  std::array<T, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    T c = static_cast<T>(i);
    for (int k = 0; k < 8; ++k) c = (c & 1) ? static_cast<T>((c >> 1) ^ Poly) : static_cast<T>(c >> 1);
    table[i] = c;
  }
  return table;
}

constexpr auto kCrc32cTable = reflected_table<std::uint32_t, 0x82F63B78u>();
constexpr auto kCrc64NvmeTable = reflected_table<std::uint64_t, 0x9A6C9329AC4BC9B5ull>();

constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string big_endian(std::uint64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  return out;
}

bool equal_digest(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::uint32_t crc32_update(std::uint32_t crc, std::string_view data) {
  uLong c = crc;
  while (!data.empty()) {
    const auto n = static_cast<uInt>(std::min<std::size_t>(data.size(), UINT_MAX));
    c = ::crc32(c, reinterpret_cast<const Bytef*>(data.data()), n);
    data.remove_prefix(n);
  }
  return static_cast<std::uint32_t>(c);
}

std::uint32_t crc32c_update(std::uint32_t crc, std::string_view data) {
  std::uint32_t c = ~crc;
  for (char ch : data) c = kCrc32cTable[(c ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (c >> 8);
  return ~c;
}

std::uint64_t crc64nvme_update(std::uint64_t crc, std::string_view data) {
  std::uint64_t c = ~crc;
  for (char ch : data) c = kCrc64NvmeTable[(c ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (c >> 8);
  return ~c;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += kBase64[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += rest == 2 ? kBase64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  auto bad = [] { return make_error(ErrorKind::invalid_argument, "not valid base64"); };
  if (text.size() % 4 != 0) return bad();
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t v = 0;
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=') {
        if (i + 4 != text.size() || k < 2) return bad();
        ++pad;
        v <<= 6;
        continue;
      }
      if (pad > 0) return bad();
      const auto pos = kBase64.find(c);
      if (pos == std::string_view::npos) return bad();
      v = (v << 6) | static_cast<std::uint32_t>(pos);
    }
    out += static_cast<char>((v >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((v >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(v & 0xFF);
  }
  return out;
}

struct Hasher::Evp {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Evp() { EVP_MD_CTX_free(ctx); }
};

Hasher::Hasher(DigestKind kind) : kind_(kind) {
  const EVP_MD* md = kind == DigestKind::md5    ? EVP_md5()
                     : kind == DigestKind::sha1 ? EVP_sha1()
                     : kind == DigestKind::sha256 ? EVP_sha256()
                                                  : nullptr;
  if (md != nullptr) {
    evp_ = std::make_unique<Evp>();
    if (evp_->ctx == nullptr || EVP_DigestInit_ex(evp_->ctx, md, nullptr) != 1)
      throw aws::CryptoError("OpenSSL EVP_DigestInit_ex failed");
  }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(std::string_view data) {
  switch (kind_) {
    case DigestKind::crc32: crc_ = crc32_update(static_cast<std::uint32_t>(crc_), data); break;
    case DigestKind::crc32c: crc_ = crc32c_update(static_cast<std::uint32_t>(crc_), data); break;
    case DigestKind::crc64nvme: crc_ = crc64nvme_update(crc_, data); break;
    default:
      if (EVP_DigestUpdate(evp_->ctx, data.data(), data.size()) != 1)
        throw aws::CryptoError("OpenSSL EVP_DigestUpdate failed");
  }
}

std::string Hasher::digest() {
  switch (kind_) {
    case DigestKind::crc32:
    case DigestKind::crc32c: return big_endian(crc_, 4);
    case DigestKind::crc64nvme: return big_endian(crc_, 8);
    default: {
      std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
      unsigned int n = 0;
      if (EVP_DigestFinal_ex(evp_->ctx, md.data(), &n) != 1) throw aws::CryptoError("OpenSSL EVP_DigestFinal_ex failed");
      return std::string(reinterpret_cast<const char*>(md.data()), n);
    }
  }
}

const std::vector<ChecksumAlgorithm>& checksum_algorithms() {
  static const std::vector<ChecksumAlgorithm> algorithms = {
      {DigestKind::crc32, "CRC32", "x-amz-checksum-crc32"},
      {DigestKind::crc32c, "CRC32C", "x-amz-checksum-crc32c"},
      {DigestKind::crc64nvme, "CRC64NVME", "x-amz-checksum-crc64nvme"},
      {DigestKind::sha1, "SHA1", "x-amz-checksum-sha1"},
      {DigestKind::sha256, "SHA256", "x-amz-checksum-sha256"},
  };
  return algorithms;
}

const ChecksumAlgorithm* checksum_by_header(std::string_view lower_header_name) {
  for (const auto& a : checksum_algorithms())
    if (a.header == lower_header_name) return &a;
  return nullptr;
}

const ChecksumAlgorithm* checksum_by_name(std::string_view name) {
  const std::string l = ascii_lower(name);
  for (const auto& a : checksum_algorithms())
    if (ascii_lower(a.name) == l) return &a;
  return nullptr;
}

namespace {
std::size_t digest_size(DigestKind k) {
  switch (k) {
    case DigestKind::md5: return 16;
    case DigestKind::sha1: return 20;
    case DigestKind::sha256: return 32;
    case DigestKind::crc32:
    case DigestKind::crc32c: return 4;
    case DigestKind::crc64nvme: return 8;
  }
  return 0;
}

Result<std::string> decode_b64_digest(std::string_view value, std::size_t size, std::string_view what) {
  auto raw = base64_decode(trim_ows(value));
  if (!raw || raw->size() != size)
    return s3_failure("InvalidDigest", "The " + std::string(what) + " you specified is not valid.");
  return raw;
}
}  // namespace

Result<PayloadExpectations> payload_expectations(const std::vector<std::pair<std::string, std::string>>& headers,
                                                 std::string_view content_sha256) {
  PayloadExpectations e;
  if (content_sha256.size() == 64) {
    std::string raw;
    for (std::size_t i = 0; i < 64; i += 2) {
      auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      const int hi = nibble(content_sha256[i]), lo = nibble(content_sha256[i + 1]);
      if (hi < 0 || lo < 0) return s3_failure("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                                                                 "STREAMING-*, or a valid sha256 value.");
      raw += static_cast<char>(hi * 16 + lo);
    }
    e.sha256 = std::move(raw);
  }
  std::string sdk_algorithm;
  for (const auto& [name, value] : headers) {
    if (name == "content-md5") {
      auto raw = decode_b64_digest(value, 16, "Content-MD5");
      if (!raw) return raw.error();
      e.md5 = std::move(*raw);
    } else if (const ChecksumAlgorithm* alg = checksum_by_header(name)) {
      if (e.checksum) return s3_failure("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple "
                                                          "checksum Types are not allowed.");
      auto raw = decode_b64_digest(value, digest_size(alg->kind), std::string(alg->name) + " checksum");
      if (!raw) return raw.error();
      e.checksum = std::make_pair(alg, std::move(*raw));
    } else if (name == "x-amz-trailer") {
      const std::string t = ascii_lower(trim_ows(value));
      e.trailer = checksum_by_header(t);
      if (!e.trailer)
        return s3_failure("InvalidRequest", "The value specified in the x-amz-trailer header is not supported");
    } else if (name == "x-amz-sdk-checksum-algorithm" || name == "x-amz-checksum-algorithm") {
      sdk_algorithm = std::string(trim_ows(value));
    }
  }
  if (e.checksum && e.trailer)
    return s3_failure("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not "
                                        "allowed.");
  if (!sdk_algorithm.empty()) {
    e.compute = checksum_by_name(sdk_algorithm);
    if (!e.compute)
      return s3_failure("InvalidRequest", "Checksum algorithm '" + sdk_algorithm + "' is not supported");
  }
  return e;
}

PayloadVerifier::PayloadVerifier(PayloadExpectations expect) : expect_(std::move(expect)) {
  if (expect_.md5) md5_.emplace(DigestKind::md5);
  if (expect_.sha256) sha256_.emplace(DigestKind::sha256);
  checksum_alg_ = expect_.checksum ? expect_.checksum->first : expect_.trailer ? expect_.trailer : expect_.compute;
  if (checksum_alg_) checksum_.emplace(checksum_alg_->kind);
}

void PayloadVerifier::update(std::string_view data) {
  bytes_ += data.size();
  if (md5_) md5_->update(data);
  if (sha256_) sha256_->update(data);
  if (checksum_) checksum_->update(data);
}

Status PayloadVerifier::finish(const std::vector<std::pair<std::string, std::string>>& trailers) {
  if (sha256_ && !equal_digest(sha256_->digest(), *expect_.sha256))
    return s3_failure("XAmzContentSHA256Mismatch");
  if (md5_ && !equal_digest(md5_->digest(), *expect_.md5))
    return s3_failure("BadDigest", "The Content-MD5 you specified did not match what we received.");
  if (checksum_) {
    const std::string computed = checksum_->digest();
    std::optional<std::string> expected;
    if (expect_.checksum) expected = expect_.checksum->second;
    if (expect_.trailer) {
      for (const auto& [name, value] : trailers) {
        if (name != expect_.trailer->header) continue;
        auto raw = decode_b64_digest(value, computed.size(), std::string(expect_.trailer->name) + " checksum");
        if (!raw) return raw.error();
        expected = std::move(*raw);
      }
      if (!expected)
        return s3_failure("InvalidRequest", "The request declared the trailer " + std::string(expect_.trailer->header) +
                                                " but did not send it");
    }
    if (expected && !equal_digest(computed, *expected))
      return s3_failure("BadDigest", "The " + std::string(checksum_alg_->name) +
                                         " you specified did not match the calculated checksum.");
    result_ = std::make_pair(checksum_alg_, base64_encode(computed));
  }
  return ok_status();
}

}  // namespace thumbflow::server
