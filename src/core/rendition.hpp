// What to make from a source image: one RenditionSpec per output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace thumbflow {

enum class OutputFormat { jpeg, webp, png, avif };

std::string_view to_string(OutputFormat format);
std::string_view file_extension(OutputFormat format);  // without the dot: "jpg", "webp", ...
std::string_view content_type(OutputFormat format);    // "image/jpeg", ...
Result<OutputFormat> parse_output_format(std::string_view text);

// Whether a format can carry an alpha channel (otherwise alpha is flattened onto the background).
constexpr bool supports_alpha(OutputFormat f) { return f != OutputFormat::jpeg; }

struct Rgb {
  std::uint8_t r = 255, g = 255, b = 255;
  bool operator==(const Rgb&) const = default;
};
std::string to_hex(Rgb c);                       // "#rrggbb"
Result<Rgb> parse_rgb(std::string_view text);    // "#rrggbb", "rrggbb" or "r,g,b"

struct Size {
  std::uint32_t width = 0, height = 0;
  bool operator==(const Size&) const = default;
};
Result<Size> parse_size(std::string_view text);  // "WxH" or "N" (a square)

struct RenditionSpec {
  std::string name = "thumbnail";
  std::uint32_t width = 128;   // the output fits inside width x height, aspect kept
  std::uint32_t height = 128;
  OutputFormat format = OutputFormat::jpeg;
  int quality = 80;            // 1..100, for JPEG, WebP and AVIF
  bool upscale = false;        // smaller sources are left at their size unless asked
  Rgb background{};            // alpha is flattened onto this for formats without alpha

  Status validate() const;
};

}  // namespace thumbflow
