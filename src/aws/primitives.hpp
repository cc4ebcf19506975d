// Byte-level building blocks of AWS Signature Version 4: SHA-256, HMAC-SHA256, lower-case hex,
// the RFC 3986 percent-encoding SigV4 prescribes, and the compact "amz date" timestamp.
//
// Policy: OpenSSL does all cryptography (one-shot EVP_Digest / HMAC, no handle outlives a call).
// OpenSSL failing to hash memory only happens when allocation fails or its provider cannot load;
// that ends the operation with CryptoError, which the Result-returning SigV4 entry points turn
// into ErrorKind::internal. Everything a remote party controls (percent-encoded text, dates) is
// parsed strictly and returns a Result instead.
#pragma once

#include <array>
#include <chrono>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace thumbflow::aws {

// A SHA-256 or HMAC-SHA256 output.
using Digest = std::array<unsigned char, 32>;

// OpenSSL could not compute a digest (see the policy above).
class CryptoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Digest sha256(std::string_view bytes);
std::string sha256_hex(std::string_view bytes);
Digest hmac_sha256(std::span<const unsigned char> key, std::string_view data);
Digest hmac_sha256(std::string_view key, std::string_view data);
std::string hex_lower(std::span<const unsigned char> bytes);

// RFC 3986 encoding as SigV4 defines it: A-Z a-z 0-9 '-' '.' '_' '~' stay, every other byte
// becomes %XX with upper-case hex (UTF-8 is encoded byte by byte). '/' stays unless encode_slash.
std::string uri_encode(std::string_view text, bool encode_slash);
// Strict percent-decoding: '%' must be followed by two hex digits. In paths '+' is a literal
// plus (RFC 3986); in query strings pass plus_is_space: botocore sends a space as '+' there (it
// signs "%20"), and S3 and RADOS Gateway decode it so; a real plus arrives as %2B.
Result<std::string> uri_decode(std::string_view text, bool plus_is_space = false);

// "YYYYMMDD'T'HHMMSS'Z'" in UTC, sub-second part dropped. Years outside 0000-9999 cannot be
// written in this form and are refused (unreachable with a nanosecond system clock).
Result<std::string> format_amz_date(std::chrono::system_clock::time_point time);
// The inverse; exactly 16 characters, a real calendar date and time (no leap second 60), and a
// day the system clock can hold (with libstdc++'s nanosecond clock: 1677 to 2262).
Result<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text);

}  // namespace thumbflow::aws
