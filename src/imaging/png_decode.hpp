// The PNG fast path: libspng directly, decoding row by row and box-shrinking each row as it
// arrives, so the full-size image is never in memory (O(row), not O(image)). libvips' PNG
// loader (libpng) costs a pipeline set-up and a full-size image held for the Lanczos resize;
// this hands resample_lanczos3 an image already shrunk by the integer factors it would use
// itself, so the result is the same as decoding everything first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/rendition.hpp"
#include "imaging/resample.hpp"

namespace thumbflow::imaging {

struct PngPixels {
  // 8-bit, alpha already flattened onto the background. 1 band for grey images that are opaque
  // or flattened onto a grey background (r == g == b), 3 for everything else (RGB, palette, grey
  // with alpha over a coloured background).
  Image8 image;
  // The full image size divided by the box factors used: a partial last box makes these
  // fractional. Pass them to resample_lanczos3 as src_width and src_height.
  double src_width = 0;
  double src_height = 0;
  std::string icc_profile;  // the iCCP profile, decompressed; empty without one
};

// Decodes a PNG (already sniffed, and checked by check_complete to reach IEND) and shrinks it by
// integer box factors kx, ky while decoding (0 counts as 1, more than the image's size as its
// size): each output pixel is the rounded mean of its kx x ky box (a partial box at the right
// or bottom averages what it has), exactly box_shrink of the full decode. 16-bit samples become
// 8-bit as libvips' RGB16 to sRGB does (v >> 8); tRNS becomes alpha as libpng's
// png_set_tRNS_to_alpha makes it; gAMA, cHRM, sRGB and sBIT are ignored, as libvips ignores them.
//
// An empty optional for what this path leaves to libvips: interlaced (Adam7) files, whose first
// row is complete only after the last pass, and anything libspng refuses before the image data
// (chunk order, sizes or limits, unknown critical chunks, a side over kMaxPngSide), so libvips
// gives its own answer. Damaged image data fails with corrupt: "truncated png data: the file
// ends before the image does (...)" or "corrupt png data: ..." with libspng's message in
// parentheses; internal when memory runs out.
Result<std::optional<PngPixels>> decode_png_shrunk(std::string_view bytes, std::uint32_t kx, std::uint32_t ky,
                                                   Rgb background);

// Wider or taller PNGs go to libvips: the row buffers of this path grow with the width.
inline constexpr std::uint32_t kMaxPngSide = 1u << 20;

}  // namespace thumbflow::imaging
