// The AVIF fast path (libavif + dav1d directly) against libvips' heifload (libheif + dav1d):
// the same pixels, alpha flattened as the thumbnail pipeline does, what it leaves to libvips,
// and clean failures on damaged data.
#include <avif/avif.h>
#include <gtest/gtest.h>
#include <vips/vips8>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "imaging/avif_decode.hpp"
#include "imaging/image_ops.hpp"
#include "test_cards.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {
namespace avif_decode_test {  // named: the test files share one unity translation unit
namespace {
using vips::VImage;

AvifPixels decode_ok(const std::string& bytes, Rgb bg = {}) {
  auto r = decode_avif(bytes, bg);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  if (!r.ok()) return {};
  EXPECT_TRUE(r->has_value());
  if (!r->has_value()) return {};
  return std::move(**r);
}

using test_cards::as_vips;

struct Diff {
  double max = 1e9, mean = 1e9;
};
// Per-sample differences; sizes and bands must match.
Diff diff(const Image8& mine, const VImage& ref) {
  EXPECT_EQ(static_cast<int>(mine.width), ref.width());
  EXPECT_EQ(static_cast<int>(mine.height), ref.height());
  EXPECT_EQ(static_cast<int>(mine.bands), ref.bands());
  if (static_cast<int>(mine.width) != ref.width() || static_cast<int>(mine.height) != ref.height() ||
      static_cast<int>(mine.bands) != ref.bands())
    return {};
  VImage d = (as_vips(mine).cast(VIPS_FORMAT_FLOAT) - ref.cast(VIPS_FORMAT_FLOAT)).abs();
  return {d.max(), d.avg()};
}

// heifload's pixels as the pipeline reduces them to 8 bits (16-bit output >> 8).
VImage heifload(const std::string& bytes) {
  VImage img = VImage::new_from_buffer(bytes.data(), bytes.size(), "").copy_memory();
  if (img.format() == VIPS_FORMAT_USHORT) img = (img >> 8).cast(VIPS_FORMAT_UCHAR);
  return img;
}

using test_cards::rgba_card;

std::string heifsave_av1(const VImage& img) {
  VipsBlob* blob = img.heifsave_buffer(
      VImage::option()->set("compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1)->set("Q", 80)->set("effort", 2));
  size_t len = 0;
  const void* data = vips_blob_get(blob, &len);
  std::string out(static_cast<const char*>(data), len);
  vips_area_unref(VIPS_AREA(blob));
  return out;
}

// Encodes 8-bit RGB pixels with libavif's own encoder: 4:2:0 at `depth`, BT.601, full range,
// rotated by irot 90 degrees when asked (heifsave cannot write irot or depth 10 with aom here).
std::string avif_encode(const VImage& rgb8, std::uint32_t depth, bool irot) {
  VImage img = rgb8.copy_memory();
  avifImage* im = avifImageCreate(static_cast<std::uint32_t>(img.width()), static_cast<std::uint32_t>(img.height()), depth,
                                  AVIF_PIXEL_FORMAT_YUV420);
  im->matrixCoefficients = AVIF_MATRIX_COEFFICIENTS_BT601;
  im->yuvRange = AVIF_RANGE_FULL;
  if (irot) {
    im->transformFlags |= AVIF_TRANSFORM_IROT;
    im->irot.angle = 1;
  }
  avifRGBImage rgb;
  avifRGBImageSetDefaults(&rgb, im);
  rgb.depth = 8;
  rgb.format = AVIF_RGB_FORMAT_RGB;
  size_t size = 0;
  void* mem = img.write_to_memory(&size);
  rgb.pixels = static_cast<std::uint8_t*>(mem);
  rgb.rowBytes = static_cast<std::uint32_t>(img.width()) * 3;
  EXPECT_EQ(avifImageRGBToYUV(im, &rgb), AVIF_RESULT_OK);
  g_free(mem);
  avifEncoder* enc = avifEncoderCreate();
  enc->maxThreads = 1;
  enc->speed = 8;
  enc->minQuantizer = 10;
  enc->maxQuantizer = 30;
  avifRWData out = AVIF_DATA_EMPTY;
  EXPECT_EQ(avifEncoderWrite(enc, im, &out), AVIF_RESULT_OK);
  std::string bytes(reinterpret_cast<const char*>(out.data), out.size);
  avifRWDataFree(&out);
  avifEncoderDestroy(enc);
  avifImageDestroy(im);
  return bytes;
}

VImage corpus_rgb_crop(int w, int h) {
  const std::string& jpeg = test::corpus_bytes("mate_Blinds.jpg");
  VImage img = VImage::new_from_buffer(jpeg.data(), jpeg.size(), "");
  return img.crop(img.width() / 3, img.height() / 3, w, h).copy_memory();
}

// Straight RGBA flattened onto bg with the documented formula.
Image8 flatten(const VImage& rgba, Rgb bg) {
  size_t size = 0;
  void* mem = rgba.write_to_memory(&size);
  const auto* p = static_cast<const std::uint8_t*>(mem);
  Image8 out{{}, static_cast<std::uint32_t>(rgba.width()), static_cast<std::uint32_t>(rgba.height()), 3};
  const std::uint32_t b[3] = {bg.r, bg.g, bg.b};
  for (std::size_t i = 0; i < size / 4; ++i) {
    const std::uint32_t a = p[i * 4 + 3];
    for (std::size_t c = 0; c < 3; ++c)
      out.data.push_back(static_cast<std::uint8_t>((a * p[i * 4 + c] + (255 - a) * b[c] + 127) / 255));
  }
  g_free(mem);
  return out;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST(AvifDecode, the_corpus_file_decodes_to_exactly_the_pixels_of_libvips_heifload_with_dav1d) {
  ASSERT_TRUE(init_imaging().ok());
  EXPECT_STREQ(avifCodecName(AVIF_CODEC_CHOICE_AUTO, AVIF_CODEC_FLAG_CAN_DECODE), "dav1d");
  const std::string& bytes = test::corpus_bytes("syn_photo_mate_Blinds.avif");
  const AvifPixels px = decode_ok(bytes);
  ASSERT_EQ(px.image.bands, 3u);
  // Nearest-neighbour chroma with libavif's built-in conversion: max 0, mean 0 (libyuv's
  // nearest gave max 1 / mean 0.24, bilinear max 22 / mean 0.32).
  const Diff d = diff(px.image, heifload(bytes));
  EXPECT_EQ(d.max, 0.0) << "mean " << d.mean;
  EXPECT_TRUE(px.icc_profile.empty());
}

TEST(AvifDecode, ten_bit_files_match_heifload_reduced_to_eight_bits_within_one_level) {
  ASSERT_TRUE(init_imaging().ok());
  const std::string bytes = avif_encode(corpus_rgb_crop(160, 96), 10, false);
  VImage ref = VImage::new_from_buffer(bytes.data(), bytes.size(), "");
  ASSERT_EQ(ref.format(), VIPS_FORMAT_USHORT);  // heifload's 16-bit output, reduced with >> 8
  const Diff d = diff(decode_ok(bytes).image, heifload(bytes));
  EXPECT_LE(d.max, 1.0);
  EXPECT_LE(d.mean, 0.01);
}

TEST(AvifDecode, alpha_is_flattened_onto_white_and_onto_a_coloured_background) {
  ASSERT_TRUE(init_imaging().ok());
  const std::string bytes = heifsave_av1(rgba_card(96, 64));
  VImage ref = heifload(bytes);
  ASSERT_EQ(ref.bands(), 4);
  for (Rgb bg : {Rgb{}, Rgb{30, 160, 90}}) {
    const AvifPixels px = decode_ok(bytes, bg);
    ASSERT_EQ(px.image.bands, 3u);
    EXPECT_EQ(diff(px.image, as_vips(flatten(ref, bg))).max, 0.0) << to_hex(bg);
    VImage vips_flat = ref.flatten(VImage::option()->set("background", std::vector<double>{double(bg.r), double(bg.g), double(bg.b)}));
    EXPECT_LE(diff(px.image, vips_flat.cast(VIPS_FORMAT_UCHAR)).max, 1.0) << to_hex(bg);
  }
  // The red under the transparent pixels never shows: a transparent pixel is the background.
  const AvifPixels green = decode_ok(bytes, Rgb{30, 160, 90});
  const std::size_t corner = (std::size_t{5} * 96 + 15) * 3;  // (15, 5): neither patch nor disc
  EXPECT_NEAR(green.image.data[corner], 30, 2);
  EXPECT_NEAR(green.image.data[corner + 1], 160, 2);
}

TEST(AvifDecode, rotated_files_and_sequences_are_left_to_libvips) {
  ASSERT_TRUE(init_imaging().ok());
  const std::string rotated = avif_encode(corpus_rgb_crop(48, 32), 8, true);
  VImage ref = VImage::new_from_buffer(rotated.data(), rotated.size(), "");
  ASSERT_EQ(ref.width(), 32);  // libheif applies irot
  auto r = decode_avif(rotated, {});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_FALSE(r->has_value());

  std::string sequence = avif_encode(corpus_rgb_crop(48, 32), 8, false);
  ASSERT_EQ(sequence.substr(4, 8), "ftypavif");
  sequence.replace(8, 4, "avis");
  auto s = decode_avif(sequence, {});
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_FALSE(s->has_value());
}

TEST(AvifDecode, returns_the_icc_profile_heifsave_kept) {
  ASSERT_TRUE(init_imaging().ok());
  const std::string& jpeg = test::corpus_bytes("skimage_rocket.jpg");
  VImage img = VImage::new_from_buffer(jpeg.data(), jpeg.size(), "").resize(0.25);
  ASSERT_NE(img.get_typeof(VIPS_META_ICC_NAME), 0u);
  size_t icc_len = 0;
  const void* icc = img.get_blob(VIPS_META_ICC_NAME, &icc_len);
  const std::string expected(static_cast<const char*>(icc), icc_len);
  const std::string bytes = heifsave_av1(img);
  const AvifPixels px = decode_ok(bytes);
  EXPECT_EQ(px.icc_profile, expected);
  EXPECT_EQ(diff(px.image, heifload(bytes)).max, 0.0);
}

TEST(AvifDecode, truncated_data_and_garbage_fail_as_corrupt_avif) {
  ASSERT_TRUE(init_imaging().ok());
  const std::string& whole = test::corpus_bytes("syn_photo_mate_Blinds.avif");
  // The image data ends before byte 18914; the rest is Exif and XMP, which this path ignores.
  for (std::size_t cut : {std::size_t{0}, std::size_t{11}, std::size_t{30}, std::size_t{200}, std::size_t{5000}, std::size_t{18000}}) {
    auto r = decode_avif(whole.substr(0, cut), {});
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.error().kind, ErrorKind::corrupt) << cut;
    EXPECT_NE(r.error().message.find("truncated avif data"), std::string::npos) << cut << ": " << r.error().message;
  }
  std::mt19937 rng(11);
  std::string garbage = whole.substr(0, 28);  // the ftyp box, then noise
  for (int i = 0; i < 400; ++i) garbage += static_cast<char>(rng() & 0xFF);
  auto r = decode_avif(garbage, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::corrupt);
  EXPECT_NE(r.error().message.find("avif data"), std::string::npos) << r.error().message;
  // An intact container around a garbage AV1 payload (OBU headers with the forbidden bit set
  // where the sequence header was): dav1d refuses it.
  std::string bad = avif_encode(corpus_rgb_crop(48, 32), 8, false);
  const std::size_t mdat = bad.find("mdat");
  ASSERT_NE(mdat, std::string::npos);
  for (std::size_t i = mdat + 4; i < mdat + 4 + 24; ++i) bad[i] = static_cast<char>(0xFF);
  auto r2 = decode_avif(bad, {});
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().kind, ErrorKind::corrupt);
  EXPECT_NE(r2.error().message.find("corrupt avif data: the decoder rejected it"), std::string::npos) << r2.error().message;
}

TEST(AvifDecode, every_cut_and_random_byte_changes_of_small_files_give_a_value_never_a_crash) {
  ASSERT_TRUE(init_imaging().ok());
  const std::string opaque = avif_encode(corpus_rgb_crop(40, 24), 8, false);
  const std::string alpha = heifsave_av1(rgba_card(40, 24));
  std::mt19937 rng(5);
  for (const std::string* base : {&opaque, &alpha}) {
    for (std::size_t cut = 0; cut < base->size(); ++cut) {
      auto r = decode_avif(base->substr(0, cut), {});
      if (!r.ok()) {
        EXPECT_NE(r.error().message.find("avif"), std::string::npos) << r.error().message;
      }
    }
    for (int i = 0; i < 400; ++i) {
      std::string m = *base;
      const int changes = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < changes; ++k) m[rng() % m.size()] = static_cast<char>(rng() & 0xFF);
      auto r = decode_avif(m, Rgb{1, 2, 3});
      if (!r.ok()) {
        EXPECT_NE(r.error().message.find("avif"), std::string::npos) << r.error().message;
      } else if (r->has_value()) {
        const Image8& img = (*r)->image;
        EXPECT_EQ(img.data.size(), std::size_t{img.width} * img.height * 3);
      }
    }
  }
}

// Not a bound (the machine is shared): the figures, for the record.
TEST(AvifDecode, timing_against_heifload_in_the_same_process) {
  ASSERT_TRUE(init_imaging().ok());
  const std::string& corpus = test::corpus_bytes("syn_photo_mate_Blinds.avif");
  const std::string tiny = heifsave_av1(corpus_rgb_crop(16, 16));
  for (const std::string* bytes : {&corpus, &tiny}) {
    double mine = 1e9, theirs = 1e9;
    for (int i = 0; i < 7; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = decode_avif(*bytes, {});
      mine = std::min(mine, ms_since(t0));
      ASSERT_TRUE(r.ok() && r->has_value());
      t0 = std::chrono::steady_clock::now();
      VImage img = VImage::new_from_buffer(bytes->data(), bytes->size(), "");
      size_t size = 0;
      g_free(img.write_to_memory(&size));
      theirs = std::min(theirs, ms_since(t0));
    }
    std::printf("[ timing ] %zu-byte avif: decode_avif %.3f ms, heifload + write_to_memory %.3f ms (best of 7)\n",
                bytes->size(), mine, theirs);
  }
}

}  // namespace avif_decode_test
}  // namespace thumbflow::imaging
