#include "imaging/resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

namespace thumbflow::imaging {
namespace {

constexpr int kWeightBits = 14;
constexpr int kOne = 1 << kWeightBits;

double lanczos3(double x) {
  x = std::fabs(x);
  if (x < 1e-9) return 1.0;
  if (x >= 3.0) return 0.0;
  const double px = std::numbers::pi * x;
  return 3.0 * std::sin(px) * std::sin(px / 3.0) / (px * px);
}

// The taps of one axis: output i reads `count` source pixels from first[i], weights row i of
// `weights` (stride `stride`), in fixed point summing to kOne.
struct Taps {
  std::vector<std::uint32_t> first;
  std::vector<std::int32_t> weights;
  std::uint32_t stride = 0;
};

Taps make_taps(std::uint32_t in_size, double src_size, std::uint32_t out_size) {
  const double scale = double(out_size) / src_size;
  const double widen = std::max(1.0, 1.0 / scale);
  const double radius = 3.0 * widen;
  Taps t;
  t.stride = std::min<std::uint32_t>(in_size, static_cast<std::uint32_t>(std::ceil(2.0 * radius)) + 2);
  t.first.resize(out_size);
  t.weights.assign(std::size_t{out_size} * t.stride, 0);
  std::vector<double> w(t.stride);
  for (std::uint32_t i = 0; i < out_size; ++i) {
    const double centre = (i + 0.5) / scale;
    const auto lo = static_cast<long>(std::floor(centre - radius));
    const auto hi = static_cast<long>(std::ceil(centre + radius));
    // Taps outside the image fold onto the border pixel (edge repetition).
    const long window_lo = std::clamp(lo, 0L, long(in_size) - 1);
    const long window_hi = std::clamp(hi, 0L, long(in_size) - 1);
    long start = std::min(window_lo, long(in_size) - long(t.stride));
    start = std::max(start, 0L);
    const long end = std::max(window_hi, start + long(t.stride) - 1);  // inclusive, < in_size
    std::fill(w.begin(), w.end(), 0.0);
    double sum = 0;
    for (long j = lo; j <= hi; ++j) {
      const double v = lanczos3((double(j) + 0.5 - centre) / widen);
      if (v == 0.0) continue;
      const long at = std::clamp(j, 0L, long(in_size) - 1);
      w[std::size_t(at - start)] += v;
      sum += v;
    }
    if (sum == 0.0) {  // cannot happen for a kernel this wide; keep the nearest pixel anyway
      w[std::size_t(std::clamp(long(centre), start, end) - start)] = 1.0;
      sum = 1.0;
    }
    std::int32_t* row = &t.weights[std::size_t{i} * t.stride];
    std::int32_t total = 0;
    std::uint32_t biggest = 0;
    for (std::uint32_t k = 0; k < t.stride; ++k) {
      row[k] = static_cast<std::int32_t>(std::lround(w[k] / sum * kOne));
      total += row[k];
      if (row[k] > row[biggest]) biggest = k;
    }
    row[biggest] += kOne - total;  // exactly one: flat stays flat
    t.first[i] = static_cast<std::uint32_t>(start);
  }
  return t;
}

std::uint8_t clamp_round(std::int32_t acc) {
  const std::int32_t v = (acc + kOne / 2) >> kWeightBits;
  return static_cast<std::uint8_t>(std::clamp(v, 0, 255));
}

// One output row: each pixel sums `stride` source pixels (all bands at once) by its weights.
template <std::uint32_t Bands>
void horizontal(const Image8& in, const Taps& t, Image8& out) {
  const std::uint32_t bands = Bands == 0 ? in.bands : Bands;
  const std::uint32_t stride = t.stride;
  for (std::uint32_t y = 0; y < in.height; ++y) {
    const std::uint8_t* __restrict src = &in.data[std::size_t{y} * in.width * bands];
    std::uint8_t* __restrict dst = &out.data[std::size_t{y} * out.width * bands];
    for (std::uint32_t x = 0; x < out.width; ++x) {
      const std::int32_t* __restrict w = &t.weights[std::size_t{x} * stride];
      const std::uint8_t* __restrict s = src + std::size_t{t.first[x]} * bands;
      if constexpr (Bands != 0) {
        std::int32_t acc[Bands] = {};
        for (std::uint32_t k = 0; k < stride; ++k)
          for (std::uint32_t b = 0; b < Bands; ++b) acc[b] += w[k] * s[k * Bands + b];
        for (std::uint32_t b = 0; b < Bands; ++b) dst[std::size_t{x} * Bands + b] = clamp_round(acc[b]);
      } else {
        for (std::uint32_t b = 0; b < bands; ++b) {
          std::int32_t acc = 0;
          for (std::uint32_t k = 0; k < stride; ++k) acc += w[k] * s[k * bands + b];
          dst[std::size_t{x} * bands + b] = clamp_round(acc);
        }
      }
    }
  }
}

// One output row: the weighted sum of `stride` whole source rows, element by element (the
// compiler vectorises the inner loops; the pointers never alias).
void vertical(const Image8& in, const Taps& t, Image8& out) {
  const std::size_t row_len = std::size_t{in.width} * in.bands;
  std::vector<std::int32_t> acc_buf(row_len);
  std::int32_t* __restrict acc = acc_buf.data();
  for (std::uint32_t y = 0; y < out.height; ++y) {
    std::fill(acc, acc + row_len, 0);
    const std::int32_t* w = &t.weights[std::size_t{y} * t.stride];
    for (std::uint32_t k = 0; k < t.stride; ++k) {
      if (w[k] == 0) continue;
      const std::uint8_t* __restrict src = &in.data[std::size_t{t.first[y] + k} * row_len];
      const std::int32_t wk = w[k];
      for (std::size_t e = 0; e < row_len; ++e) acc[e] += wk * src[e];
    }
    std::uint8_t* __restrict dst = &out.data[std::size_t{y} * row_len];
    for (std::size_t e = 0; e < row_len; ++e) dst[e] = clamp_round(acc[e]);
  }
}

}  // namespace

std::uint32_t box_factor(double src, std::uint32_t out) {
  if (out == 0) return 1;
  return static_cast<std::uint32_t>(std::max(1.0, std::floor(src / out / 2.0)));
}

Image8 box_shrink(const Image8& in, std::uint32_t kx, std::uint32_t ky) {
  Image8 out;
  out.bands = in.bands;
  out.width = (in.width + kx - 1) / kx;
  out.height = (in.height + ky - 1) / ky;
  out.data.resize(std::size_t{out.width} * out.height * out.bands);
  const std::size_t in_row = std::size_t{in.width} * in.bands;
  std::vector<std::uint32_t> sums(in_row);
  for (std::uint32_t oy = 0; oy < out.height; ++oy) {
    std::fill(sums.begin(), sums.end(), 0u);
    const std::uint32_t y0 = oy * ky, y1 = std::min(in.height, y0 + ky);
    for (std::uint32_t y = y0; y < y1; ++y) {
      const std::uint8_t* src = &in.data[std::size_t{y} * in_row];
      for (std::size_t e = 0; e < in_row; ++e) sums[e] += src[e];
    }
    std::uint8_t* dst = &out.data[std::size_t{oy} * out.width * out.bands];
    for (std::uint32_t ox = 0; ox < out.width; ++ox) {
      const std::uint32_t x0 = ox * kx, x1 = std::min(in.width, x0 + kx);
      const std::uint32_t n = (x1 - x0) * (y1 - y0);
      for (std::uint32_t b = 0; b < in.bands; ++b) {
        std::uint64_t s = 0;  // a box of over 16.8 M pixels would overflow 32 bits
        for (std::uint32_t x = x0; x < x1; ++x) s += sums[std::size_t{x} * in.bands + b];
        dst[std::size_t{ox} * out.bands + b] = static_cast<std::uint8_t>((s + n / 2) / n);
      }
    }
  }
  return out;
}

Image8 resample_lanczos3(const Image8& in, double src_width, double src_height, std::uint32_t out_width,
                         std::uint32_t out_height) {
  if (in.width == 0 || in.height == 0 || out_width == 0 || out_height == 0 || in.bands == 0) return {};
  src_width = std::clamp(src_width, 1e-6, double(in.width));
  src_height = std::clamp(src_height, 1e-6, double(in.height));
  // Integer box shrink first, leaving the kernel a reduction of 2x to 4x, as libvips' resize does
  // (a 3-lobe kernel widened 20 times would read 120 pixels per output pixel).
  const std::uint32_t kx = box_factor(src_width, out_width), ky = box_factor(src_height, out_height);
  Image8 shrunk;
  const Image8* cur = &in;
  if (kx > 1 || ky > 1) {
    shrunk = box_shrink(in, kx, ky);
    cur = &shrunk;
    src_width /= kx;
    src_height /= ky;
  }

  // Vertical first: it runs along whole rows (vectorised), leaving the per-pixel horizontal
  // pass only the output's rows.
  Image8 mid;
  mid.bands = cur->bands;
  mid.width = cur->width;
  mid.height = out_height;
  mid.data.resize(std::size_t{mid.width} * mid.height * mid.bands);
  vertical(*cur, make_taps(cur->height, src_height, out_height), mid);
  Image8 out;
  out.bands = mid.bands;
  out.width = out_width;
  out.height = out_height;
  out.data.resize(std::size_t{out.width} * out.height * out.bands);
  const Taps ht = make_taps(mid.width, src_width, out_width);
  switch (mid.bands) {
    case 1: horizontal<1>(mid, ht, out); break;
    case 3: horizontal<3>(mid, ht, out); break;
    case 4: horizontal<4>(mid, ht, out); break;
    default: horizontal<0>(mid, ht, out); break;
  }
  return out;
}

Image8 orient_upright(Image8 in, int orientation) {
  if (orientation < 2 || orientation > 8) return in;
  const bool swap = orientation >= 5;
  Image8 out;
  out.bands = in.bands;
  out.width = swap ? in.height : in.width;
  out.height = swap ? in.width : in.height;
  out.data.resize(in.data.size());
  const std::uint32_t w = in.width, h = in.height, b = in.bands;
  for (std::uint32_t y = 0; y < out.height; ++y) {
    for (std::uint32_t x = 0; x < out.width; ++x) {
      std::uint32_t sx = x, sy = y;
      switch (orientation) {
        case 2: sx = w - 1 - x; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        case 8: sx = w - 1 - y; sy = x; break;
        default: break;
      }
      std::memcpy(&out.data[(std::size_t{y} * out.width + x) * b], &in.data[(std::size_t{sy} * w + sx) * b], b);
    }
  }
  return out;
}

}  // namespace thumbflow::imaging
