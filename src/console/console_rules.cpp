#include "console/console_rules.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <limits>

#include "aws/primitives.hpp"
#include "pipeline/pipeline.hpp"

namespace thumbflow::console {
namespace {

template <typename T>
Status read_field(const std::function<const char*(const char*)>& getenv_fn, const char* name, T& field, T min,
                  T max) {
  const char* text = getenv_fn(name);
  if (!text || !*text) return ok_status();
  std::string_view s(text);
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value < min || value > max)
    return make_error(ErrorKind::invalid_argument, std::string(name) + ": expected a whole number from " +
                                                       std::to_string(min) + " to " + std::to_string(max) +
                                                       ", got \"" + std::string(s) + "\"");
  field = value;
  return ok_status();
}

bool digits(std::string_view s, std::size_t from, std::size_t n) {
  if (s.size() < from + n) return false;
  for (std::size_t i = from; i < from + n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

bool is_date(std::string_view s) {
  return s.size() == 10 && digits(s, 0, 4) && s[4] == '-' && digits(s, 5, 2) && s[7] == '-' && digits(s, 8, 2);
}

// YYYY-MM-DDTHH:MM[:SS[.fff]]Z, normalised to the records' form with milliseconds.
std::optional<std::string> normalise_time(std::string_view s) {
  if (s.size() < 17 || !is_date(s.substr(0, 10)) || s[10] != 'T' || s.back() != 'Z') return std::nullopt;
  std::string_view t = s.substr(11, s.size() - 12);
  if (!(digits(t, 0, 2) && t.size() >= 5 && t[2] == ':' && digits(t, 3, 2))) return std::nullopt;
  std::string hh_mm(t.substr(0, 5)), ss = "00", ms = "000";
  if (t.size() > 5) {
    if (t.size() < 8 || t[5] != ':' || !digits(t, 6, 2)) return std::nullopt;
    ss = std::string(t.substr(6, 2));
    if (t.size() > 8) {
      if (t[8] != '.' || t.size() == 9 || t.size() > 12 || !digits(t, 9, t.size() - 9)) return std::nullopt;
      ms = std::string(t.substr(9));
      ms.resize(3, '0');
    }
  }
  return std::string(s.substr(0, 10)) + "T" + hh_mm + ":" + ss + "." + ms + "Z";
}

std::string param(const std::multimap<std::string, std::string>& params, const std::string& name) {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

}  // namespace

Result<ConsoleOptions> options_from_env(const std::function<const char*(const char*)>& getenv_fn) {
  ConsoleOptions o;
  constexpr auto u64max = std::numeric_limits<std::uint64_t>::max();
  constexpr int imax = std::numeric_limits<int>::max();
  for (auto st : {read_field(getenv_fn, "THUMBFLOW_CONSOLE_MAX_FILE_BYTES", o.max_file_bytes, std::uint64_t{1}, u64max),
                  read_field(getenv_fn, "THUMBFLOW_CONSOLE_MAX_REQUEST_BYTES", o.max_request_bytes, std::uint64_t{1}, u64max),
                  read_field(getenv_fn, "THUMBFLOW_CONSOLE_MAX_FILES_PER_REQUEST", o.max_files_per_request, 1, 10'000),
                  read_field(getenv_fn, "THUMBFLOW_CONSOLE_DEFAULT_PAGE_SIZE", o.default_page_size, 1, 1000),
                  read_field(getenv_fn, "THUMBFLOW_CONSOLE_MAX_PAGE_SIZE", o.max_page_size, 1, 1000),
                  read_field(getenv_fn, "THUMBFLOW_CONSOLE_MAX_EVENT_STREAMS", o.max_event_streams, 1, 1000),
                  read_field(getenv_fn, "THUMBFLOW_CONSOLE_EVENT_KEEPALIVE_MS", o.event_keepalive_ms, 100, 3'600'000),
                  read_field(getenv_fn, "THUMBFLOW_CONSOLE_EVENT_BACKLOG", o.event_backlog, 1, 1'000'000),
                  read_field(getenv_fn, "THUMBFLOW_CONSOLE_HTTP_THREADS", o.http_threads, 2, 1024),
                  read_field(getenv_fn, "THUMBFLOW_CONSOLE_SESSION_MAX_AGE_S", o.session_max_age_s, 60, imax),
                  read_field(getenv_fn, "THUMBFLOW_CONSOLE_ACTIVITY_MAX_RECORDS", o.activity_max_records, 1, 1'000'000)})
    if (!st) return st.error();
  if (o.default_page_size > o.max_page_size)
    return make_error(ErrorKind::invalid_argument,
                      "THUMBFLOW_CONSOLE_DEFAULT_PAGE_SIZE: must not exceed max_page_size (" +
                          std::to_string(o.max_page_size) + ")");
  if (o.max_file_bytes > o.max_request_bytes)
    return make_error(ErrorKind::invalid_argument, "THUMBFLOW_CONSOLE_MAX_FILE_BYTES: must not exceed max_request_bytes (" +
                                                       std::to_string(o.max_request_bytes) + ")");
  // Streams may not take every HTTP thread, or the page could not load its assets.
  if (o.max_event_streams > o.http_threads - 2)
    return make_error(ErrorKind::invalid_argument, "THUMBFLOW_CONSOLE_MAX_EVENT_STREAMS: must leave two of the " +
                                                       std::to_string(o.http_threads) + " HTTP threads free");
  return o;
}

bool same_token(std::string_view expected, std::string_view given) {
  unsigned char diff = expected.size() == given.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ (expected.empty() ? 0 : expected[i % expected.size()]));
  return diff == 0 && !expected.empty();
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
  }
  return std::nullopt;
}

std::string session_value(std::string_view token) {
  return aws::sha256_hex("thumbflow-console-session-v1:" + std::string(token));
}

Result<std::string> upload_key(std::string_view prefix, std::string_view filename) {
  auto slash = filename.find_last_of("/\\");
  std::string_view base = slash == std::string_view::npos ? filename : filename.substr(slash + 1);
  if (base.empty() || base == "." || base == "..")
    return make_error(ErrorKind::invalid_argument, "a file needs a name (got \"" + std::string(filename) + "\")");
  if (base.size() > 1024) return make_error(ErrorKind::invalid_argument, "a file name is over 1024 bytes");
  for (char c : base)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return make_error(ErrorKind::invalid_argument, "a file name holds a control character");
  return std::string(prefix) + std::string(base);
}

Result<catalog::DateQuery> list_query(const std::multimap<std::string, std::string>& params,
                                      const ConsoleOptions& options) {
  catalog::DateQuery q;
  q.limit = options.default_page_size;
  if (auto since = param(params, "since"); !since.empty()) {
    if (is_date(since)) q.from = since + "T00:00:00.000Z";
    else if (auto t = normalise_time(since)) q.from = *t;
    else return make_error(ErrorKind::invalid_argument, "since: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
  }
  if (auto until = param(params, "until"); !until.empty()) {
    if (is_date(until)) q.to = until + "T23:59:59.999Z";
    else if (auto t = normalise_time(until)) q.to = *t;
    else return make_error(ErrorKind::invalid_argument, "until: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
  }
  if (auto status = param(params, "status"); !status.empty()) {
    auto s = parse_record_status(status);
    if (!s) return make_error(ErrorKind::invalid_argument, "status: expected processed or failed");
    q.status = *s;
  }
  if (auto limit = param(params, "limit"); !limit.empty()) {
    int n = 0;
    auto [end, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), n);
    if (ec != std::errc() || end != limit.data() + limit.size() || n < 1 || n > options.max_page_size)
      return make_error(ErrorKind::invalid_argument,
                        "limit: expected a number from 1 to " + std::to_string(options.max_page_size));
    q.limit = n;
  }
  q.page_token = param(params, "pageToken");
  return q;
}

std::string_view source_content_type(const std::optional<ImageInfo>& info) {
  if (!info) return "application/octet-stream";
  switch (info->format) {
    case SourceFormat::jpeg: return "image/jpeg";
    case SourceFormat::png: return "image/png";
    case SourceFormat::webp: return "image/webp";
    case SourceFormat::gif: return "image/gif";
    case SourceFormat::tiff: return "image/tiff";
    case SourceFormat::heif: return "image/heif";
    case SourceFormat::avif: return "image/avif";
    // SVG can carry script and PDF is a document: both only ever as bytes to save.
    case SourceFormat::svg:
    case SourceFormat::pdf:
    case SourceFormat::unknown: return "application/octet-stream";
  }
  return "application/octet-stream";
}

std::string content_disposition(std::string_view key, bool attachment) {
  auto slash = key.rfind('/');
  std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  std::string ascii, encoded;
  static const char* hex = "0123456789ABCDEF";
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    bool plain = std::isalnum(c) || c == '.' || c == '-' || c == '_';
    ascii += plain ? ch : '_';
    if (plain) {
      encoded += ch;
    } else {
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
  }
  if (ascii.empty()) ascii = encoded = "file";
  return std::string(attachment ? "attachment" : "inline") + "; filename=\"" + ascii + "\"; filename*=UTF-8''" +
         encoded;
}

std::string iso8601_ms(std::chrono::system_clock::time_point at) { return pipeline::iso8601(at); }

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) {
  auto t = normalise_time(text);
  if (!t) return std::nullopt;
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(t->c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

std::vector<ActivityBucket> activity(const std::vector<ImageRecord>& records, std::chrono::system_clock::time_point now,
                                     int minutes) {
  if (minutes < 1) minutes = 1;
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::int64_t last_start = now_ms - now_ms % 60'000;
  const std::int64_t first_start = last_start - static_cast<std::int64_t>(minutes - 1) * 60'000;
  std::vector<ActivityBucket> out(static_cast<std::size_t>(minutes));
  for (std::size_t i = 0; i < out.size(); ++i) out[i].start_ms = first_start + static_cast<std::int64_t>(i) * 60'000;
  for (const auto& r : records) {
    auto at = parse_iso8601_ms(r.upload_date);
    if (!at || *at < first_start || *at >= last_start + 60'000) continue;
    auto& b = out[static_cast<std::size_t>((*at - first_start) / 60'000)];
    (r.status == RecordStatus::processed ? b.processed : b.failed) += 1;
  }
  return out;
}

}  // namespace thumbflow::console
