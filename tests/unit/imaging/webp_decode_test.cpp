// The WebP fast path (libwebp directly) against libvips' webpload, which calls the same libwebp:
// unscaled and scaled pixels must be the same, alpha flattened as the thumbnail reference does.
#include <gtest/gtest.h>
#include <vips/vips8>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "hostile_corpus.hpp"
#include "imaging/image_ops.hpp"
#include "imaging/webp_decode.hpp"
#include "test_cards.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {
namespace webp_decode_test {  // named: the test files share one unity translation unit
namespace {
using vips::VImage;

std::vector<std::string> corpus_webps() {
  std::vector<std::string> names;
  for (const auto& p : test::corpus_files())
    if (p.extension() == ".webp") names.push_back(p.filename().string());
  return names;
}

WebpPixels decode_ok(const std::string& bytes, std::uint32_t w, std::uint32_t h, Rgb bg = {}, bool keep_alpha = false) {
  auto r = decode_webp(bytes, w, h, bg, keep_alpha);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  if (!r.ok()) return {};
  EXPECT_TRUE(r->has_value());
  if (!r->has_value()) return {};
  return std::move(**r);
}

using test_cards::as_vips;

// The largest per-sample difference; sizes and bands must match.
double max_diff(const Image8& mine, const VImage& ref) {
  EXPECT_EQ(static_cast<int>(mine.width), ref.width());
  EXPECT_EQ(static_cast<int>(mine.height), ref.height());
  EXPECT_EQ(static_cast<int>(mine.bands), ref.bands());
  if (static_cast<int>(mine.width) != ref.width() || static_cast<int>(mine.height) != ref.height() ||
      static_cast<int>(mine.bands) != ref.bands())
    return 1e9;
  return (as_vips(mine).cast(VIPS_FORMAT_FLOAT) - ref.cast(VIPS_FORMAT_FLOAT)).abs().max();
}

using test_cards::rgba_card;

std::string webpsave(const VImage& img, bool lossless) {
  VipsBlob* blob = img.webpsave_buffer(VImage::option()->set("lossless", lossless)->set("Q", 90));
  size_t len = 0;
  const void* data = vips_blob_get(blob, &len);
  std::string out(static_cast<const char*>(data), len);
  vips_area_unref(VIPS_AREA(blob));
  return out;
}

// Straight RGBA flattened onto bg the way the thumbnail reference does, in float, rounded.
Image8 flatten_straight(const Image8& rgba, Rgb bg) {
  Image8 out{{}, rgba.width, rgba.height, 3};
  const double b[3] = {double(bg.r), double(bg.g), double(bg.b)};
  for (std::size_t i = 0; i < std::size_t{rgba.width} * rgba.height; ++i) {
    const double a = rgba.data[i * 4 + 3];
    for (int c = 0; c < 3; ++c)
      out.data.push_back(static_cast<std::uint8_t>(std::lround((a * rgba.data[i * 4 + std::size_t(c)] + (255 - a) * b[c]) / 255)));
  }
  return out;
}

// An exact 2x reduction of straight RGBA by averaging 2x2 blocks, premultiplied, then flattened.
Image8 halve_premultiplied_and_flatten(const Image8& rgba, Rgb bg) {
  Image8 out{{}, rgba.width / 2, rgba.height / 2, 3};
  const double b[3] = {double(bg.r), double(bg.g), double(bg.b)};
  for (std::uint32_t y = 0; y < out.height; ++y)
    for (std::uint32_t x = 0; x < out.width; ++x) {
      double sum[4] = {0, 0, 0, 0};
      for (std::uint32_t dy = 0; dy < 2; ++dy)
        for (std::uint32_t dx = 0; dx < 2; ++dx) {
          const std::uint8_t* p = &rgba.data[((2 * y + dy) * rgba.width + 2 * x + dx) * 4];
          for (int c = 0; c < 3; ++c) sum[c] += p[c] * double(p[3]) / 255;
          sum[3] += p[3];
        }
      for (int c = 0; c < 3; ++c)
        out.data.push_back(static_cast<std::uint8_t>(std::lround(sum[c] / 4 + (255 - sum[3] / 4) * b[c] / 255)));
    }
  return out;
}

}  // namespace

TEST(WebpDecode, corpus_files_decode_unscaled_to_exactly_the_pixels_of_libvips_webpload) {
  ASSERT_TRUE(init_imaging().ok());
  const auto names = corpus_webps();
  ASSERT_GE(names.size(), 3u);
  for (const auto& name : names) {
    const std::string& bytes = test::corpus_bytes(name);
    VImage ref = VImage::new_from_buffer(bytes.data(), bytes.size(), "").copy_memory();
    const WebpPixels px = decode_ok(bytes, static_cast<std::uint32_t>(ref.width()), static_cast<std::uint32_t>(ref.height()));
    EXPECT_EQ(max_diff(px.image, ref), 0.0) << name;
    EXPECT_TRUE(px.icc_profile.empty()) << name;
  }
}

TEST(WebpDecode, scaled_decodes_have_the_requested_size_and_the_pixels_of_webpload_with_scale) {
  ASSERT_TRUE(init_imaging().ok());
  for (const auto& name : corpus_webps()) {
    const std::string& bytes = test::corpus_bytes(name);
    for (double scale : {0.5, 0.1, 0.03}) {
      VImage ref = VImage::new_from_buffer(bytes.data(), bytes.size(), "", VImage::option()->set("scale", scale)).copy_memory();
      // webpload's scaled size: round to nearest.
      const auto w = static_cast<std::uint32_t>(ref.width()), h = static_cast<std::uint32_t>(ref.height());
      const WebpPixels px = decode_ok(bytes, w, h);
      EXPECT_EQ(px.image.width, w) << name;
      EXPECT_EQ(px.image.height, h) << name;
      EXPECT_EQ(px.image.bands, 3u) << name;
      EXPECT_EQ(max_diff(px.image, ref), 0.0) << name << " at " << scale;
    }
  }
  // Sizes need not keep the aspect ratio, down to 1x1.
  const std::string& bytes = test::corpus_bytes("syn_photo_mate_RainDrops.webp");
  const WebpPixels px = decode_ok(bytes, 1, 7);
  EXPECT_EQ(px.image.width, 1u);
  EXPECT_EQ(px.image.height, 7u);
  EXPECT_EQ(px.image.data.size(), 21u);
}

TEST(WebpDecode, scaled_sizes_outside_one_to_the_image_size_are_invalid_arguments) {
  const std::string& bytes = test::corpus_bytes("syn_photo_mate_RainDrops.webp");  // 1920x1200
  for (auto [w, h] : {std::pair{0u, 10u}, {10u, 0u}, {1921u, 1200u}, {1920u, 1201u}}) {
    auto r = decode_webp(bytes, w, h, {}, false);
    ASSERT_FALSE(r.ok()) << w << "x" << h;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
  }
}

TEST(WebpDecode, alpha_is_flattened_onto_white_or_a_given_background_and_kept_with_keep_alpha) {
  ASSERT_TRUE(init_imaging().ok());
  const VImage card = rgba_card(96, 64);
  for (bool lossless : {true, false}) {
    const std::string bytes = webpsave(card, lossless);
    VImage ref = VImage::new_from_buffer(bytes.data(), bytes.size(), "").copy_memory();
    ASSERT_EQ(ref.bands(), 4);

    // keep_alpha: straight RGBA, the loader's own pixels.
    const WebpPixels rgba = decode_ok(bytes, 96, 64, {}, true);
    ASSERT_EQ(rgba.image.bands, 4u);
    EXPECT_EQ(max_diff(rgba.image, ref), 0.0) << lossless;

    for (Rgb bg : {Rgb{}, Rgb{30, 160, 90}}) {
      const WebpPixels flat = decode_ok(bytes, 96, 64, bg, false);
      ASSERT_EQ(flat.image.bands, 3u);
      // libwebp premultiplies with its own rounding: within one level of the exact formula.
      EXPECT_LE(max_diff(flat.image, as_vips(flatten_straight(rgba.image, bg))), 1.0) << lossless << " " << to_hex(bg);
      VImage vips_flat = ref.flatten(VImage::option()->set(
          "background", std::vector<double>{double(bg.r), double(bg.g), double(bg.b)}));
      EXPECT_LE(max_diff(flat.image, vips_flat.cast(VIPS_FORMAT_UCHAR)), 1.0) << lossless << " " << to_hex(bg);
    }
  }
}

TEST(WebpDecode, scaled_alpha_is_averaged_premultiplied_so_colour_under_transparent_pixels_never_shows) {
  ASSERT_TRUE(init_imaging().ok());
  const VImage card = rgba_card(128, 96);
  const Rgb white{};
  for (bool lossless : {true, false}) {
    const std::string bytes = webpsave(card, lossless);
    const WebpPixels full = decode_ok(bytes, 128, 96, {}, true);
    const Image8 expected = halve_premultiplied_and_flatten(full.image, white);
    const WebpPixels half = decode_ok(bytes, 64, 48, white, false);
    EXPECT_LE(max_diff(half.image, as_vips(expected)), 2.0) << (lossless ? "lossless" : "lossy");

    const WebpPixels half_rgba = decode_ok(bytes, 64, 48, {}, true);
    ASSERT_EQ(half_rgba.image.bands, 4u);
    EXPECT_LE(max_diff(flatten_straight(half_rgba.image, white), as_vips(expected)), 3.0) << (lossless ? "lossless" : "lossy");

    if (!lossless) {
      // The card does exercise the fault: libwebp's own scaling of lossy data (what webpload's
      // scale option uses) averages the red under the transparent pixels into the edges.
      VImage vips_half = VImage::new_from_buffer(bytes.data(), bytes.size(), "", VImage::option()->set("scale", 0.5))
                             .flatten(VImage::option()->set("background", std::vector<double>{255, 255, 255}))
                             .cast(VIPS_FORMAT_UCHAR);
      EXPECT_GT(max_diff(expected, vips_half), 20.0);
    }
  }
}

TEST(WebpDecode, an_animated_webp_is_left_to_libvips) {
  ASSERT_TRUE(init_imaging().ok());
  // Two different 32x32 frames (libwebp's animation encoder writes identical ones as a still).
  VImage frames = VImage::black(32, 64, VImage::option()->set("bands", 3)) + std::vector<double>{10, 200, 90};
  frames = frames.insert(VImage::black(32, 32, VImage::option()->set("bands", 3)) + std::vector<double>{240, 20, 60}, 0, 32);
  frames = frames.cast(VIPS_FORMAT_UCHAR).copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
  frames.set("page-height", 32);
  const std::string bytes = webpsave(frames, false);
  ASSERT_EQ(bytes.substr(12, 4), "VP8X");
  ASSERT_NE(static_cast<unsigned char>(bytes[20]) & 0x02, 0);  // the animation flag
  auto r = decode_webp(bytes, 32, 32, {}, false);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_FALSE(r->has_value());
}

TEST(WebpDecode, returns_the_icc_profile_of_a_vp8x_file) {
  ASSERT_TRUE(init_imaging().ok());
  const std::string& jpeg = test::corpus_bytes("skimage_rocket.jpg");
  VImage img = VImage::new_from_buffer(jpeg.data(), jpeg.size(), "");
  ASSERT_NE(img.get_typeof(VIPS_META_ICC_NAME), 0u);
  size_t icc_len = 0;
  const void* icc = img.get_blob(VIPS_META_ICC_NAME, &icc_len);
  const std::string expected(static_cast<const char*>(icc), icc_len);
  const std::string bytes = webpsave(img, false);
  ASSERT_EQ(bytes.substr(12, 4), "VP8X");
  const WebpPixels px = decode_ok(bytes, static_cast<std::uint32_t>(img.width()) / 4, static_cast<std::uint32_t>(img.height()) / 4);
  EXPECT_EQ(px.icc_profile, expected);
  EXPECT_EQ(px.image.width, static_cast<std::uint32_t>(img.width()) / 4);
}

TEST(WebpDecode, truncated_data_and_garbage_after_the_riff_header_fail_as_corrupt_webp) {
  const std::string& whole = test::corpus_bytes("syn_photo_mate_RainDrops.webp");
  for (std::size_t cut : {std::size_t{0}, std::size_t{11}, std::size_t{30}, whole.size() / 2, whole.size() - 1}) {
    auto r = decode_webp(whole.substr(0, cut), 10, 10, {}, false);
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.error().kind, ErrorKind::corrupt) << cut;
    EXPECT_NE(r.error().message.find("truncated webp data"), std::string::npos) << cut << ": " << r.error().message;
  }
  std::string garbage = "RIFF";
  const std::uint32_t riff = 4 + 200;
  for (int i = 0; i < 4; ++i) garbage += static_cast<char>((riff >> (8 * i)) & 0xFF);
  garbage += "WEBP";
  std::mt19937 rng(11);
  for (int i = 0; i < 200; ++i) garbage += static_cast<char>(rng() & 0xFF);
  auto r = decode_webp(garbage, 10, 10, {}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::corrupt);
  EXPECT_NE(r.error().message.find("corrupt webp data"), std::string::npos) << r.error().message;
  // A VP8 chunk whose bitstream is garbage: the decoder's own status names the failure.
  std::string bad_vp8 = whole.substr(0, 12) + "VP8 ";
  const std::uint32_t chunk = 100;
  for (int i = 0; i < 4; ++i) bad_vp8 += static_cast<char>((chunk >> (8 * i)) & 0xFF);
  bad_vp8 += std::string(100, '\x5a');
  const std::uint32_t size = static_cast<std::uint32_t>(bad_vp8.size() - 8);
  for (int i = 0; i < 4; ++i) bad_vp8[std::size_t(4 + i)] = static_cast<char>((size >> (8 * i)) & 0xFF);
  auto r2 = decode_webp(bad_vp8, 10, 10, {}, false);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().kind, ErrorKind::corrupt);
  EXPECT_NE(r2.error().message.find("webp data"), std::string::npos) << r2.error().message;
}

