// Synthetic images and conversions shared by the imaging tests.
#pragma once

#include <vips/vips8>

#include <cmath>
#include <cstdint>
#include <vector>

#include "imaging/resample.hpp"

namespace thumbflow::imaging::test_cards {

// A w x h RGBA test card: opaque and half-transparent blue-green patches and a disc, and pure red
// under the fully transparent pixels, which must never show.
inline vips::VImage rgba_card(int w, int h) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(w * h * 4));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = &px[static_cast<std::size_t>((y * w + x) * 4)];
      const bool patch = ((x / 11) + (y / 13)) % 2 == 0;
      const bool disc = std::hypot(x - w / 2.0, y - h / 2.0) < w / 4.0;
      if (patch || disc) {
        p[0] = 20;
        p[1] = static_cast<std::uint8_t>(x * 255 / w);
        p[2] = 200;
        p[3] = static_cast<std::uint8_t>(disc ? 255 : 128 + y * 127 / h);
      } else {
        p[0] = 255, p[1] = 0, p[2] = 0, p[3] = 0;
      }
    }
  return vips::VImage::new_from_memory(px.data(), px.size(), w, h, 4, VIPS_FORMAT_UCHAR)
      .copy(vips::VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB))
      .copy_memory();
}

// An Image8 as a libvips image (its own copy of the pixels), for comparisons with libvips.
inline vips::VImage as_vips(const Image8& img) {
  return vips::VImage::new_from_memory(const_cast<std::uint8_t*>(img.data.data()), img.data.size(),
                                       static_cast<int>(img.width), static_cast<int>(img.height),
                                       static_cast<int>(img.bands), VIPS_FORMAT_UCHAR)
      .copy_memory();
}

}  // namespace thumbflow::imaging::test_cards
