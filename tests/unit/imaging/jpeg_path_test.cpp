// The JPEG path that does not go through libvips: the header probe (libjpeg + libexif), the
// Lanczos3 resample, the EXIF orientations and the libjpeg encoder, each checked against the
// libvips operation it replaces.
#include <gtest/gtest.h>
#include <vips/vips8>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "imaging/image_ops.hpp"
#include "imaging/jpeg_decode.hpp"
#include "imaging/jpeg_encode.hpp"
#include "imaging/policy.hpp"
#include "imaging/render_pixels.hpp"
#include "imaging/resample.hpp"
#include "ssim.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {
namespace {
using vips::VImage;

void expect_same_info(const ImageInfo& a, const ImageInfo& b, const std::string& what) {
  EXPECT_EQ(a.format, b.format) << what;
  EXPECT_EQ(a.width, b.width) << what;
  EXPECT_EQ(a.height, b.height) << what;
  EXPECT_EQ(a.frames, b.frames) << what;
  EXPECT_EQ(a.orientation, b.orientation) << what;
  EXPECT_EQ(a.has_alpha, b.has_alpha) << what;
  EXPECT_EQ(a.bits_per_sample, b.bits_per_sample) << what;
  EXPECT_EQ(a.bands, b.bands) << what;
  EXPECT_EQ(a.colour_space, b.colour_space) << what;
  EXPECT_EQ(a.has_icc_profile, b.has_icc_profile) << what;
  EXPECT_EQ(a.progressive, b.progressive) << what;
  EXPECT_EQ(a.capture_time, b.capture_time) << what;
  EXPECT_EQ(a.camera_make, b.camera_make) << what;
  EXPECT_EQ(a.camera_model, b.camera_model) << what;
}

Image8 gradient(std::uint32_t w, std::uint32_t h, std::uint32_t bands) {
  Image8 img{std::vector<std::uint8_t>(std::size_t{w} * h * bands), w, h, bands};
  for (std::uint32_t y = 0; y < h; ++y)
    for (std::uint32_t x = 0; x < w; ++x)
      for (std::uint32_t b = 0; b < bands; ++b)
        img.data[(std::size_t{y} * w + x) * bands + b] =
            static_cast<std::uint8_t>((x * 255 / (w > 1 ? w - 1 : 1) + y * 7 + b * 50 + ((x * y) % 13) * 9) % 256);
  return img;
}

std::string plain_jpeg(std::uint32_t w = 48, std::uint32_t h = 32) {
  auto file = encode_jpeg(gradient(w, h, 3), 85);
  EXPECT_TRUE(file.ok());
  return file.ok() ? *file : std::string{};
}

// EXIF as a camera writes it: a little-endian TIFF header, IFD0 with the given entries and a
// pointer to an EXIF IFD holding DateTimeOriginal.
struct Tag {
  std::uint16_t tag, type;
  std::string data;  // the value's bytes (ASCII with its NUL, or a SHORT/LONG)
  std::uint32_t count;
};

std::string le16(std::uint16_t v) { return std::string{char(v & 0xFF), char(v >> 8)}; }
std::string le32(std::uint32_t v) { return le16(std::uint16_t(v & 0xFFFF)) + le16(std::uint16_t(v >> 16)); }

// One IFD at `at` (offset from the TIFF header), its out-of-line values after it.
std::string ifd(std::vector<Tag> tags, std::uint32_t at, std::uint32_t next_ifd = 0) {
  std::string head = le16(std::uint16_t(tags.size())), tail;
  const std::uint32_t data_at = at + 2 + 12 * std::uint32_t(tags.size()) + 4;
  for (const auto& t : tags) {
    head += le16(t.tag) + le16(t.type) + le32(t.count);
    if (t.data.size() <= 4) {
      head += t.data + std::string(4 - t.data.size(), '\0');
    } else {
      head += le32(data_at + std::uint32_t(tail.size()));
      tail += t.data;
      if (tail.size() % 2) tail += '\0';
    }
  }
  return head + le32(next_ifd) + tail;
}

Tag ascii(std::uint16_t tag, const std::string& s) { return {tag, 2, s + '\0', std::uint32_t(s.size() + 1)}; }
Tag short_tag(std::uint16_t tag, std::uint16_t v) { return {tag, 3, le16(v), 1}; }
Tag long_tag(std::uint16_t tag, std::uint32_t v) { return {tag, 4, le32(v), 1}; }

std::string exif_payload(std::vector<Tag> ifd0, const std::string& date_time_original = {}) {
  std::string tiff = "II*" + std::string(1, '\0') + le32(8);
  if (!date_time_original.empty()) {
    // IFD0 first with the pointer, then the EXIF IFD right after it.
    std::vector<Tag> with_ptr = ifd0;
    with_ptr.push_back(long_tag(0x8769, 0));
    const std::string probe0 = ifd(with_ptr, 8);
    with_ptr.back() = long_tag(0x8769, 8 + std::uint32_t(probe0.size()));
    tiff += ifd(with_ptr, 8);
    tiff += ifd({ascii(0x9003, date_time_original)}, 8 + std::uint32_t(probe0.size()));
  } else {
    tiff += ifd(ifd0, 8);
  }
  return std::string("Exif\0\0", 6) + tiff;
}

// The JPEG with APP1 segments carrying the payloads, right after SOI.
std::string with_app1(const std::string& jpeg, const std::vector<std::string>& payloads) {
  std::string out = jpeg.substr(0, 2);
  for (const auto& p : payloads) {
    const std::size_t len = p.size() + 2;
    out += std::string{char(0xFF), char(0xE1), char(len >> 8), char(len & 0xFF)} + p;
  }
  return out + jpeg.substr(2);
}

TEST(JpegProbe, agrees_with_libvips_on_every_corpus_jpeg) {
  ASSERT_TRUE(init_imaging().ok());
  int checked = 0;
  for (const auto& path : test::corpus_files()) {
    if (path.extension() != ".jpg" && path.extension() != ".jpeg") continue;
    const std::string bytes = test::read_bytes(path);
    auto theirs = probe_with_libvips(bytes);
    if (!theirs.ok()) {  // the truncated sample: probe() fails the same way before either reader
      auto ours = probe(bytes);
      ASSERT_FALSE(ours.ok()) << path.filename();
      EXPECT_EQ(ours.error().message, theirs.error().message) << path.filename();
      continue;
    }
    auto ours = probe_jpeg(bytes);  // libjpeg + libexif, no libvips
    ASSERT_TRUE(ours.has_value()) << path.filename();
    expect_same_info(*ours, *theirs, path.filename().string());
    ++checked;
  }
  EXPECT_GE(checked, 25);
}

TEST(JpegProbe, reads_exif_fields_as_libvips_does) {
  ASSERT_TRUE(init_imaging().ok());
  const std::string base = plain_jpeg();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"camera", exif_payload({ascii(0x010F, "Canon"), ascii(0x0110, "Canon EOS 5D"), short_tag(0x0112, 6)},
                              "2021:07:04 12:34:56")},
      {"orientation 0", exif_payload({short_tag(0x0112, 0)})},
      {"orientation 9", exif_payload({short_tag(0x0112, 9)})},
      {"orientation as LONG", exif_payload({long_tag(0x0112, 3)})},
      {"orientation as text", exif_payload({ascii(0x0112, "8")})},
      {"orientation as RATIONAL", exif_payload({{0x0112, 5, le32(7) + le32(2), 1}})},
      {"padded make", exif_payload({ascii(0x010F, "NIKON CORPORATION   ")})},
      {"make with a parenthesis", exif_payload({ascii(0x010F, "Foo (Bar) Inc")})},
      {"blank make", exif_payload({ascii(0x010F, "    ")})},
      {"zero date", exif_payload({short_tag(0x0112, 2)}, "0000:00:00 00:00:00")},
      {"short date", exif_payload({}, "2021:07:04")},
      {"odd date", exif_payload({}, "2021-07-04 12:34:56")},
      {"garbage", std::string("Exif\0\0", 6) + "not a tiff header at all"},
      {"cut tiff", exif_payload({ascii(0x010F, "Canon")}).substr(0, 20)},
  };
  for (const auto& [name, payload] : cases) {
    const std::string bytes = with_app1(base, {payload});
    auto ours = probe_jpeg(bytes);
    auto theirs = probe_with_libvips(bytes);
    ASSERT_TRUE(ours.has_value()) << name;
    ASSERT_TRUE(theirs.ok()) << name << ": " << theirs.error().describe();
    expect_same_info(*ours, *theirs, name);
  }
  // The first case really carries the fields (so agreement above is not two empty answers).
  auto camera = probe_jpeg(with_app1(base, {cases[0].second}));
  ASSERT_TRUE(camera.has_value());
  EXPECT_EQ(camera->camera_make, "Canon");
  EXPECT_EQ(camera->camera_model, "Canon EOS 5D");
  EXPECT_EQ(camera->orientation, 6);
  EXPECT_EQ(camera->capture_time, "2021-07-04T12:34:56");
  // Two EXIF segments: libvips reads the first.
  const std::string two =
      with_app1(base, {exif_payload({short_tag(0x0112, 3)}), exif_payload({short_tag(0x0112, 5)})});
  auto ours = probe_jpeg(two);
  auto theirs = probe_with_libvips(two);
  ASSERT_TRUE(ours.has_value() && theirs.ok());
  expect_same_info(*ours, *theirs, "two exif segments");
}

