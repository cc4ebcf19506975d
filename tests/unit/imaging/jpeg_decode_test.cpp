// The JPEG fast path against libvips' own JPEG loader (the same libjpeg-turbo, decoding every
// scan): the pixels must be the same, while progressive files are read only as far as needed.
#include <gtest/gtest.h>
#include <vips/vips8>

#include <algorithm>
#include <string>

#include "imaging/image_ops.hpp"
#include "imaging/jpeg_decode.hpp"
#include "imaging/policy.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {
namespace {
using vips::VImage;

std::string corpus(const std::string& name) { return test::read_bytes(test::corpus_dir() / name); }

JpegPixels decode_ok(const std::string& bytes, int shrink) {
  auto r = decode_jpeg(bytes, shrink);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  if (!r.ok() || !r->has_value()) return {};
  return std::move(**r);
}

// The largest per-sample difference from libvips' full decode at the same shrink, over the
// part both have (libvips drops libjpeg's partial last row and column).
double max_diff_from_libvips(const std::string& bytes, const JpegPixels& px, int shrink) {
  VImage ref = VImage::new_from_buffer(bytes.data(), bytes.size(), "", VImage::option()->set("shrink", shrink));
  VImage mine = VImage::new_from_memory(const_cast<std::uint8_t*>(px.data.data()), px.data.size(),
                                        static_cast<int>(px.width), static_cast<int>(px.height),
                                        static_cast<int>(px.bands), VIPS_FORMAT_UCHAR);
  EXPECT_EQ(ref.bands(), mine.bands());
  EXPECT_LE(mine.width() - ref.width(), 1);
  EXPECT_LE(mine.height() - ref.height(), 1);
  mine = mine.crop(0, 0, ref.width(), ref.height());
  return (ref.cast(VIPS_FORMAT_FLOAT) - mine.cast(VIPS_FORMAT_FLOAT)).abs().max();
}

// Byte offset of the n-th SOS marker segment (0-based) in a JPEG.
std::size_t nth_sos(const std::string& b, int n) {
  std::size_t pos = 2;
  int seen = 0;
  while (pos + 4 <= b.size()) {
    if (static_cast<unsigned char>(b[pos]) != 0xFF) {
      ++pos;
      continue;
    }
    const auto m = static_cast<unsigned char>(b[pos + 1]);
    if (m == 0x00 || m == 0xFF || (m >= 0xD0 && m <= 0xD7)) {
      pos += m == 0xFF ? 1 : 2;
      continue;
    }
    if (m == 0xDA && seen++ == n) return pos;
    const std::size_t len = std::size_t{static_cast<unsigned char>(b[pos + 2])} << 8 | static_cast<unsigned char>(b[pos + 3]);
    pos += 2 + len;
    if (m == 0xDA) {  // skip to the next marker past the entropy-coded data
      while (pos + 1 < b.size() && !(static_cast<unsigned char>(b[pos]) == 0xFF &&
                                     static_cast<unsigned char>(b[pos + 1]) != 0x00 &&
                                     !(static_cast<unsigned char>(b[pos + 1]) >= 0xD0 && static_cast<unsigned char>(b[pos + 1]) <= 0xD7)))
        ++pos;
    }
  }
  return std::string::npos;
}

}  // namespace

TEST(JpegDecode, progressive_files_stop_early_at_one_eighth_with_the_pixels_of_a_full_decode) {
  ASSERT_TRUE(init_imaging().ok());
  // Bridge and Elephants are 2x1 subsampled, FreshFlower 2x2: at 1/8 luma needs the DC alone but
  // chroma gets a 2x2 IDCT, which reads AC coefficients too; stopping too early would change
  // the chroma, and the comparison is exact.
  for (const char* name : {"l16_Bridge_by_Sander_Klootwijk.jpg", "mate_Elephants_5640x3172.jpg", "mate_FreshFlower.jpg"}) {
    const std::string bytes = corpus(name);
    JpegPixels px = decode_ok(bytes, 8);
    EXPECT_LT(px.scans_read, 10) << name;
    EXPECT_LT(px.bytes_decoded, bytes.size() * 9 / 10) << name;
    EXPECT_EQ(max_diff_from_libvips(bytes, px, 8), 0.0) << name;
  }
}

TEST(JpegDecode, every_corpus_jpeg_at_one_eighth_and_smaller_ones_at_every_shrink_match_libvips_full_decode) {
  ASSERT_TRUE(init_imaging().ok());
  for (const auto& path : test::corpus_files()) {
    const std::string name = path.filename().string();
    if (path.extension() != ".jpg" || name == "skimage_truncated.jpg") continue;
    const std::string bytes = test::read_bytes(path);
    // 1/2 and 1/4 on files up to 1.2 MB (4:4:4, 2x1 and 2x2 progressive among them) keep the
    // test short; 1/8, where the fast path skips the most, on every file.
    const bool small = bytes.size() <= 1'200'000;
    for (int shrink : {2, 4, 8}) {
      if (shrink != 8 && !small) continue;
      JpegPixels px = decode_ok(bytes, shrink);
      EXPECT_EQ(max_diff_from_libvips(bytes, px, shrink), 0.0) << name << " at 1/" << shrink;
    }
  }
}

