// OpenSSL-backed hashing and the strict text codecs of SigV4 (see primitives.hpp for the policy).
#include "aws/primitives.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <cstdint>

namespace thumbflow::aws {
namespace {

const unsigned char* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool all_digits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int to_int(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

void append_padded(std::string& out, long long value, int width) {
  std::string digits = std::to_string(value);
  for (auto n = static_cast<int>(digits.size()); n < width; ++n) out += '0';
  out += digits;
}

}  // namespace

Digest sha256(std::string_view bytes) {
  Digest out{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size()) {
    throw CryptoError("OpenSSL EVP_Digest(SHA-256) failed");
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  return hex_lower(sha256(bytes));
}

Digest hmac_sha256(std::span<const unsigned char> key, std::string_view data) {
  if (key.size() > static_cast<std::size_t>(INT_MAX)) throw CryptoError("HMAC key too long");
  Digest out{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes_of(data), data.size(), out.data(),
           &size) == nullptr ||
      size != out.size()) {
    throw CryptoError("OpenSSL HMAC(SHA-256) failed");
  }
  return out;
}

Digest hmac_sha256(std::string_view key, std::string_view data) {
  return hmac_sha256(std::span<const unsigned char>(bytes_of(key), key.size()), data);
}

std::string hex_lower(std::span<const unsigned char> bytes) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0f];
  }
  return out;
}

std::string uri_encode(std::string_view text, bool encode_slash) {
  static constexpr std::string_view kDigits = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out += ch;
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0x0f];
    }
  }
  return out;
}

Result<std::string> uri_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i] == '+' && plus_is_space ? ' ' : text[i];
      continue;
    }
    const bool complete = i + 2 < text.size();
    const int hi = complete ? hex_value(text[i + 1]) : -1;
    const int lo = complete ? hex_value(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return make_error(ErrorKind::invalid_argument,
                        "invalid percent-encoding at offset " + std::to_string(i));
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Result<std::string> format_amz_date(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(time);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) {
    return make_error(ErrorKind::invalid_argument, "time is outside the years 0000-9999 of an amz date");
  }
  const hh_mm_ss<seconds> hms{secs - day};
  std::string out;
  out.reserve(16);
  append_padded(out, y, 4);
  append_padded(out, static_cast<unsigned>(ymd.month()), 2);
  append_padded(out, static_cast<unsigned>(ymd.day()), 2);
  out += 'T';
  append_padded(out, hms.hours().count(), 2);
  append_padded(out, hms.minutes().count(), 2);
  append_padded(out, hms.seconds().count(), 2);
  out += 'Z';
  return out;
}

Result<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text) {
  using namespace std::chrono;
  auto fail = [&] {
    return make_error(ErrorKind::invalid_argument, "not an amz date (expected YYYYMMDDTHHMMSSZ): '" +
                                                       std::string(text.substr(0, 32)) + "'");
  };
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z' || !all_digits(text.substr(0, 8)) ||
      !all_digits(text.substr(9, 6))) {
    return fail();
  }
  const year_month_day ymd{year{to_int(text.substr(0, 4))},
                           month{static_cast<unsigned>(to_int(text.substr(4, 2)))},
                           day{static_cast<unsigned>(to_int(text.substr(6, 2)))}};
  const int h = to_int(text.substr(9, 2));
  const int m = to_int(text.substr(11, 2));
  const int s = to_int(text.substr(13, 2));
  if (!ymd.ok() || h > 23 || m > 59 || s > 59) return fail();
  // Compared in days: converting an out-of-range date to the clock's duration would overflow.
  const sys_days first = ceil<days>(system_clock::time_point::min()) + days{1};
  const sys_days last = floor<days>(system_clock::time_point::max()) - days{1};
  if (sys_days{ymd} < first || sys_days{ymd} > last) {
    return make_error(ErrorKind::invalid_argument,
                      "amz date " + std::string(text) + " is outside the range of the system clock");
  }
  return system_clock::time_point{sys_days{ymd} + hours{h} + minutes{m} + seconds{s}};
}

}  // namespace thumbflow::aws