TEST(JpegProbe, damaged_headers_get_libvips_answer) {
  ASSERT_TRUE(init_imaging().ok());
  std::string bytes = plain_jpeg();
  // Corrupt the frame header's component count (SOF0 is the first FFC0).
  const std::size_t sof = bytes.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  std::string bad = bytes;
  bad[sof + 9] = 7;  // Nf
  EXPECT_FALSE(probe_jpeg(bad).has_value());  // left to libvips
  auto ours = probe(bad);
  auto theirs = probe_with_libvips(bad);
  ASSERT_FALSE(theirs.ok());
  ASSERT_FALSE(ours.ok());
  EXPECT_EQ(ours.error().kind, theirs.error().kind);
  EXPECT_EQ(ours.error().message, theirs.error().message);
}

TEST(Resample, a_flat_image_stays_exactly_flat_at_any_scale) {
  for (std::uint32_t bands : {1u, 3u, 4u}) {
    Image8 flat{std::vector<std::uint8_t>(std::size_t{301} * 187 * bands), 301, 187, bands};
    for (std::size_t i = 0; i < flat.data.size(); ++i) flat.data[i] = static_cast<std::uint8_t>(37 + 60 * (i % bands));
    for (auto [w, h] : {std::pair{128u, 80u}, {7u, 3u}, {300u, 186u}, {1u, 1u}, {602u, 374u}}) {
      Image8 out = resample_lanczos3(flat, 301, 187, w, h);
      ASSERT_EQ(out.width, w);
      ASSERT_EQ(out.height, h);
      ASSERT_EQ(out.data.size(), std::size_t{w} * h * bands);
      for (std::size_t i = 0; i < out.data.size(); ++i)
        ASSERT_EQ(out.data[i], 37 + 60 * (i % bands)) << bands << " bands, " << w << "x" << h << " at " << i;
    }
  }
}