TEST(WebpDecode, hostile_and_mutated_files_fail_cleanly) {
  ASSERT_TRUE(init_imaging().ok());
  int hostile = 0;
  for (const auto& c : test::hostile::corpus()) {
    if (c.bytes.size() < 12 || c.bytes.compare(0, 4, "RIFF") != 0 || c.bytes.compare(8, 4, "WEBP") != 0) continue;
    if (c.kind != ErrorKind::corrupt) continue;  // limits and polyglots are the caller's part
    ++hostile;
    auto r = decode_webp(c.bytes, 8, 8, {}, false);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().kind, ErrorKind::corrupt) << c.name;
    EXPECT_NE(r.error().message.find(c.phrase), std::string::npos) << c.name << ": " << r.error().message;
  }
  EXPECT_GE(hostile, 3);

  // Random byte changes to small files of each kind: every outcome is a value, never a crash
  // (run under ASan in the asan preset).
  const VImage card = rgba_card(40, 24);
  std::mt19937 rng(5);
  for (const std::string& base : {webpsave(card, true), webpsave(card, false), webpsave(card.extract_band(0, VImage::option()->set("n", 3)), false)}) {
    for (int i = 0; i < 300; ++i) {
      std::string m = base;
      const int changes = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < changes; ++k) m[rng() % m.size()] = static_cast<char>(rng() & 0xFF);
      auto r = decode_webp(m, 20, 12, Rgb{1, 2, 3}, (i & 1) != 0);
      if (!r.ok()) {
        EXPECT_NE(r.error().message.find("webp"), std::string::npos) << r.error().message;
      } else if (r->has_value()) {
        EXPECT_EQ((*r)->image.data.size(), std::size_t{20} * 12 * (*r)->image.bands);
      }
    }
  }
}

}  // namespace webp_decode_test
}  // namespace thumbflow::imaging
