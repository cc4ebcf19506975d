// GIF frame count from the block structure, without decoding a pixel. libnsgif (libvips'
// gifload) stops counting at 4097 frames, so a GIF of 10,000 frames would be refused with a
// figure that is not the file's; the walk gives the true count for the limit's message.
#pragma once

#include <cstdint>
#include <string_view>

namespace thumbflow::imaging {

struct GifScan {
  std::uint32_t frames = 0;   // image descriptors seen
  bool trailer = false;       // the walk reached the trailer (0x3B)
  bool ran_out = false;       // the data ended inside a block, or before the trailer
};

// Walks the blocks after the header and global colour table, skipping extensions and image
// data sub-blocks (a hop per sub-block, linear in the file's size), up to the trailer, the end
// of the data, or the first byte that is not a block (left for the decoder to judge).
GifScan scan_gif(std::string_view bytes);

// scan_gif(bytes).frames: 0 when not a GIF.
inline std::uint32_t count_gif_frames(std::string_view bytes) { return scan_gif(bytes).frames; }

}  // namespace thumbflow::imaging
