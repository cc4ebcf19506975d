// SSIM (Wang, Bovik, Sheikh, Simoncelli 2004), the standard form: an 11x11 Gaussian window with
// sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255, population (not sample) statistics, the mean of the
// SSIM map over every position where the window fits inside the image (no padding), as
// MATLAB's ssim_index and scikit-image's structural_similarity(gaussian_weights=True,
// use_sample_covariance=False) compute it.
#pragma once

#include <cstdint>
#include <vector>

namespace thumbflow::test {

struct Plane {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<double> v;  // row after row, 0..255
};

// Band `band` of interleaved 8-bit pixels.
Plane plane_of(const std::uint8_t* data, std::uint32_t width, std::uint32_t height, std::uint32_t bands,
               std::uint32_t band);

// Planes of equal size. An image smaller than the window in either direction is one window of
// equal weights over the whole image.
double ssim(const Plane& a, const Plane& b);

// The mean of ssim() over the first `bands` bands of two interleaved 8-bit images of equal size.
double ssim_mean_over_bands(const std::uint8_t* a, const std::uint8_t* b, std::uint32_t width,
                            std::uint32_t height, std::uint32_t bands);

}  // namespace thumbflow::test