TEST(Resample, matches_libvips_lanczos3_resize_on_a_photo) {
  ASSERT_TRUE(init_imaging().ok());
  const std::string bytes = test::corpus_bytes("mate_Storm.jpg");
  VImage src = VImage::new_from_buffer(bytes.data(), bytes.size(), "", VImage::option()->set("shrink", 4));
  src = src.extract_band(0, VImage::option()->set("n", 3));
  std::size_t size = 0;
  void* mem = src.write_to_memory(&size);
  Image8 in{std::vector<std::uint8_t>(static_cast<std::uint8_t*>(mem), static_cast<std::uint8_t*>(mem) + size),
            std::uint32_t(src.width()), std::uint32_t(src.height()), 3};
  g_free(mem);
  for (double scale : {0.9, 0.45, 0.27, 0.09}) {
    const auto w = std::uint32_t(std::lround(in.width * scale)), h = std::uint32_t(std::lround(in.height * scale));
    Image8 ours = resample_lanczos3(in, in.width, in.height, w, h);
    VImage theirs = src.resize(double(w) / in.width, VImage::option()
                                                       ->set("vscale", double(h) / in.height)
                                                       ->set("kernel", VIPS_KERNEL_LANCZOS3));
    ASSERT_EQ(theirs.width(), int(w));
    ASSERT_EQ(theirs.height(), int(h));
    std::size_t n = 0;
    auto* ref = static_cast<std::uint8_t*>(theirs.write_to_memory(&n));
    ASSERT_EQ(n, ours.data.size());
    const double s = test::ssim_mean_over_bands(ours.data.data(), ref, w, h, 3);
    double diff = 0;
    for (std::size_t i = 0; i < n; ++i) diff += std::abs(int(ours.data[i]) - int(ref[i]));
    g_free(ref);
    EXPECT_GE(s, 0.97) << "scale " << scale;
    EXPECT_LT(diff / double(n), 3.0) << "scale " << scale;  // mean difference in levels
  }
}

