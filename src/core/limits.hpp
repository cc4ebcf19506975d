// Every limit an untrusted image is checked against, with its default. The limits are checked
// after the header probe and before any pixel is decoded, so a bomb costs a header read only.
#pragma once

#include <cstdint>

namespace thumbflow {

struct Limits {
  // Total pixels across all frames/pages (width * height * frames). 100 MP by default: a
  // 24 MP camera photo passes with room to spare, a 30000x30000 declaration does not.
  std::uint64_t max_pixels = 100'000'000;
  // Bytes of the source object. 256 MiB covers the largest real photos and TIFFs.
  std::uint64_t max_source_bytes = 256ULL * 1024 * 1024;
  // Longest side in pixels. 32767 is what JPEG and most viewers accept.
  std::uint32_t max_dimension = 32767;
  // Frames or pages (animated GIF/WebP, multi-page TIFF, HEIF sequences).
  std::uint32_t max_frames = 1000;
  // Scans of a progressive JPEG. Encoders write about 10 (libjpeg's default script) and rarely
  // more than 20, but the format allows almost 900 per component, each a pass over every block:
  // a 64 KB file of 883 scans takes libjpeg 3.5 s to decode in full. 100 leaves room for any
  // real encoder and refuses such files from one walk over the markers.
  std::uint32_t max_jpeg_scans = 100;
};

}  // namespace thumbflow
