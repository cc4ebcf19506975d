#include "catalog/catalog_rules.hpp"

#include <array>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/json.hpp"

namespace thumbflow::catalog {
namespace {

bool digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// "YYYY-MM-DD" with a real calendar date.
bool is_day(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  if (!digits(text, 0, 4, y) || !digits(text, 5, 2, m) || !digits(text, 8, 2, d)) return false;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                  std::chrono::day{static_cast<unsigned>(d)}};
  return ymd.ok();
}

// "YYYY-MM-DDTHH:MM:SS" (19 characters).
bool is_second(std::string_view text) {
  int h = 0, mi = 0, s = 0;
  if (text.size() != 19 || !is_day(text.substr(0, 10)) || text[10] != 'T' || text[13] != ':' || text[16] != ':')
    return false;
  return digits(text, 11, 2, h) && digits(text, 14, 2, mi) && digits(text, 17, 2, s) && h < 24 && mi < 60 &&
         s < 60;
}

enum class BoundEnd { lower, upper };

Result<std::string> normalize_bound(std::string_view text, BoundEnd end, const char* name) {
  if (text.empty()) return std::string{};
  const bool lower = end == BoundEnd::lower;
  if (is_upload_date(text)) return std::string(text);
  if (is_day(text)) return std::string(text) + (lower ? "T00:00:00.000Z" : "T23:59:59.999Z");
  if (text.size() == 20 && text.back() == 'Z' && is_second(text.substr(0, 19)))
    return std::string(text.substr(0, 19)) + (lower ? ".000Z" : ".999Z");
  return make_error(ErrorKind::invalid_argument,
                    std::string(name) + " '" + std::string(text.substr(0, 64)) +
                        "' is not a date: use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS.mmmZ");
}

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kBase64Url[(v >> s) & 63u]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    std::uint32_t v = byte(i) << 16;
    out.push_back(kBase64Url[(v >> 18) & 63u]);
    out.push_back(kBase64Url[(v >> 12) & 63u]);
  } else if (rest == 2) {
    std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    out.push_back(kBase64Url[(v >> 18) & 63u]);
    out.push_back(kBase64Url[(v >> 12) & 63u]);
    out.push_back(kBase64Url[(v >> 6) & 63u]);
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    std::uint32_t v = 0;
    if (c >= 'A' && c <= 'Z') v = static_cast<std::uint32_t>(c - 'A');
    else if (c >= 'a' && c <= 'z') v = static_cast<std::uint32_t>(c - 'a' + 26);
    else if (c >= '0' && c <= '9') v = static_cast<std::uint32_t>(c - '0' + 52);
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return std::nullopt;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xffu));
    }
  }
  // Leftover bits must be zero, so that each byte string has exactly one token.
  if ((acc & ((1u << bits) - 1u)) != 0) return std::nullopt;
  return out;
}

Error bad_token(const std::string& why) {
  return make_error(ErrorKind::invalid_argument, "invalid page token: " + why + " (pass back next_page_token as given)");
}

}  // namespace

Status validate_record(const ImageRecord& record) {
  if (record.image_id.empty()) return make_error(ErrorKind::invalid_argument, "record has no imageId");
  if (record.image_id.size() > kMaxImageIdBytes)
    return make_error(ErrorKind::invalid_argument, "imageId is longer than " + std::to_string(kMaxImageIdBytes) +
                                                       " bytes");
  if (record.original_key.empty())
    return make_error(ErrorKind::invalid_argument, "record " + record.image_id + " has no originalImage");
  if (!is_upload_date(record.upload_date))
    return make_error(ErrorKind::invalid_argument, "record " + record.image_id + " has uploadDate '" +
                                                       record.upload_date.substr(0, 64) +
                                                       "', expected YYYY-MM-DDTHH:MM:SS.mmmZ");
  // Both catalogs store text as UTF-8 (SQLite's JSON column, DynamoDB's S type): refuse bytes
  // that are not, here, rather than fail half-way through a write.
  try {
    nlohmann::json j = record;
    (void)j.dump();
  } catch (const nlohmann::json::exception&) {
    return make_error(ErrorKind::invalid_argument, "record " + record.image_id.substr(0, 64) +
                                                       " has text that is not valid UTF-8");
  }
  return ok_status();
}

