// The DC-only decoder of progressive JPEGs against libjpeg's own 1/8 decode (decode_jpeg): luma
// and grey exactly, colour within what chroma from the DC alone changes; damaged files are left
// to libjpeg.
#include <gtest/gtest.h>
#include <vips/vips8>

#include <cmath>
#include <cstdio>
#include <string>

#include "imaging/image_ops.hpp"
#include "imaging/jpeg_dc.hpp"
#include "imaging/jpeg_decode.hpp"
#include "imaging/policy.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {
namespace {
using vips::VImage;

std::string corpus(const std::string& name) { return test::read_bytes(test::corpus_dir() / name); }

JpegPixels libjpeg_eighth(const std::string& bytes) {
  auto r = decode_jpeg(bytes, 8);
  EXPECT_TRUE(r.ok() && r->has_value()) << (r.ok() ? "fell back" : r.error().describe());
  return r.ok() && r->has_value() ? std::move(**r) : JpegPixels{};
}

JpegPixels dc_ok(const std::string& bytes) {
  auto r = decode_jpeg_dc(bytes);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  EXPECT_TRUE(r.ok() && r->has_value()) << "the DC path did not take the file";
  return r.ok() && r->has_value() ? std::move(**r) : JpegPixels{};
}

bool dc_declines(const std::string& bytes) {
  auto r = decode_jpeg_dc(bytes);
  return r.ok() && !r->has_value();
}

// A progressive (and optionally restart-marked) re-encoding of a corpus file by libvips.
std::string progressive(const std::string& name, int restart_interval = 0, bool grey = false) {
  VImage img = VImage::new_from_file((test::corpus_dir() / name).string().c_str());
  if (grey) img = img.colourspace(VIPS_INTERPRETATION_B_W);
  void* buf = nullptr;
  std::size_t len = 0;
  EXPECT_EQ(vips_jpegsave_buffer(img.get_image(), &buf, &len, "interlace", TRUE, "restart_interval", restart_interval,
                                 "Q", 85, nullptr),
            0);
  std::string out(static_cast<const char*>(buf), len);
  g_free(buf);
  return out;
}

// Y of BT.601 as libjpeg's forward transform computes it, from 8-bit RGB.
double luma(const std::uint8_t* p) { return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]; }

TEST(JpegDc, grey_progressive_files_match_libjpeg_at_one_eighth_exactly) {
  ASSERT_TRUE(init_imaging().ok());
  for (int restart : {0, 1, 7}) {
    const std::string bytes = progressive("plasma_Grey_2560x1600.jpg", restart, true);
    JpegPixels dc = dc_ok(bytes);
    JpegPixels ref = libjpeg_eighth(bytes);
    EXPECT_EQ(dc.colour, JpegColour::grey);
    ASSERT_EQ(dc.width, ref.width);
    ASSERT_EQ(dc.height, ref.height);
    EXPECT_EQ(dc.data, ref.data) << "restart interval " << restart;
  }
}

TEST(JpegDc, colour_files_keep_libjpegs_luma_and_nearly_its_chroma) {
  ASSERT_TRUE(init_imaging().ok());
  const char* files[] = {"l16_Bridge_by_Sander_Klootwijk.jpg", "mate_Elephants_5640x3172.jpg",
                         "plasma_Volna_5120x2880.jpg",         "l16_Wine_by_Jakkub_Mede.jpg",
                         "plasma_ColorfulCups_2560x1600.jpg",  "mate_FreshFlower.jpg"};
  for (const char* name : files) {
    const std::string bytes = corpus(name);
    JpegPixels dc = dc_ok(bytes);
    JpegPixels ref = libjpeg_eighth(bytes);
    ASSERT_EQ(dc.width, ref.width) << name;
    ASSERT_EQ(dc.height, ref.height) << name;
    ASSERT_EQ(dc.bands, 3u);
    ASSERT_EQ(dc.icc_profile, ref.icc_profile) << name;
    // Luma is the same block DC; only chroma resolution differs, so the luma recomputed from
    // RGB differs by rounding (and where a saturated colour clips) alone, and each channel by
    // little on average.
    double luma_sum = 0, channel_sum = 0;
    for (std::size_t i = 0; i < dc.data.size(); i += 3) {
      luma_sum += std::fabs(luma(&dc.data[i]) - luma(&ref.data[i]));
      for (std::size_t c = 0; c < 3; ++c) channel_sum += std::abs(int(dc.data[i + c]) - int(ref.data[i + c]));
    }
    EXPECT_LT(luma_sum / double(dc.data.size() / 3), 0.6) << name;
    // With 4:4:4 and 2x1 chroma libjpeg's 1/8 output also takes each chroma block's DC alone:
    // the images are the same. Only 2x2 (FreshFlower) differs, where libjpeg interpolates.
    if (std::string(name) != "mate_FreshFlower.jpg") {
      EXPECT_EQ(dc.data, ref.data) << name;
    }
    EXPECT_LT(channel_sum / double(dc.data.size()), 2.0) << name;
    std::printf("  %-40s mean |luma| %.3f, mean |channel| %.3f\n", name, luma_sum / double(dc.data.size() / 3),
                channel_sum / double(dc.data.size()));
  }
}

