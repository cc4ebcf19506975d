// What thumbflow learns about an image: the probe (header facts) and the render outputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/rendition.hpp"

namespace thumbflow {

// Source formats recognised by their magic bytes (never by file name).
enum class SourceFormat { unknown, jpeg, png, webp, gif, tiff, heif, avif, svg, pdf };

std::string_view to_string(SourceFormat format);

struct ImageInfo {
  SourceFormat format = SourceFormat::unknown;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t frames = 1;        // pages or animation frames
  int orientation = 1;             // EXIF orientation, 1..8
  bool has_alpha = false;
  int bits_per_sample = 8;
  int bands = 3;
  std::string colour_space;        // libvips interpretation: srgb, b-w, cmyk, rgb16, grey16, ...
  bool has_icc_profile = false;
  bool progressive = false;        // progressive JPEG or interlaced PNG/GIF
  std::optional<std::string> capture_time;  // EXIF DateTimeOriginal as "YYYY-MM-DDTHH:MM:SS"
  std::optional<std::string> camera_make;
  std::optional<std::string> camera_model;

  std::uint64_t total_pixels() const {
    return std::uint64_t{width} * std::uint64_t{height} * std::uint64_t{frames == 0 ? 1 : frames};
  }
  // Size once EXIF orientation is applied (orientations 5..8 swap the axes).
  std::uint32_t upright_width() const { return orientation >= 5 ? height : width; }
  std::uint32_t upright_height() const { return orientation >= 5 ? width : height; }
};

struct Rendition {
  std::string name;
  OutputFormat format = OutputFormat::jpeg;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::string bytes;  // the encoded file
};

struct RenderResult {
  ImageInfo source;
  std::vector<Rendition> renditions;  // one per requested spec, in order
  Rgb dominant_colour;                // over the first rendition, alpha composited on its background
  std::string blurhash;               // likewise
};

}  // namespace thumbflow
