#include "catalog/image_id.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>

namespace thumbflow::catalog {
namespace {

constexpr std::string_view kDomain = "thumbflow-image-id-v1";
constexpr std::size_t kIdHexDigits = 32;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

void update(EVP_MD_CTX* ctx, std::string_view bytes) {
  if (EVP_DigestUpdate(ctx, bytes.data(), bytes.size()) != 1) throw std::runtime_error("SHA-256 update failed");
}

void update_field(EVP_MD_CTX* ctx, std::string_view field) {
  std::array<char, 8> length{};
  auto n = static_cast<std::uint64_t>(field.size());
  for (std::size_t i = 0; i < length.size(); ++i)
    length[length.size() - 1 - i] = static_cast<char>(static_cast<unsigned char>((n >> (8 * i)) & 0xffu));
  update(ctx, std::string_view(length.data(), length.size()));
  update(ctx, field);
}

}  // namespace

std::string make_image_id(std::string_view bucket, std::string_view key, std::string_view version_or_etag) {
  // OpenSSL only fails here when it cannot allocate or load its default provider: nothing a
  // caller could handle, so it ends the operation like an allocation failure would.
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 init failed");
  update(ctx.get(), kDomain);
  update_field(ctx.get(), bucket);
  update_field(ctx.get(), key);
  update_field(ctx.get(), version_or_etag);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest.data(), &size) != 1 || size < kIdHexDigits / 2)
    throw std::runtime_error("SHA-256 final failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(kIdHexDigits);
  for (std::size_t i = 0; i < kIdHexDigits / 2; ++i) {
    id.push_back(kHex[digest[i] >> 4]);
    id.push_back(kHex[digest[i] & 0x0f]);
  }
  return id;
}

}  // namespace thumbflow::catalog
