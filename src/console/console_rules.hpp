// The console's pure rules, apart from sockets so they are tested directly: its limits, token
// and cookie checks, where an uploaded file goes, how list queries are read, and the
// processed/failed figures per minute that the page charts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.hpp"
#include "core/error.hpp"
#include "core/image_info.hpp"
#include "core/image_record.hpp"

namespace thumbflow::console {

// Every limit of the console, with its default. Each can be overridden at start by
// THUMBFLOW_CONSOLE_<FIELD> (upper case), e.g. THUMBFLOW_CONSOLE_MAX_FILE_BYTES=1048576.
struct ConsoleOptions {
  // One uploaded file. The pipeline refuses sources over limits.max_source_bytes anyway; the
  // console holds a request in memory until every file in it is checked, so it caps lower.
  std::uint64_t max_file_bytes = 64ULL * 1024 * 1024;
  // One upload request (every file and the multipart framing). Over it: 413 before any byte
  // is stored.
  std::uint64_t max_request_bytes = 128ULL * 1024 * 1024;
  int max_files_per_request = 20;
  int default_page_size = 48;
  int max_page_size = 200;
  // Open server-sent-event streams at once; each holds one HTTP thread.
  int max_event_streams = 8;
  // A comment line this often keeps proxies from closing a quiet stream and finds gone readers.
  int event_keepalive_ms = 10'000;
  // Events kept for readers that reconnect (Last-Event-ID) or lag.
  int event_backlog = 256;
  // HTTP threads of the console port (streams, page assets and API calls share them).
  int http_threads = 24;
  // How long the login cookie lasts.
  int session_max_age_s = 7 * 24 * 3600;
  // Records read for the activity chart (the last hour); more are not counted.
  int activity_max_records = 10'000;
};

// Reads THUMBFLOW_CONSOLE_<FIELD> through getenv (a parameter so tests pass their own);
// an unreadable or out-of-range value is an error naming the variable.
Result<ConsoleOptions> options_from_env(const std::function<const char*(const char*)>& getenv_fn);

// Compares in time independent of where the strings differ.
bool same_token(std::string_view expected, std::string_view given);
// The value of cookie `name` in a Cookie header ("a=1; b=2").
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);
// The login cookie's value for a token: derived, so the cookie jar never holds the token itself.
std::string session_value(std::string_view token);
inline constexpr std::string_view kSessionCookie = "thumbflow_session";

// Where an uploaded file is stored: prefix + the file's base name (anything after the last /
// or \). Refuses empty names, "." and "..", control characters and names over 1024 bytes.
// Everything else (quotes, angle brackets, spaces, non-ASCII) is kept: keys are data.
Result<std::string> upload_key(std::string_view prefix, std::string_view filename);

// GET /api/images parameters: since, until (ISO-8601 date or time, UTC; a bare date as until
// means the whole day), status (processed|failed), limit (1..max_page_size), pageToken.
Result<catalog::DateQuery> list_query(const std::multimap<std::string, std::string>& params,
                                      const ConsoleOptions& options);

// Content-Type for a source object served back: from the probed format, never from what the
// uploader claimed (a "photo" stored as text/html must not render as a page).
std::string_view source_content_type(const std::optional<ImageInfo>& info);
// Content-Disposition naming the file, RFC 6266/5987 encoded (keys are hostile).
std::string content_disposition(std::string_view key, bool attachment);

struct ActivityBucket {
  std::int64_t start_ms = 0;  // the minute's start
  int processed = 0;
  int failed = 0;
};
// `minutes` one-minute buckets ending with the one holding now, counted by uploadDate.
std::vector<ActivityBucket> activity(const std::vector<ImageRecord>& records,
                                     std::chrono::system_clock::time_point now, int minutes);
// ISO-8601 UTC with milliseconds, as records carry.
std::string iso8601_ms(std::chrono::system_clock::time_point at);
// ms since the epoch of "YYYY-MM-DDTHH:MM:SS[.mmm]Z"; nothing when unreadable.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

}  // namespace thumbflow::console
