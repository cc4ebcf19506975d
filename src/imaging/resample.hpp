// Pixel operations on plain interleaved 8-bit images in memory, for the JPEG path that does not
// go through libvips: a Lanczos3 reduction and the eight EXIF orientations. libvips does the
// same work through a pipeline (region set-up, a sink and its worker threads) whose fixed cost
// is several times the pixel work on a thumbnail-sized image.
#pragma once

#include <cstdint>
#include <vector>

namespace thumbflow::imaging {

struct Image8 {
  std::vector<std::uint8_t> data;  // row after row, no padding
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t bands = 0;
};

// Resamples `in` to out_width x out_height with a Lanczos3 kernel (widened by the reduction
// factor, so it also filters out what the smaller image cannot hold), mapping the source region
// [0, src_width) x [0, src_height) onto the output: src_width may be a little less than
// in.width when the last column is a partial pixel (libjpeg rounds a DCT-scaled size up), and
// that column then only fills in past the true edge. Reductions of more than 2x start with an
// integer box shrink to at most 2x the target, as libvips' resize does, then the kernel covers
// the rest. Edges repeat the border pixels; results are rounded and clamped to 0..255.
// Fixed-point weights (14 bits) summing exactly to one: a flat image stays exactly flat.
Image8 resample_lanczos3(const Image8& in, double src_width, double src_height, std::uint32_t out_width,
                         std::uint32_t out_height);

// The integer box shrink resample_lanczos3 starts with to go from src to out pixels along one
// axis: floor(src / out / 2), at least 1, leaving the kernel a reduction of 2x to 4x. Exposed so
// a decoder can shrink while decoding (png_decode.hpp) by the same factors.
std::uint32_t box_factor(double src, std::uint32_t out);

// Averages kx by ky blocks into one pixel each, the mean rounded (a partial block at the right or
// bottom edge averages what it has): the first step of resample_lanczos3 when box_factor > 1.
Image8 box_shrink(const Image8& in, std::uint32_t kx, std::uint32_t ky);

// Turns an image stored with EXIF orientation 1..8 upright (2 mirror, 3 rotate 180, 4 flip,
// 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 270 clockwise); 1 or any other
// value returns it unchanged.
Image8 orient_upright(Image8 in, int orientation);

}  // namespace thumbflow::imaging
