// Rules both catalogs share, so SQLite and DynamoDB accept and refuse the same inputs: what a
// storable record is, how date bounds are read, how a page token is written, and the limits.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "catalog/catalog.hpp"
#include "core/error.hpp"
#include "core/image_record.hpp"

namespace thumbflow::catalog {

// ---- Limits ------------------------------------------------------------------------------------
// Records per page (DateQuery::limit, query_by_status): 1..kMaxPageSize.
inline constexpr int kMaxPageSize = 1000;
// An imageId is 32 hex digits when made by make_image_id; callers with their own ids get room,
// well under DynamoDB's 2048-byte partition key limit.
inline constexpr std::size_t kMaxImageIdBytes = 512;
// A page token longer than this was not written by us.
inline constexpr std::size_t kMaxPageTokenLength = 2048;

// ---- Records -----------------------------------------------------------------------------------
// A storable record has a non-empty image_id (at most kMaxImageIdBytes), a non-empty
// original_key, and an upload_date in the canonical form (is_upload_date): every date query
// compares these strings, so one odd form would sort wrongly. invalid_argument otherwise.
Status validate_record(const ImageRecord& record);
Status validate_limit(int limit);

// ---- Dates -------------------------------------------------------------------------------------
// The canonical upload date: "YYYY-MM-DDTHH:MM:SS.mmmZ", UTC, exactly 24 characters, a real
// calendar date. Its byte order is its time order.
bool is_upload_date(std::string_view text);
std::string format_upload_date(std::chrono::system_clock::time_point time);

// Query bounds are inclusive and may be given as a day ("2026-11-25"), a time to the second
// ("2026-11-25T12:00:00Z") or a canonical upload date. A lower bound is widened to the first
// millisecond it covers and an upper bound to the last, so from = to = "2026-11-25" is that
// whole day. Empty stays empty (no bound). Anything else: invalid_argument.
Result<std::string> normalize_lower_bound(std::string_view from);
Result<std::string> normalize_upper_bound(std::string_view to);

// "YYYY-MM-DD" of an upload date, and day arithmetic for walking a range day by day.
std::string_view upload_day(std::string_view upload_date);
Result<std::chrono::sys_days> parse_day(std::string_view yyyy_mm_dd);
std::string format_day(std::chrono::sys_days day);

// ---- Page tokens -------------------------------------------------------------------------------
// Where the previous page stopped. Opaque to callers: base64url (no padding) of a small JSON
// object with a version, so the form can change without misreading old tokens.
struct PageToken {
  enum class Kind {
    after_position,  // records strictly older than (upload_date, image_id), newest first
    after_key,       // a key-ordered scan resumes after image_id (DynamoDB status scan)
  };
  Kind kind = Kind::after_position;
  std::string upload_date;  // after_position only
  std::string image_id;
  bool operator==(const PageToken&) const = default;
};

std::string encode_page_token(const PageToken& token);
// invalid_argument for anything encode_page_token did not write.
Result<PageToken> decode_page_token(std::string_view text);

// Orders records as every query returns them: newest upload first, then by imageId descending
// so that equal upload dates still have one order and keyset pagination is exact.
inline bool newer_first(std::string_view date_a, std::string_view id_a, std::string_view date_b,
                        std::string_view id_b) {
  if (date_a != date_b) return date_a > date_b;
  return id_a > id_b;
}

}  // namespace thumbflow::catalog