TEST(JpegDc, only_the_dc_scans_are_decoded) {
  const std::string bytes = corpus("mate_Elephants_5640x3172.jpg");
  JpegPixels dc = dc_ok(bytes);
  // The DC refinement is the seventh of ten scans; the six before it hold 67% of the bytes, of
  // which the decoder reads the first 3% and skips the AC scans.
  EXPECT_EQ(dc.scans_read, 7);
  EXPECT_GT(dc.bytes_decoded, bytes.size() / 2);
  EXPECT_LT(dc.bytes_decoded, bytes.size() * 3 / 4);
}

TEST(JpegDc, sequential_and_four_component_files_are_left_to_libjpeg) {
  EXPECT_TRUE(dc_declines(corpus("mate_Storm.jpg")));            // baseline
  EXPECT_TRUE(dc_declines(corpus("syn_cmyk_mate_Storm.jpg")));   // CMYK
  EXPECT_TRUE(dc_declines(corpus("plasma_Grey_2560x1600.jpg")));  // baseline grey
  EXPECT_TRUE(dc_declines("not a jpeg at all"));
  EXPECT_TRUE(dc_declines(""));
}

TEST(JpegDc, a_file_cut_or_damaged_where_the_dc_is_read_is_left_to_libjpeg_which_refuses_it) {
  ASSERT_TRUE(init_imaging().ok());
  const std::string full = corpus("l16_Bridge_by_Sander_Klootwijk.jpg");
  JpegPixels dc = dc_ok(full);
  // Cut inside the first (DC) scan, and inside the AC scans before the DC refinement.
  for (std::size_t keep : {std::size_t{2000}, std::size_t{60'000}, dc.bytes_decoded / 2, dc.bytes_decoded - 10}) {
    EXPECT_TRUE(dc_declines(full.substr(0, keep))) << "cut at " << keep;
    auto rendered = render(full.substr(0, keep), RenditionSpec{});
    ASSERT_FALSE(rendered.ok()) << "cut at " << keep;
    EXPECT_EQ(rendered.error().kind, ErrorKind::corrupt);
    EXPECT_NE(rendered.error().message.find("jpeg data"), std::string::npos) << rendered.error().message;
  }
  // A restart marker that is not the expected one.
  const std::string rst = progressive("plasma_Grey_2560x1600.jpg", 4, true);
  const std::size_t at = rst.find("\xFF\xD3");
  ASSERT_NE(at, std::string::npos);
  std::string wrong = rst;
  wrong[at + 1] = static_cast<char>(0xD5);
  EXPECT_TRUE(dc_declines(wrong));
  // A marker the decoder does not know, before the frame.
  std::string odd = full;
  odd.insert(2, std::string("\xFF\xF7\x00\x04xx", 6));
  EXPECT_TRUE(dc_declines(odd));
}

TEST(JpegDc, a_file_cut_in_the_unread_tail_fails_as_truncated) {
  const std::string full = corpus("mate_Elephants_5640x3172.jpg");
  JpegPixels dc = dc_ok(full);
  for (std::size_t keep : {dc.bytes_decoded + 100, full.size() - 1}) {
    auto r = decode_jpeg_dc(full.substr(0, keep));
    ASSERT_FALSE(r.ok()) << "cut at " << keep;
    EXPECT_EQ(r.error().kind, ErrorKind::corrupt);
    EXPECT_NE(r.error().message.find("truncated jpeg data"), std::string::npos) << r.error().message;
  }
}

TEST(JpegDc, render_uses_it_for_large_progressive_files_and_libjpeg_for_smaller_shrinks) {
  ASSERT_TRUE(init_imaging().ok());
  // FreshFlower (1600x1203) is shrunk by 4 while decoding for 128x128, so libjpeg decodes it;
  // Bridge (4352x2448) by 8, from its DC. Both render, and the same as their full decodes
  // (quality_test.cpp checks every corpus file's SSIM).
  for (const char* name : {"mate_FreshFlower.jpg", "l16_Bridge_by_Sander_Klootwijk.jpg"}) {
    auto r = render(corpus(name), RenditionSpec{});
    ASSERT_TRUE(r.ok()) << name << ": " << r.error().describe();
    EXPECT_EQ(r->renditions.front().width, 128u);
  }
}

}  // namespace
}  // namespace thumbflow::imaging
