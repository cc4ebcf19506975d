// The AVIF fast path: libavif directly, with dav1d on the calling thread. libvips 8.14's
// heifload goes through libheif 1.15, which starts dav1d with one thread per core for every
// image and converts YUV to RGB with a slow scalar loop: ~1.4 ms for a 16x16 file, most of it
// thread start-up and loader set-up. This is the decode alone, to the same pixels.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/rendition.hpp"
#include "imaging/resample.hpp"

namespace thumbflow::imaging {

struct AvifPixels {
  // 8-bit RGB (3 bands); alpha is flattened onto the background, out = (a*v + (255-a)*bg + 127)/255.
  // 8-bit files give exactly the pixels of libvips' heifload (full range; limited-range files
  // within one level). 10- and 12-bit files give what heifload's 16-bit output reduces to with
  // >> 8, within one level (v >> (depth - 8), from libavif's RGB at the file's own depth).
  Image8 image;
  std::string icc_profile;  // the colr ICC profile, empty without one
};

// The largest image (width * height) this path decodes: libavif's own default bound, set
// explicitly as decoder->imageSizeLimit (libavif refuses a larger ispe or grid, and hands the
// bound to dav1d as its frame size limit, so neither the container nor the AV1 payload can make
// it allocate more), and checked again on the decoded size. It is above Limits::max_pixels'
// default (100 MP): the caller's configured limit, checked after the probe, is the one that
// normally refuses a large file, before this is called.
inline constexpr std::uint64_t kAvifMaxPixels = 16384ULL * 16384ULL;

// Decodes `bytes` (sniffed as AVIF: ftyp with brand avif or avis) at full size, single-threaded.
//
// An empty optional for what this path leaves to libvips (libheif): image sequences (an avis
// brand, or more than one image), progressive (layered) files, transformations libavif does not
// apply itself (irot, imir, clap: libheif applies them), premultiplied alpha, bit depths other
// than 8, 10 and 12, and features libavif does not implement (AVIF_RESULT_NOT_IMPLEMENTED).
//
// Errors: corrupt "corrupt avif data: the decoder rejected it (<avifResultToString>: <detail>)"
// for data libavif or dav1d refuses, corrupt "truncated avif data: the file ends before the image
// does (...)" when the data runs out (libavif's AVIF_RESULT_TRUNCATED_DATA, or a top-level box
// that runs past the end), internal when memory runs out.
Result<std::optional<AvifPixels>> decode_avif(std::string_view bytes, Rgb background);

}  // namespace thumbflow::imaging
