// Thumbnail quality over the whole corpus: every rendition's pixels, before encoding, against a
// reference made the slow, textbook way. SSIM is taken per band on R, G and B and averaged
// (the mean over channels, stricter than luma alone since chroma errors count).
#include <gtest/gtest.h>
#include <vips/vips8>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "imaging/policy.hpp"
#include "imaging/render_pixels.hpp"
#include "ssim.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {
namespace {
using vips::VImage;

constexpr double min_ssim = 0.98;

// The reference for one source at out_w x out_h (upright): full decode (no shrink-on-load),
// converted to 8-bit sRGB at full size, turned upright, then one Lanczos3 reduction straight to
// the target size (gap 0: no box pre-shrink), premultiplied when there is alpha, and flattened
// onto the rendition's background.
VImage reference(const std::string& bytes, int out_w, int out_h, const RenditionSpec& spec) {
  VImage img = VImage::new_from_buffer(bytes.data(), bytes.size(), "");
  const VipsInterpretation interp = img.interpretation();
  if (interp == VIPS_INTERPRETATION_CMYK || img.get_typeof(VIPS_META_ICC_NAME) != 0) {
    img = img.icc_transform("srgb", VImage::option()
                                        ->set("embedded", true)
                                        ->set("input_profile", interp == VIPS_INTERPRETATION_CMYK ? "cmyk" : "srgb")
                                        ->set("intent", VIPS_INTENT_RELATIVE)
                                        ->set("depth", 8));
  }
  if (img.interpretation() != VIPS_INTERPRETATION_sRGB || img.format() != VIPS_FORMAT_UCHAR)
    img = img.colourspace(VIPS_INTERPRETATION_sRGB);
  img = img.autorot();
  const bool alpha = img.has_alpha();
  if (alpha) img = img.premultiply();
  img = img.resize(double(out_w) / img.width(), VImage::option()
                                                   ->set("vscale", double(out_h) / img.height())
                                                   ->set("kernel", VIPS_KERNEL_LANCZOS3)
                                                   ->set("gap", 0.0));
  if (alpha) {
    img = img.unpremultiply().flatten(VImage::option()->set(
        "background", std::vector<double>{double(spec.background.r), double(spec.background.g),
                                          double(spec.background.b)}));
  }
  return img.cast(VIPS_FORMAT_UCHAR).copy_memory();
}

std::vector<std::uint8_t> constant_image(std::uint32_t w, std::uint32_t h, std::uint8_t v) {
  return std::vector<std::uint8_t>(std::size_t{w} * h, v);
}

}  // namespace

TEST(Ssim, is_one_for_identical_images_and_drops_as_noise_grows) {
  const std::uint32_t w = 64, h = 48;
  std::vector<std::uint8_t> base(std::size_t{w} * h);
  for (std::uint32_t y = 0; y < h; ++y)
    for (std::uint32_t x = 0; x < w; ++x) base[y * w + x] = static_cast<std::uint8_t>((x * 4 + y * 3) % 256);
  EXPECT_DOUBLE_EQ(test::ssim_mean_over_bands(base.data(), base.data(), w, h, 1), 1.0);
  std::mt19937 rng(7);
  double last = 1.0;
  for (int amplitude : {4, 16, 64}) {
    std::uniform_int_distribution<int> noise(-amplitude, amplitude);
    std::vector<std::uint8_t> noisy = base;
    for (auto& v : noisy) v = static_cast<std::uint8_t>(std::clamp(int(v) + noise(rng), 0, 255));
    double s = test::ssim_mean_over_bands(base.data(), noisy.data(), w, h, 1);
    EXPECT_LT(s, last) << "noise +-" << amplitude;
    last = s;
  }
  EXPECT_LT(last, 0.5);
}

TEST(Ssim, of_two_flat_images_is_the_luminance_term) {
  // With no variance the contrast-structure term is C2/C2 = 1 and only the luminance term is
  // left: (2ab + C1) / (a^2 + b^2 + C1), at every window and so on average.
  const double c1 = (0.01 * 255) * (0.01 * 255);
  for (std::uint32_t w : {40u, 5u}) {  // 5 px: smaller than the window, one global window
    auto a = constant_image(w, 30, 100);
    auto b = constant_image(w, 30, 140);
    const double expected = (2.0 * 100 * 140 + c1) / (100.0 * 100 + 140.0 * 140 + c1);
    EXPECT_NEAR(test::ssim_mean_over_bands(a.data(), b.data(), w, 30, 1), expected, 1e-12) << w;
  }
}

TEST(Ssim, a_one_pixel_shift_of_fine_detail_scores_lower_than_of_smooth_detail) {
  // The Gaussian window matters: a shift hurts sharp stripes far more than a gentle ramp.
  const std::uint32_t w = 64, h = 64;
  auto make = [&](int period, int shift) {
    std::vector<std::uint8_t> img(std::size_t{w} * h);
    for (std::uint32_t y = 0; y < h; ++y)
      for (std::uint32_t x = 0; x < w; ++x)
        img[y * w + x] = static_cast<std::uint8_t>(
            127.5 + 127.5 * std::sin(2 * M_PI * (double(x) + shift) / period));
    return img;
  };
  auto fine = make(4, 0), fine_shifted = make(4, 1), smooth = make(64, 0), smooth_shifted = make(64, 1);
  double s_fine = test::ssim_mean_over_bands(fine.data(), fine_shifted.data(), w, h, 1);
  double s_smooth = test::ssim_mean_over_bands(smooth.data(), smooth_shifted.data(), w, h, 1);
  EXPECT_LT(s_fine, 0.1);
  EXPECT_GT(s_smooth, 0.95);
}

TEST(Quality, every_corpus_thumbnail_before_encoding_has_ssim_of_at_least_0_98_against_a_full_decode_and_lanczos3) {
  ASSERT_TRUE(init_imaging().ok());
  const RenditionSpec spec{};
  double lowest = 2.0;
  std::string lowest_file;
  int compared = 0;
  for (const auto& path : test::corpus_files()) {
    const std::string name = path.filename().string();
    const std::string bytes = test::read_bytes(path);
    auto px = render_pixels(bytes, spec);
    auto row = test::manifest().find(name);
    if (row != test::manifest().end() && row->second.width == 0) {  // the manifest's unreadable files
      EXPECT_FALSE(px.ok()) << name << " is unreadable but rendered";
      continue;
    }
    ASSERT_TRUE(px.ok()) << name << ": " << px.error().describe();
    ASSERT_EQ(px->bands, 3u) << name;
    VImage ref = reference(bytes, static_cast<int>(px->width), static_cast<int>(px->height), spec);
    ASSERT_EQ(ref.width(), static_cast<int>(px->width)) << name;
    ASSERT_EQ(ref.height(), static_cast<int>(px->height)) << name;
    ASSERT_EQ(ref.bands(), 3) << name;
    const auto* ref_px = static_cast<const std::uint8_t*>(ref.data());
    const double s = test::ssim_mean_over_bands(px->data.data(), ref_px, px->width, px->height, 3);
    std::printf("  ssim %.4f  %ux%u  %s\n", s, px->width, px->height, name.c_str());
    EXPECT_GE(s, min_ssim) << name;
    if (s < lowest) {
      lowest = s;
      lowest_file = name;
    }
    ++compared;
  }
  EXPECT_GT(compared, 40);
  std::printf("lowest SSIM (mean over R, G, B) %.4f: %s, over %d files\n", lowest, lowest_file.c_str(), compared);
}

}  // namespace thumbflow::imaging