Status validate_limit(int limit) {
  if (limit < 1 || limit > kMaxPageSize)
    return make_error(ErrorKind::invalid_argument,
                      "page size " + std::to_string(limit) + " is outside 1.." + std::to_string(kMaxPageSize));
  return ok_status();
}

bool is_upload_date(std::string_view text) {
  int ms = 0;
  return text.size() == 24 && is_second(text.substr(0, 19)) && text[19] == '.' && digits(text, 20, 3, ms) &&
         text[23] == 'Z';
}

std::string format_upload_date(std::chrono::system_clock::time_point time) {
  auto ms = std::chrono::floor<std::chrono::milliseconds>(time);
  auto secs = std::chrono::floor<std::chrono::seconds>(ms);
  std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 96> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>((ms - secs).count()));
  return buf.data();
}

Result<std::string> normalize_lower_bound(std::string_view from) {
  return normalize_bound(from, BoundEnd::lower, "from");
}
Result<std::string> normalize_upper_bound(std::string_view to) { return normalize_bound(to, BoundEnd::upper, "to"); }

std::string_view upload_day(std::string_view upload_date) { return upload_date.substr(0, 10); }

Result<std::chrono::sys_days> parse_day(std::string_view yyyy_mm_dd) {
  if (!is_day(yyyy_mm_dd))
    return make_error(ErrorKind::invalid_argument, "'" + std::string(yyyy_mm_dd.substr(0, 32)) + "' is not YYYY-MM-DD");
  int y = 0, m = 0, d = 0;
  digits(yyyy_mm_dd, 0, 4, y);
  digits(yyyy_mm_dd, 5, 2, m);
  digits(yyyy_mm_dd, 8, 2, d);
  return std::chrono::sys_days{std::chrono::year_month_day{std::chrono::year{y},
                                                           std::chrono::month{static_cast<unsigned>(m)},
                                                           std::chrono::day{static_cast<unsigned>(d)}}};
}

std::string format_day(std::chrono::sys_days day) {
  std::chrono::year_month_day ymd{day};
  std::array<char, 48> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf.data();
}

// Form (before base64url): "1" (version), 'p' or 'k' (kind), then each field as its decimal
// byte length, ':' and the bytes. Length prefixes carry any bytes (ids are caller data), and the
// decoder accepts exactly what the encoder writes.
std::string encode_page_token(const PageToken& token) {
  std::string raw = "1";
  auto field = [&](std::string_view value) {
    raw += std::to_string(value.size());
    raw += ':';
    raw += value;
  };
  if (token.kind == PageToken::Kind::after_position) {
    raw += 'p';
    field(token.upload_date);
  } else {
    raw += 'k';
  }
  field(token.image_id);
  return base64url_encode(raw);
}

Result<PageToken> decode_page_token(std::string_view text) {
  if (text.size() > kMaxPageTokenLength) return bad_token("too long");
  auto bytes = base64url_decode(text);
  if (!bytes) return bad_token("not base64url");
  std::string_view rest = *bytes;
  auto field = [&]() -> std::optional<std::string> {
    std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 5) return std::nullopt;
    std::size_t length = 0;
    for (char c : rest.substr(0, colon)) {
      if (c < '0' || c > '9') return std::nullopt;
      length = length * 10 + static_cast<std::size_t>(c - '0');
    }
    if (rest.substr(0, colon) != std::to_string(length)) return std::nullopt;  // no leading zeros
    rest.remove_prefix(colon + 1);
    if (length > rest.size()) return std::nullopt;
    std::string value(rest.substr(0, length));
    rest.remove_prefix(length);
    return value;
  };
  if (rest.size() < 2 || rest[0] != '1') return bad_token("unknown version");
  const char kind = rest[1];
  rest.remove_prefix(2);
  PageToken token;
  if (kind == 'p') {
    auto date = field();
    if (!date || !is_upload_date(*date)) return bad_token("bad position");
    token.kind = PageToken::Kind::after_position;
    token.upload_date = std::move(*date);
  } else if (kind == 'k') {
    token.kind = PageToken::Kind::after_key;
  } else {
    return bad_token("unknown kind");
  }
  auto id = field();
  if (!id || id->empty() || id->size() > kMaxImageIdBytes) return bad_token("bad image id");
  if (!rest.empty()) return bad_token("trailing bytes");
  token.image_id = std::move(*id);
  return token;
}

}  // namespace thumbflow::catalog
