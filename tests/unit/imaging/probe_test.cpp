#include <gtest/gtest.h>

#include <chrono>

#include <vips/vips.h>
#include <vips/vector.h>  // after vips.h: it needs glib and VIPS_API

#include "imaging/image_ops.hpp"
#include "imaging/policy.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {
namespace {
Result<ImageInfo> probe_corpus(const std::string& name) {
  static std::map<std::string, std::string> cache;
  auto& bytes = cache[name];
  if (bytes.empty()) bytes = test::read_bytes(test::corpus_dir() / name);
  return probe(bytes);
}
}  // namespace

TEST(Probe, dimensions_match_the_manifest_for_every_readable_corpus_file) {
  int checked = 0;
  for (const auto& [file, row] : test::manifest()) {
    if (row.width == 0) continue;  // the truncated sample
    auto info = probe_corpus(file);
    ASSERT_TRUE(info.ok()) << file << ": " << info.error().describe();
    EXPECT_EQ(info->width, row.width) << file;
    EXPECT_EQ(info->height, row.height) << file;
    ++checked;
  }
  EXPECT_GE(checked, 45);
}

TEST(Probe, reads_exif_camera_and_capture_time) {
  auto info = probe_corpus("mate_Blinds.jpg");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->format, SourceFormat::jpeg);
  EXPECT_EQ(info->camera_make, "Canon");
  EXPECT_EQ(info->camera_model, "Canon EOS 350D DIGITAL");
  EXPECT_EQ(info->capture_time, "2008-01-22T03:28:22");
  EXPECT_FALSE(info->progressive);
  EXPECT_FALSE(info->has_alpha);
  EXPECT_EQ(info->bits_per_sample, 8);
  EXPECT_EQ(info->colour_space, "srgb");
}

TEST(Probe, reports_progressive_orientation_frames_alpha_depth_and_colour_space) {
  EXPECT_TRUE(probe_corpus("l16_Bridge_by_Sander_Klootwijk.jpg")->progressive);
  EXPECT_EQ(probe_corpus("syn_exif6_plasma_EveningGlow.jpg")->orientation, 6);
  EXPECT_EQ(probe_corpus("syn_exif6_plasma_EveningGlow.jpg")->upright_width(), 1600u);
  EXPECT_EQ(probe_corpus("syn_exif3_l16_seeding.jpg")->orientation, 3);
  EXPECT_EQ(probe_corpus("skimage_no_time_for_that_tiny.gif")->frames, 24u);
  EXPECT_TRUE(probe_corpus("plasma_Kay_5120x2880.png")->has_alpha);
  EXPECT_EQ(probe_corpus("syn_16bit_skimage_astronaut.png")->bits_per_sample, 16);
  EXPECT_EQ(probe_corpus("skimage_chessboard_GRAY_U16.tif")->bits_per_sample, 16);
  EXPECT_EQ(probe_corpus("syn_cmyk_mate_Storm.jpg")->colour_space, "cmyk");
  EXPECT_EQ(probe_corpus("skimage_camera.png")->colour_space, "b-w");
  EXPECT_TRUE(probe_corpus("plasma_ColorfulCups_2560x1600.jpg")->has_icc_profile);
  EXPECT_FALSE(probe_corpus("mate_Storm.jpg")->has_icc_profile);
  EXPECT_EQ(probe_corpus("syn_photo_mate_Blinds.avif")->format, SourceFormat::avif);
  EXPECT_EQ(probe_corpus("gnome_wood-l.webp")->format, SourceFormat::webp);
  EXPECT_EQ(probe_corpus("syn_lzw_mate_TwoWings.tif")->format, SourceFormat::tiff);
}

TEST(Probe, reads_the_header_only_even_for_the_largest_file) {
  // 16 MB progressive JPEG, 5640x3172: a full decode takes hundreds of milliseconds and ~50 MB.
  std::string bytes = test::read_bytes(test::corpus_dir() / "mate_Elephants_5640x3172.jpg");
  long rss_before = test::peak_rss_kib();
  auto info = probe(bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 5640u);
  EXPECT_LT(test::peak_rss_kib() - rss_before, 20 * 1024) << "probe grew peak RSS by > 20 MiB";
}

TEST(Probe, refuses_non_images_with_unsupported_format) {
  for (std::string bad : {std::string("just some text, named photo.jpg"), std::string("%PDF-1.4\n1 0 obj\n"),
                          std::string("<svg xmlns='http://www.w3.org/2000/svg'></svg>")}) {
    auto r = probe(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::unsupported_format) << bad;
  }
  auto empty = probe("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind, ErrorKind::unsupported_format);
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
}

TEST(Probe, svg_is_refused_by_policy_with_a_clear_reason) {
  auto r = probe("<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::unsupported_format);
  EXPECT_NE(r.error().message.find("svg"), std::string::npos);
  EXPECT_NE(r.error().message.find("policy"), std::string::npos);
}

TEST(Policy, libvips_runs_without_orc_code_generation) {
  // liborc 0.4.33 crashed a worker in the soak test; the policy turns it off at start.
  ASSERT_TRUE(init_imaging().ok());
  EXPECT_FALSE(vips_vector_isenabled());
}

}  // namespace thumbflow::imaging
