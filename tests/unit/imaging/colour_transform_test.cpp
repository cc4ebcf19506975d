// ICC profiles to sRGB through lcms2 with transforms kept across images (colour_transform.hpp),
// checked against libvips' own icc_transform, the path it replaces for 8-bit pixels.
#include <gtest/gtest.h>
#include <lcms2.h>
#include <vips/vips8>

#include <cstdlib>
#include <string>
#include <vector>

#include "imaging/colour_transform.hpp"
#include "imaging/image_ops.hpp"
#include "imaging/jpeg_decode.hpp"
#include "imaging/policy.hpp"
#include "imaging/render_pixels.hpp"
#include "imaging/resample.hpp"
#include "imaging/shrink_plan.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {
namespace {
using vips::VImage;

std::string profile_bytes(cmsHPROFILE p) {
  cmsUInt32Number n = 0;
  EXPECT_TRUE(cmsSaveProfileToMem(p, nullptr, &n));
  std::string out(n, '\0');
  EXPECT_TRUE(cmsSaveProfileToMem(p, out.data(), &n));
  cmsCloseProfile(p);
  return out;
}

// An RGB profile far from sRGB: Adobe-RGB-like primaries with a 1.8 gamma.
std::string wide_rgb_profile() {
  cmsCIExyY white{0.3127, 0.3290, 1.0};
  cmsCIExyYTRIPLE primaries{{0.64, 0.33, 1.0}, {0.21, 0.71, 1.0}, {0.15, 0.06, 1.0}};
  cmsToneCurve* gamma = cmsBuildGamma(nullptr, 1.8);
  cmsToneCurve* curves[3] = {gamma, gamma, gamma};
  cmsHPROFILE p = cmsCreateRGBProfile(&white, &primaries, curves);
  cmsFreeToneCurve(gamma);
  return profile_bytes(p);
}

std::vector<std::uint8_t> gradient(int w, int h) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(w * h * 3));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = &px[static_cast<std::size_t>((y * w + x) * 3)];
      p[0] = static_cast<std::uint8_t>(x * 255 / (w - 1));
      p[1] = static_cast<std::uint8_t>(y * 255 / (h - 1));
      p[2] = static_cast<std::uint8_t>((x + y) * 255 / (w + h - 2));
    }
  return px;
}

TEST(SrgbTransform, matches_libvips_icc_transform_within_rounding) {
  ASSERT_TRUE(init_imaging());
  const std::string profile = wide_rgb_profile();
  const int w = 64, h = 48;
  const auto px = gradient(w, h);
  auto t = srgb_transform(profile, 3);
  ASSERT_NE(t, nullptr);
  std::vector<std::uint8_t> ours(px.size());
  t->apply(px.data(), ours.data(), static_cast<std::size_t>(w * h));

  VImage img = VImage::new_from_memory(const_cast<std::uint8_t*>(px.data()), px.size(), w, h, 3, VIPS_FORMAT_UCHAR);
  img = img.copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
  vips_image_set_blob_copy(img.get_image(), VIPS_META_ICC_NAME, profile.data(), profile.size());
  VImage ref = img.icc_transform("srgb", VImage::option()
                                             ->set("embedded", true)
                                             ->set("intent", VIPS_INTENT_RELATIVE)
                                             ->set("depth", 8))
                   .cast(VIPS_FORMAT_UCHAR)
                   .copy_memory();
  ASSERT_EQ(ref.bands(), 3);
  const auto* r = static_cast<const std::uint8_t*>(ref.data());
  int worst = 0, changed = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    worst = std::max(worst, std::abs(int(ours[i]) - int(r[i])));
    changed += ours[i] != px[i];
  }
  EXPECT_LE(worst, 3) << "lcms directly and libvips (through Lab, in float) agree to rounding";
  EXPECT_GT(changed, int(ours.size()) / 2) << "the profile is far from sRGB: most values move";
}

TEST(SrgbTransform, is_built_once_per_profile_and_reused) {
  const std::string profile = wide_rgb_profile() + std::string("");  // same bytes every call
  const SrgbTransformStats before = srgb_transform_stats();
  auto a = srgb_transform(profile, 3);
  auto b = srgb_transform(profile, 3);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a, b);
  const SrgbTransformStats after = srgb_transform_stats();
  EXPECT_LE(after.built - before.built, 1u);
  EXPECT_GE(after.reused - before.reused, 1u);
}

