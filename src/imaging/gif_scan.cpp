#include "imaging/gif_scan.hpp"

namespace thumbflow::imaging {

GifScan scan_gif(std::string_view bytes) {
  GifScan scan;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  if (n < 13 || (bytes.substr(0, 6) != "GIF87a" && bytes.substr(0, 6) != "GIF89a")) {
    scan.ran_out = true;
    return scan;
  }
  auto colour_table = [](unsigned char packed) -> std::size_t {
    return (packed & 0x80) ? 3u * (2u << (packed & 7u)) : 0u;
  };
  std::size_t pos = 13 + colour_table(p[10]);
  // Data sub-blocks: a length byte, that many bytes, until a zero length.
  auto skip_sub_blocks = [&]() -> bool {
    while (pos < n) {
      const std::size_t len = p[pos++];
      if (len == 0) return true;
      pos += len;
    }
    return false;
  };
  std::uint32_t& frames = scan.frames;
  scan.ran_out = true;  // until the trailer or a foreign byte says otherwise
  while (pos < n) {
    const unsigned char block = p[pos++];
    if (block == 0x21) {  // extension: label, then sub-blocks
      if (pos >= n) break;
      ++pos;
      if (!skip_sub_blocks()) break;
    } else if (block == 0x2C) {  // image descriptor: position, size, flags, local table, LZW data
      if (n - pos < 9) break;
      const unsigned char packed = p[pos + 8];
      pos += 9 + colour_table(packed);
      if (pos >= n) break;
      ++pos;  // LZW minimum code size
      ++frames;
      if (!skip_sub_blocks()) break;
    } else {
      // The trailer, or damage the decoder reports.
      scan.trailer = block == 0x3B;
      scan.ran_out = false;
      break;
    }
  }
  return scan;
}

}  // namespace thumbflow::imaging