TEST(Resample, pixels_past_the_true_edge_only_fill_in) {
  // A 100-wide image whose true width is 99.25 (libjpeg's partial last column): the last column
  // hardly matters; with the full width it is a whole pixel's worth.
  Image8 img{std::vector<std::uint8_t>(100 * 10, 0), 100, 10, 1};
  for (std::uint32_t y = 0; y < 10; ++y) img.data[y * 100 + 99] = 255;
  Image8 partial = resample_lanczos3(img, 99.25, 10, 25, 10);
  Image8 whole = resample_lanczos3(img, 100, 10, 25, 10);
  EXPECT_LT(partial.data[24], whole.data[24]);
  EXPECT_GT(whole.data[24], 40);
  for (std::uint32_t x = 0; x < 20; ++x) EXPECT_LE(partial.data[x], 2) << x;
}

TEST(Orientation, each_exif_orientation_matches_libvips_autorot) {
  ASSERT_TRUE(init_imaging().ok());
  const Image8 img = gradient(5, 3, 3);
  for (int o = 1; o <= 8; ++o) {
    Image8 ours = orient_upright(img, o);
    VImage v = VImage::new_from_memory(const_cast<std::uint8_t*>(img.data.data()), img.data.size(), 5, 3, 3,
                                       VIPS_FORMAT_UCHAR)
                   .copy();
    v.set("orientation", o);
    VImage up = v.autorot();
    ASSERT_EQ(int(ours.width), up.width()) << o;
    ASSERT_EQ(int(ours.height), up.height()) << o;
    std::size_t n = 0;
    auto* ref = static_cast<std::uint8_t*>(up.write_to_memory(&n));
    ASSERT_EQ(n, ours.data.size());
    EXPECT_EQ(std::memcmp(ref, ours.data.data(), n), 0) << "orientation " << o;
    g_free(ref);
  }
}

TEST(JpegEncode, matches_libvips_jpegsave_with_the_same_settings) {
  ASSERT_TRUE(init_imaging().ok());
  for (int quality : {80, 95}) {
    const Image8 img = gradient(128, 96, 3);
    auto ours = encode_jpeg(img, quality);
    ASSERT_TRUE(ours.ok()) << ours.error().describe();
    VImage v = VImage::new_from_memory(const_cast<std::uint8_t*>(img.data.data()), img.data.size(), 128, 96, 3,
                                       VIPS_FORMAT_UCHAR)
                   .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
    void* buf = nullptr;
    std::size_t len = 0;
    ASSERT_EQ(vips_jpegsave_buffer(v.get_image(), &buf, &len, "Q", quality, "strip", TRUE, "optimize_coding", TRUE,
                                   nullptr),
              0);
    const std::string theirs(static_cast<const char*>(buf), len);
    g_free(buf);
    // Same quantisation, subsampling and Huffman optimisation: the entropy-coded data is the
    // same, so the files differ by a few header bytes at most.
    EXPECT_NEAR(double(ours->size()), double(theirs.size()), 32.0) << "quality " << quality;
    VImage a = VImage::new_from_buffer(ours->data(), ours->size(), "");
    VImage b = VImage::new_from_buffer(theirs.data(), theirs.size(), "");
    EXPECT_EQ(a.width(), 128);
    EXPECT_EQ(a.height(), 96);
    EXPECT_EQ(a.bands(), 3);
    EXPECT_EQ((a - b).abs().max(), 0.0) << "quality " << quality;
  }
  // Grey stays one band.
  auto grey = encode_jpeg(gradient(40, 30, 1), 80);
  ASSERT_TRUE(grey.ok());
  EXPECT_EQ(VImage::new_from_buffer(grey->data(), grey->size(), "").bands(), 1);
  // A band count the encoder does not take is an error, not a crash.
  EXPECT_FALSE(encode_jpeg(gradient(4, 4, 4), 80).ok());
}

}  // namespace
}  // namespace thumbflow::imaging