TEST(SrgbTransform, refuses_what_it_cannot_take) {
  const std::string rgb = wide_rgb_profile();
  EXPECT_EQ(srgb_transform(rgb, 1), nullptr) << "an RGB profile on grey pixels";
  EXPECT_EQ(srgb_transform(rgb, 4), nullptr) << "an RGB profile on CMYK pixels";
  EXPECT_EQ(srgb_transform(rgb, 2), nullptr);
  EXPECT_EQ(srgb_transform("not a profile at all", 3), nullptr);
  EXPECT_EQ(srgb_transform(rgb.substr(0, rgb.size() / 2), 3), nullptr) << "a truncated profile";
  EXPECT_EQ(srgb_transform("", 3), nullptr);
  cmsToneCurve* g = cmsBuildGamma(nullptr, 2.2);
  auto grey = srgb_transform(profile_bytes(cmsCreateGrayProfile(cmsD50_xyY(), g)), 1);
  cmsFreeToneCurve(g);
  ASSERT_NE(grey, nullptr);
  EXPECT_EQ(grey->input_bands(), 1);
}

// A corpus JPEG with an embedded profile, thumbnailed twice: the second render finds the
// transform the first one built.
TEST(SrgbTransform, renders_of_images_with_one_profile_share_its_transform) {
  const std::string& bytes = test::corpus_bytes("skimage_rocket.jpg");
  auto first = render(bytes, RenditionSpec{});
  ASSERT_TRUE(first.ok()) << first.error().describe();
  const SrgbTransformStats before = srgb_transform_stats();
  auto second = render(bytes, RenditionSpec{});
  ASSERT_TRUE(second.ok());
  const SrgbTransformStats after = srgb_transform_stats();
  EXPECT_EQ(after.built, before.built);
  EXPECT_EQ(after.reused, before.reused + 1);
  EXPECT_EQ(first->renditions[0].bytes, second->renditions[0].bytes);
}

}  // namespace
}  // namespace thumbflow::imaging

namespace thumbflow::imaging {
namespace {

// CMYK without an embedded profile takes libvips' fallback CMYK profile, as libvips'
// icc_transform would, but through a transform made once: the thumbnail is exactly the DCT-scaled
// decode, reduced by Lanczos3 and converted by lcms with that profile (libvips' own conversion
// goes through Lab in float and rounds differently).
TEST(SrgbTransform, cmyk_without_a_profile_uses_libvips_fallback_profile_through_a_kept_transform) {
  ASSERT_TRUE(init_imaging().ok());
  const std::string bytes = test::read_bytes(test::corpus_dir() / "syn_cmyk_mate_Storm.jpg");
  auto info = probe(bytes);
  ASSERT_TRUE(info.ok());
  ASSERT_FALSE(info->has_icc_profile);
  const ShrinkPlan plan = plan_shrink(*info, RenditionSpec{});
  auto decoded = decode_jpeg(bytes, plan.jpeg_shrink);
  ASSERT_TRUE(decoded.ok() && decoded->has_value());
  JpegPixels& jpeg = **decoded;
  ASSERT_EQ(jpeg.colour, JpegColour::cmyk);
  Image8 img{std::move(jpeg.data), jpeg.width, jpeg.height, jpeg.bands};
  img = resample_lanczos3(img, double(info->width) / plan.jpeg_shrink, double(info->height) / plan.jpeg_shrink,
                          plan.out_width, plan.out_height);
  VipsBlob* fallback = VImage::profile_load("cmyk");
  ASSERT_NE(fallback, nullptr);
  std::size_t len = 0;
  const void* data = vips_blob_get(fallback, &len);
  auto t = srgb_transform(std::string_view(static_cast<const char*>(data), len), 4);
  vips_area_unref(VIPS_AREA(fallback));
  ASSERT_NE(t, nullptr);
  std::vector<std::uint8_t> expected(std::size_t{img.width} * img.height * 3);
  t->apply(img.data.data(), expected.data(), std::size_t{img.width} * img.height);

  auto px = render_pixels(bytes, RenditionSpec{});
  ASSERT_TRUE(px.ok()) << px.error().describe();
  ASSERT_EQ(px->width, img.width);
  ASSERT_EQ(px->bands, 3u);
  EXPECT_EQ(px->data, expected);
}

}  // namespace
}  // namespace thumbflow::imaging
