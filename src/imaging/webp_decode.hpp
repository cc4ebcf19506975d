// The WebP fast path: libwebp directly, scaling while decoding (its area-averaging rescaler runs
// on the rows as they are decoded, so a 4096x4096 file never exists at full size). libvips'
// webpload plus its resize pipeline costs several milliseconds of set-up per image on top of
// the decode; this is the decode alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/rendition.hpp"
#include "imaging/resample.hpp"

namespace thumbflow::imaging {

struct WebpPixels {
  // 3 bands (RGB) for an image without alpha, or with alpha flattened onto the background;
  // 4 bands (RGBA, straight alpha as libvips' loader gives it) for an image with alpha when
  // keep_alpha is set.
  Image8 image;
  std::string icc_profile;  // the ICCP chunk of a VP8X file, empty without one
};

// Decodes `bytes` (sniffed as WebP and checked complete against the RIFF size by
// check_complete) at scaled_width x scaled_height; pass the image's own size for no scaling,
// which gives the same pixels as libvips' webpload. Scaled sizes must be 1..the image's size
// (invalid_argument otherwise); the caller derives them from ShrinkPlan::webp_scale the way
// webpload does, round(width * scale).
//
// An empty optional for what this path leaves to libvips: animated files (VP8X with the
// animation flag), whose first frame needs the canvas compositing of the demuxer.
//
// Errors: corrupt "corrupt webp data: the decoder rejected it (<libwebp status>)" for data
// libwebp's demuxer or decoder refuses, corrupt "truncated webp data: the file ends before the
// image does (...)" when it runs out of data, internal when memory runs out.
Result<std::optional<WebpPixels>> decode_webp(std::string_view bytes, std::uint32_t scaled_width,
                                              std::uint32_t scaled_height, Rgb background, bool keep_alpha);

}  // namespace thumbflow::imaging
