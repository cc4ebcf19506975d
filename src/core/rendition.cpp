#include "core/rendition.hpp"

#include <charconv>
#include <cstdio>

namespace thumbflow {

std::string_view to_string(OutputFormat format) {
  switch (format) {
    case OutputFormat::jpeg: return "jpeg";
    case OutputFormat::webp: return "webp";
    case OutputFormat::png: return "png";
    case OutputFormat::avif: return "avif";
  }
  return "jpeg";
}

std::string_view file_extension(OutputFormat format) {
  return format == OutputFormat::jpeg ? "jpg" : to_string(format);
}

std::string_view content_type(OutputFormat format) {
  switch (format) {
    case OutputFormat::jpeg: return "image/jpeg";
    case OutputFormat::webp: return "image/webp";
    case OutputFormat::png: return "image/png";
    case OutputFormat::avif: return "image/avif";
  }
  return "application/octet-stream";
}

Result<OutputFormat> parse_output_format(std::string_view text) {
  if (text == "jpeg" || text == "jpg") return OutputFormat::jpeg;
  if (text == "webp") return OutputFormat::webp;
  if (text == "png") return OutputFormat::png;
  if (text == "avif") return OutputFormat::avif;
  return make_error(ErrorKind::invalid_argument,
                    "unknown output format '" + std::string(text) + "' (expected jpeg, webp, png or avif)");
}

std::string to_hex(Rgb c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

namespace {

template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool parse_hex_byte(std::string_view two, std::uint8_t& out) {
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(two.data(), two.data() + two.size(), v, 16);
  if (ec != std::errc() || ptr != two.data() + two.size()) return false;
  out = static_cast<std::uint8_t>(v);
  return true;
}

}  // namespace

Result<Rgb> parse_rgb(std::string_view text) {
  auto bad = [&] {
    return make_error(ErrorKind::invalid_argument,
                      "bad colour '" + std::string(text) + "' (expected #rrggbb or r,g,b)");
  };
  std::string_view t = text;
  if (!t.empty() && t.front() == '#') t.remove_prefix(1);
  Rgb c;
  if (t.size() == 6 && t.find(',') == std::string_view::npos) {
    if (!parse_hex_byte(t.substr(0, 2), c.r) || !parse_hex_byte(t.substr(2, 2), c.g) ||
        !parse_hex_byte(t.substr(4, 2), c.b))
      return bad();
    return c;
  }
  std::uint8_t* parts[3] = {&c.r, &c.g, &c.b};
  for (int i = 0; i < 3; ++i) {
    auto comma = t.find(',');
    if ((i < 2) != (comma != std::string_view::npos)) return bad();
    unsigned v = 0;
    if (!parse_number(t.substr(0, comma), v) || v > 255) return bad();
    *parts[i] = static_cast<std::uint8_t>(v);
    t = i < 2 ? t.substr(comma + 1) : std::string_view{};
  }
  return c;
}

Result<Size> parse_size(std::string_view text) {
  auto bad = [&] {
    return make_error(ErrorKind::invalid_argument,
                      "bad size '" + std::string(text) + "' (expected WxH or N, each 1..32767)");
  };
  Size s;
  auto x = text.find('x');
  if (x == std::string_view::npos) {
    if (!parse_number(text, s.width)) return bad();
    s.height = s.width;
  } else if (!parse_number(text.substr(0, x), s.width) || !parse_number(text.substr(x + 1), s.height)) {
    return bad();
  }
  if (s.width == 0 || s.height == 0 || s.width > 32767 || s.height > 32767) return bad();
  return s;
}

Status RenditionSpec::validate() const {
  if (width == 0 || height == 0 || width > 32767 || height > 32767)
    return make_error(ErrorKind::invalid_argument,
                      "rendition '" + name + "': width and height must be 1..32767");
  if (quality < 1 || quality > 100)
    return make_error(ErrorKind::invalid_argument, "rendition '" + name + "': quality must be 1..100");
  if (name.empty()) return make_error(ErrorKind::invalid_argument, "rendition name must not be empty");
  return ok_status();
}

}  // namespace thumbflow
