#include "ssim.hpp"

#include <cmath>
#include <cstddef>
#include <stdexcept>

namespace thumbflow::test {
namespace {

constexpr int window = 11;
constexpr double sigma = 1.5;
constexpr double c1 = (0.01 * 255) * (0.01 * 255);
constexpr double c2 = (0.03 * 255) * (0.03 * 255);

double ssim_of(double mx, double my, double vx, double vy, double cxy) {
  return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
}

// Equal weights over the whole image: the statistics of one window.
double ssim_global(const Plane& a, const Plane& b) {
  const double n = static_cast<double>(a.v.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < a.v.size(); ++i) {
    mx += a.v[i];
    my += b.v[i];
  }
  mx /= n;
  my /= n;
  double vx = 0, vy = 0, cxy = 0;
  for (std::size_t i = 0; i < a.v.size(); ++i) {
    vx += (a.v[i] - mx) * (a.v[i] - mx);
    vy += (b.v[i] - my) * (b.v[i] - my);
    cxy += (a.v[i] - mx) * (b.v[i] - my);
  }
  return ssim_of(mx, my, vx / n, vy / n, cxy / n);
}

}  // namespace

Plane plane_of(const std::uint8_t* data, std::uint32_t width, std::uint32_t height, std::uint32_t bands,
               std::uint32_t band) {
  Plane p{width, height, std::vector<double>(std::size_t{width} * height)};
  for (std::size_t i = 0; i < p.v.size(); ++i) p.v[i] = data[i * bands + band];
  return p;
}

double ssim(const Plane& a, const Plane& b) {
  if (a.width != b.width || a.height != b.height || a.v.size() != b.v.size())
    throw std::invalid_argument("ssim: the images differ in size");
  if (a.v.empty()) throw std::invalid_argument("ssim: empty image");
  if (a.width < window || a.height < window) return ssim_global(a, b);

  // The window is separable: weights w[i] w[j], normalised to sum to one.
  double w[window];
  double sum = 0;
  for (int i = 0; i < window; ++i) {
    const double d = i - window / 2;
    w[i] = std::exp(-(d * d) / (2 * sigma * sigma));
    sum += w[i];
  }
  for (double& x : w) x /= sum;

  // Horizontal pass of the five moments, then the vertical pass at each valid position.
  const std::size_t out_w = a.width - window + 1;
  const std::size_t out_h = a.height - window + 1;
  const std::size_t rows = a.height;
  std::vector<double> hx(out_w * rows), hy(out_w * rows), hxx(out_w * rows), hyy(out_w * rows), hxy(out_w * rows);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < out_w; ++c) {
      double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (int k = 0; k < window; ++k) {
        const std::size_t idx = r * a.width + c + static_cast<std::size_t>(k);
        const double x = a.v[idx], y = b.v[idx];
        sx += w[k] * x;
        sy += w[k] * y;
        sxx += w[k] * x * x;
        syy += w[k] * y * y;
        sxy += w[k] * x * y;
      }
      const std::size_t o = r * out_w + c;
      hx[o] = sx;
      hy[o] = sy;
      hxx[o] = sxx;
      hyy[o] = syy;
      hxy[o] = sxy;
    }
  }
  double total = 0;
  for (std::size_t r = 0; r < out_h; ++r) {
    for (std::size_t c = 0; c < out_w; ++c) {
      double mx = 0, my = 0, exx = 0, eyy = 0, exy = 0;
      for (int k = 0; k < window; ++k) {
        const std::size_t o = (r + static_cast<std::size_t>(k)) * out_w + c;
        mx += w[k] * hx[o];
        my += w[k] * hy[o];
        exx += w[k] * hxx[o];
        eyy += w[k] * hyy[o];
        exy += w[k] * hxy[o];
      }
      total += ssim_of(mx, my, exx - mx * mx, eyy - my * my, exy - mx * my);
    }
  }
  return total / static_cast<double>(out_w * out_h);
}

double ssim_mean_over_bands(const std::uint8_t* a, const std::uint8_t* b, std::uint32_t width,
                            std::uint32_t height, std::uint32_t bands) {
  double sum = 0;
  for (std::uint32_t band = 0; band < bands; ++band)
    sum += ssim(plane_of(a, width, height, bands, band), plane_of(b, width, height, bands, band));
  return sum / bands;
}

}  // namespace thumbflow::test
