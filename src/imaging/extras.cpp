#include "imaging/extras.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

namespace thumbflow::imaging {
namespace {

// Reads pixel i as RGB, compositing any alpha onto the background.
struct RgbReader {
  const PixelView& px;
  Rgb bg;
  std::array<std::uint8_t, 3> operator()(std::size_t i) const {
    const std::uint8_t* p = px.data + i * px.bands;
    std::uint8_t r = p[0], g = p[0], b = p[0];
    if (px.bands >= 3) {
      g = p[1];
      b = p[2];
    }
    bool alpha = px.bands == 2 || px.bands == 4;
    if (!alpha) return {r, g, b};
    unsigned a = p[px.bands - 1];
    auto mix = [a](unsigned fg, unsigned back) {
      return static_cast<std::uint8_t>((fg * a + back * (255 - a) + 127) / 255);
    };
    return {mix(r, bg.r), mix(g, bg.g), mix(b, bg.b)};
  }
};

constexpr const char* kBase83 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

void append_base83(std::string& out, long value, int digits) {
  for (int i = 1; i <= digits; ++i) {
    long divisor = 1;
    for (int k = 0; k < digits - i; ++k) divisor *= 83;
    out += kBase83[(value / divisor) % 83];
  }
}

const std::array<float, 256>& srgb_to_linear_table() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) {
      double v = i / 255.0;
      t[static_cast<std::size_t>(i)] =
          static_cast<float>(v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4));
    }
    return t;
  }();
  return table;
}

int linear_to_srgb(double v) {
  v = std::clamp(v, 0.0, 1.0);
  if (v <= 0.0031308) return static_cast<int>(v * 12.92 * 255 + 0.5);
  return static_cast<int>((1.055 * std::pow(v, 1 / 2.4) - 0.055) * 255 + 0.5);
}

double sign_pow(double v, double e) { return std::copysign(std::pow(std::abs(v), e), v); }

}  // namespace

Rgb dominant_colour(const PixelView& px, Rgb background) {
  std::size_t n = std::size_t{px.width} * px.height;
  if (n == 0 || px.data == nullptr) return background;
  RgbReader read{px, background};
  std::vector<std::uint32_t> count(4096, 0);
  std::vector<std::array<std::uint64_t, 3>> sum(4096, {0, 0, 0});
  for (std::size_t i = 0; i < n; ++i) {
    auto c = read(i);
    auto bin = static_cast<std::size_t>((c[0] >> 4) << 8 | (c[1] >> 4) << 4 | (c[2] >> 4));
    ++count[bin];
    for (int k = 0; k < 3; ++k) sum[bin][static_cast<std::size_t>(k)] += c[static_cast<std::size_t>(k)];
  }
  auto best = static_cast<std::size_t>(std::max_element(count.begin(), count.end()) - count.begin());
  auto mean = [&](int k) {
    return static_cast<std::uint8_t>((sum[best][static_cast<std::size_t>(k)] + count[best] / 2) / count[best]);
  };
  return Rgb{mean(0), mean(1), mean(2)};
}

std::string encode_blurhash(const PixelView& px, Rgb background, int nx, int ny) {
  if (nx <= 0 || ny <= 0) {
    bool portrait = px.height > px.width;
    nx = portrait ? 3 : 4;
    ny = portrait ? 4 : 3;
  }
  nx = std::clamp(nx, 1, 9);
  ny = std::clamp(ny, 1, 9);
  const std::uint32_t w = px.width, h = px.height;
  if (w == 0 || h == 0 || px.data == nullptr) return {};
  const auto& lin = srgb_to_linear_table();
  RgbReader read{px, background};

  // Linearise once; the basis is separable, so precompute the cosines per axis.
  std::vector<std::array<float, 3>> linear(std::size_t{w} * h);
  for (std::size_t i = 0; i < linear.size(); ++i) {
    auto c = read(i);
    linear[i] = {lin[c[0]], lin[c[1]], lin[c[2]]};
  }
  auto cos_table = [](int comps, std::uint32_t len) {
    std::vector<double> t(static_cast<std::size_t>(comps) * len);
    for (int c = 0; c < comps; ++c)
      for (std::uint32_t p = 0; p < len; ++p)
        t[static_cast<std::size_t>(c) * len + p] = std::cos(std::numbers::pi * c * p / len);
    return t;
  };
  auto cx = cos_table(nx, w), cy = cos_table(ny, h);

  // Separable: first each row against the horizontal cosines, then the row sums against the
  // vertical ones (nx*w*h + nx*ny*h products instead of nx*ny*w*h).
  std::vector<std::array<double, 3>> rows(static_cast<std::size_t>(nx) * h);
  for (std::uint32_t y = 0; y < h; ++y) {
    const auto* line = &linear[std::size_t{y} * w];
    for (int i = 0; i < nx; ++i) {
      const double* c = &cx[static_cast<std::size_t>(i) * w];
      double r = 0, g = 0, b = 0;
      for (std::uint32_t x = 0; x < w; ++x) {
        r += c[x] * line[x][0];
        g += c[x] * line[x][1];
        b += c[x] * line[x][2];
      }
      rows[static_cast<std::size_t>(i) * h + y] = {r, g, b};
    }
  }
  std::vector<std::array<double, 3>> factors;
  factors.reserve(static_cast<std::size_t>(nx * ny));
  for (int j = 0; j < ny; ++j) {
    for (int i = 0; i < nx; ++i) {
      std::array<double, 3> f{0, 0, 0};
      for (std::uint32_t y = 0; y < h; ++y) {
        const double by = cy[static_cast<std::size_t>(j) * h + y];
        const auto& r = rows[static_cast<std::size_t>(i) * h + y];
        f[0] += by * r[0];
        f[1] += by * r[1];
        f[2] += by * r[2];
      }
      double scale = (i == 0 && j == 0 ? 1.0 : 2.0) / (double(w) * double(h));
      factors.push_back({f[0] * scale, f[1] * scale, f[2] * scale});
    }
  }

  std::string hash;
  append_base83(hash, (nx - 1) + (ny - 1) * 9, 1);
  double max_value = 1;
  if (factors.size() > 1) {
    double actual_max = 0;
    for (std::size_t k = 1; k < factors.size(); ++k)
      for (double v : factors[k]) actual_max = std::max(actual_max, std::abs(v));
    long quantised = static_cast<long>(std::clamp(std::floor(actual_max * 166 - 0.5), 0.0, 82.0));
    max_value = (double(quantised) + 1) / 166;
    append_base83(hash, quantised, 1);
  } else {
    append_base83(hash, 0, 1);
  }
  const auto& dc = factors[0];
  append_base83(hash, (long{linear_to_srgb(dc[0])} << 16) + (long{linear_to_srgb(dc[1])} << 8) + linear_to_srgb(dc[2]), 4);
  for (std::size_t k = 1; k < factors.size(); ++k) {
    auto q = [&](double v) {
      return static_cast<long>(std::clamp(std::floor(sign_pow(v / max_value, 0.5) * 9 + 9.5), 0.0, 18.0));
    };
    append_base83(hash, q(factors[k][0]) * 19 * 19 + q(factors[k][1]) * 19 + q(factors[k][2]), 2);
  }
  return hash;
}

}  // namespace thumbflow::imaging