TEST(JpegDecode, baseline_files_are_read_to_the_end) {
  const std::string bytes = corpus("mate_Storm.jpg");
  JpegPixels px = decode_ok(bytes, 8);
  EXPECT_EQ(px.scans_read, 1);
  EXPECT_EQ(px.bytes_decoded, bytes.size());
  EXPECT_EQ(px.colour, JpegColour::rgb);
  EXPECT_EQ(px.bands, 3u);
}

TEST(JpegDecode, grey_cmyk_and_the_icc_profile_come_through) {
  ASSERT_TRUE(init_imaging().ok());
  JpegPixels grey = decode_ok(corpus("plasma_Grey_2560x1600.jpg"), 8);
  EXPECT_EQ(grey.colour, JpegColour::grey);
  EXPECT_EQ(grey.bands, 1u);
  // Adobe CMYK is stored inverted; undone, it equals libvips' reading exactly.
  const std::string cmyk_bytes = corpus("syn_cmyk_mate_Storm.jpg");
  JpegPixels cmyk = decode_ok(cmyk_bytes, 8);
  EXPECT_EQ(cmyk.colour, JpegColour::cmyk);
  EXPECT_EQ(cmyk.bands, 4u);
  EXPECT_EQ(max_diff_from_libvips(cmyk_bytes, cmyk, 8), 0.0);
  const std::string icc_bytes = corpus("plasma_ColorfulCups_2560x1600.jpg");
  JpegPixels icc = decode_ok(icc_bytes, 8);
  VImage ref = VImage::new_from_buffer(icc_bytes.data(), icc_bytes.size(), "");
  std::size_t len = 0;
  const void* data = ref.get_blob(VIPS_META_ICC_NAME, &len);
  ASSERT_GT(len, 0u);
  EXPECT_EQ(icc.icc_profile, std::string(static_cast<const char*>(data), len));
}

TEST(JpegDecode, a_progressive_file_cut_inside_the_unread_tail_fails_as_truncated) {
  const std::string full = corpus("l16_Bridge_by_Sander_Klootwijk.jpg");
  JpegPixels px = decode_ok(full, 8);
  ASSERT_LT(px.bytes_decoded, full.size());
  // Cut in the tail, at the last byte (EOI half gone) and with EOI alone missing.
  for (std::size_t keep : {px.bytes_decoded + (full.size() - px.bytes_decoded) / 2, full.size() - 1, full.size() - 2}) {
    auto r = decode_jpeg(full.substr(0, keep), 8);
    ASSERT_FALSE(r.ok()) << "cut at " << keep << " of " << full.size();
    EXPECT_EQ(r.error().kind, ErrorKind::corrupt);
    EXPECT_NE(r.error().message.find("truncated jpeg data"), std::string::npos) << r.error().message;
    // And through render(), the same kind and wording as libvips' loader gives.
    auto rendered = render(full.substr(0, keep), RenditionSpec{});
    ASSERT_FALSE(rendered.ok());
    EXPECT_NE(rendered.error().message.find("truncated jpeg data"), std::string::npos);
  }
  // Bytes after EOI are ignored, as libjpeg ignores them.
  EXPECT_TRUE(decode_jpeg(full + "trailing", 8).ok());
}

TEST(JpegDecode, a_damaged_scan_header_in_the_unread_tail_fails_as_corrupt) {
  const std::string full = corpus("l16_Bridge_by_Sander_Klootwijk.jpg");
  JpegPixels px = decode_ok(full, 8);
  const std::size_t last_sos = nth_sos(full, 9);  // the tenth and last scan, never decoded at 1/8
  ASSERT_NE(last_sos, std::string::npos);
  ASSERT_GT(last_sos, px.bytes_decoded);
  std::string bad = full;
  bad[last_sos + 4] = 9;  // component count
  auto r = decode_jpeg(bad, 8);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::corrupt);
  EXPECT_NE(r.error().message.find("corrupt jpeg data"), std::string::npos) << r.error().message;
  // A second frame header where only scans may follow.
  bad = full;
  bad[last_sos + 1] = static_cast<char>(0xC0);
  EXPECT_FALSE(decode_jpeg(bad, 8).ok());
}

TEST(JpegDecode, check_jpeg_tail_follows_markers_and_entropy_data_to_eoi) {
  const std::string sos = std::string("\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00", 10);
  const std::string entropy = std::string("\x12\xFF\x00\x34\xFF\xD0\x56", 7);  // stuffed byte and a restart marker
  const std::string eoi = "\xFF\xD9";
  const std::string com = std::string("\xFF\xFE\x00\x04hi", 6);
  EXPECT_TRUE(check_jpeg_tail(sos + entropy + com + eoi, 0, 0, 3).ok());
  EXPECT_TRUE(check_jpeg_tail(entropy + "\xFF\xFF" + eoi, 0, 0, 3).ok()) << "fill bytes before a marker";
  EXPECT_FALSE(check_jpeg_tail(sos + entropy, 0, 0, 3).ok()) << "no EOI";
  EXPECT_FALSE(check_jpeg_tail(sos + entropy + std::string("\xFF\xFE\x00\x40hi", 6) + eoi, 0, 0, 3).ok())
      << "a segment longer than the file";
  EXPECT_FALSE(check_jpeg_tail(com + "x" + eoi, 0, 0, 3).ok()) << "data between segments";
  // A marker libjpeg already read: pos is just after its code.
  EXPECT_TRUE(check_jpeg_tail(com + eoi, 2, 0xFE, 3).ok());
}

}  // namespace thumbflow::imaging
