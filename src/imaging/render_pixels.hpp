// An internal entry point beside render(): the pixels of one rendition exactly as they go into
// the encoder (decoded, shrunk, upright, 8-bit sRGB, alpha flattened or kept as the output
// format needs). For quality tests and benchmarks that must look at the thumbnail before lossy
// encoding; the pipeline calls render().
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/image_info.hpp"
#include "core/limits.hpp"
#include "core/rendition.hpp"

namespace thumbflow::imaging {

struct RenderedPixels {
  std::vector<std::uint8_t> data;  // interleaved, row after row, no padding
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t bands = 0;  // 3 (sRGB) or 4 (sRGB + alpha, for formats that keep alpha)
};

// The same checks as render() (size, sniff, probe, limits) and the same errors.
Result<RenderedPixels> render_pixels(std::string_view bytes, const RenditionSpec& spec, const Limits& limits = {});

// The header probe through libvips' loader alone, for every format: probe() reads JPEG headers
// with libjpeg and libexif instead, and tests check the two agree.
Result<ImageInfo> probe_with_libvips(std::string_view bytes);

}  // namespace thumbflow::imaging
