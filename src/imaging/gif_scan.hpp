// GIF frame count from the block structure, without decoding a pixel. libnsgif (libvips'
// gifload) stops counting at 4097 frames, so a GIF of 10,000 frames would be refused with a
// figure that is not the file's; the walk gives the true count for the limit's message.
#pragma once

#include <cstdint>
#include <string_view>

namespace thumbflow::imaging {

// Image descriptors in a GIF: walks the blocks after the header and global colour table,
// skipping extensions and image data sub-blocks (a hop per sub-block, linear in the file's
// size), up to the trailer or the first byte that is not a block. 0 when not a GIF.
std::uint32_t count_gif_frames(std::string_view bytes);

}  // namespace thumbflow::imaging
