// Pure arithmetic of a thumbnail: how far to shrink while decoding, and the exact output size.
// Kept apart from libvips so it is tested on numbers alone.
#pragma once

#include <cstdint>

#include "core/image_info.hpp"
#include "core/rendition.hpp"

namespace thumbflow::imaging {

struct ShrinkPlan {
  // Output size in the source's stored orientation (before EXIF rotation).
  std::uint32_t out_width = 0;
  std::uint32_t out_height = 0;
  // JPEG DCT-domain shrink while decoding: 1, 2, 4 or 8.
  int jpeg_shrink = 1;
  // WebP decode scale (libwebp scales while decoding), 0 < scale <= 1.
  double webp_scale = 1.0;
};

// Fits the upright image inside spec.width x spec.height, aspect kept, no upscale unless asked.
// Shrink-on-load stops at twice the target size, so the final Lanczos reduction has at least a
// factor of two to work with: decoding at exactly the target size by block averaging alone
// would alias.
ShrinkPlan plan_shrink(const ImageInfo& info, const RenditionSpec& spec);

}  // namespace thumbflow::imaging
