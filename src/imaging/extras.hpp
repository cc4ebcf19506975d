// Facts computed from a rendition's pixels for the catalog: the dominant colour and a
// BlurHash placeholder. Pure arithmetic over 8-bit sRGB pixels; no libvips here.
#pragma once

#include <cstdint>
#include <string>

#include "core/rendition.hpp"

namespace thumbflow::imaging {

// Interleaved 8-bit pixels: 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA) bands.
struct PixelView {
  const std::uint8_t* data = nullptr;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t bands = 3;
};

// The most common colour: pixels are binned 16x16x16 (alpha composited onto background), and
// the mean of the fullest bin is returned, so a photo of a red car on grey asphalt says grey.
Rgb dominant_colour(const PixelView& px, Rgb background = {});

// BlurHash (https://blurha.sh) with x_components by y_components (1..9 each). With 0 for
// either, 4x3 is chosen for landscape images and 3x4 for portrait ones. The AC scale is the
// largest AC magnitude, as in the C reference encoder (the TypeScript encoder takes the largest
// signed value, which clips strong negative components); every decoder reads either.
std::string encode_blurhash(const PixelView& px, Rgb background = {}, int x_components = 0,
                            int y_components = 0);

}  // namespace thumbflow::imaging
