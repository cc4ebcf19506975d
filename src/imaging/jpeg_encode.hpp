// JPEG encoding through libjpeg-turbo directly, for thumbnails already in memory: the same
// settings libvips' jpegsave uses for Q, strip and optimize_coding (JFIF header, 4:2:0 chroma
// below quality 90 and 4:4:4 from 90, Huffman tables optimised, no metadata), without the
// pipeline and sink libvips builds around it.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "imaging/resample.hpp"

namespace thumbflow::imaging {

// pixels has 1 (grey) or 3 (sRGB) bands; quality 1..100. Fails with internal when libjpeg
// reports an error (out of memory) or the band count is neither.
Result<std::string> encode_jpeg(const Image8& pixels, int quality);

}  // namespace thumbflow::imaging
