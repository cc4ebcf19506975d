#include <gtest/gtest.h>
#include <vips/vips8>

#include <chrono>

#include "imaging/gif_scan.hpp"
#include "imaging/image_ops.hpp"
#include "imaging/jpeg_decode.hpp"
#include "hostile_corpus.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {
namespace {
using test::corpus_bytes;

ErrorKind kind_of(const Result<RenderResult>& r) { return r.ok() ? ErrorKind::internal : r.error().kind; }

using test::hostile::jpeg_declaring;
using test::hostile::png_declaring;

}  // namespace

TEST(Limits, defaults_are_documented_values) {
  Limits l;
  EXPECT_EQ(l.max_pixels, 100'000'000u);
  EXPECT_EQ(l.max_source_bytes, 256u * 1024 * 1024);
  EXPECT_EQ(l.max_dimension, 32767u);
  EXPECT_EQ(l.max_frames, 1000u);
  EXPECT_EQ(l.max_jpeg_scans, 100u);
}

TEST(Limits, max_pixels_at_the_limit_passes_and_one_below_refuses) {
  const std::string& bytes = corpus_bytes("mate_Storm.jpg");  // 1920 x 1280
  Limits at;
  at.max_pixels = 1920ull * 1280;
  EXPECT_TRUE(render(bytes, RenditionSpec{}, at).ok());
  Limits past = at;
  past.max_pixels -= 1;
  auto r = render(bytes, RenditionSpec{}, past);
  EXPECT_EQ(kind_of(r), ErrorKind::too_large);
  EXPECT_NE(r.error().message.find("max_pixels"), std::string::npos) << r.error().message;
}

TEST(Limits, max_pixels_sums_all_frames) {
  const std::string& gif = corpus_bytes("skimage_no_time_for_that_tiny.gif");  // 14 x 25 x 24 frames
  Limits at;
  at.max_pixels = 14ull * 25 * 24;
  EXPECT_TRUE(render(gif, RenditionSpec{}, at).ok());
  at.max_pixels -= 1;
  EXPECT_EQ(kind_of(render(gif, RenditionSpec{}, at)), ErrorKind::too_large);
}

TEST(Limits, max_dimension_at_the_limit_passes_and_one_below_refuses) {
  const std::string& bytes = corpus_bytes("mate_Storm.jpg");
  Limits at;
  at.max_dimension = 1920;
  EXPECT_TRUE(render(bytes, RenditionSpec{}, at).ok());
  at.max_dimension = 1919;
  auto r = render(bytes, RenditionSpec{}, at);
  EXPECT_EQ(kind_of(r), ErrorKind::too_large);
  EXPECT_NE(r.error().message.find("max_dimension"), std::string::npos);
}

TEST(Limits, max_source_bytes_at_the_limit_passes_and_one_below_refuses) {
  const std::string& bytes = corpus_bytes("mate_Storm.jpg");
  Limits at;
  at.max_source_bytes = bytes.size();
  EXPECT_TRUE(render(bytes, RenditionSpec{}, at).ok());
  at.max_source_bytes -= 1;
  auto r = render(bytes, RenditionSpec{}, at);
  EXPECT_EQ(kind_of(r), ErrorKind::too_large);
  EXPECT_NE(r.error().message.find("max_source_bytes"), std::string::npos);
}

TEST(Limits, max_frames_at_the_limit_passes_and_one_below_refuses) {
  const std::string& gif = corpus_bytes("skimage_no_time_for_that_tiny.gif");
  Limits at;
  at.max_frames = 24;
  EXPECT_TRUE(render(gif, RenditionSpec{}, at).ok());
  at.max_frames = 23;
  auto r = render(gif, RenditionSpec{}, at);
  EXPECT_EQ(kind_of(r), ErrorKind::too_large);
  EXPECT_NE(r.error().message.find("max_frames"), std::string::npos);
}

TEST(Limits, max_jpeg_scans_at_the_limit_passes_and_one_below_refuses) {
  const std::string file = test::hostile::progressive_jpeg(64, 48, 20);
  Limits at;
  at.max_jpeg_scans = 20;
  EXPECT_TRUE(render(file, RenditionSpec{}, at).ok());
  at.max_jpeg_scans = 19;
  auto r = render(file, RenditionSpec{}, at);
  EXPECT_EQ(kind_of(r), ErrorKind::too_large);
  EXPECT_NE(r.error().message.find("20 scans, over the max_jpeg_scans limit of 19"), std::string::npos)
      << r.error().message;
}

TEST(Limits, every_corpus_jpeg_is_within_the_default_scan_limit) {
  for (const auto& f : test::corpus_files()) {
    const std::string& bytes = corpus_bytes(f.filename().string());
    if (bytes.substr(0, 3) != "\xFF\xD8\xFF") continue;
    EXPECT_LE(count_jpeg_scans(bytes), Limits{}.max_jpeg_scans) << f.filename();
  }
}

TEST(Limits, the_longest_legal_scan_script_is_refused_from_its_markers) {
  // 883 scans of a 4000 x 4000 image in 64 KB: a full decode makes 883 passes over 250,000
  // blocks (3.5 s in libjpeg); the refusal is one walk over the markers.
  const std::string file = test::hostile::progressive_jpeg(4000, 4000);
  ASSERT_LT(file.size(), 100'000u);
  EXPECT_EQ(count_jpeg_scans(file), 883u);
  RenditionSpec big;
  big.width = big.height = 4000;  // shrink 1: every scan would be read
  auto start = std::chrono::steady_clock::now();
  auto r = render(file, big);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(kind_of(r), ErrorKind::too_large);
  EXPECT_NE(r.error().message.find("883 scans"), std::string::npos) << r.error().message;
  EXPECT_LT(ms, 500.0) << "refused before decoding";
}

TEST(Limits, a_gif_of_10000_frames_is_refused_with_its_own_frame_count) {
  // libnsgif stops counting at 4097; the refusal states the file's own count.
  auto r = render(test::hostile::gif_animation(10000, 100, 100), RenditionSpec{});
  EXPECT_EQ(kind_of(r), ErrorKind::too_large);
  EXPECT_NE(r.error().message.find("10000 frames, over the max_frames limit"), std::string::npos) << r.error().message;
  EXPECT_EQ(count_gif_frames(test::hostile::gif_animation(1234, 10, 10)), 1234u);
  EXPECT_EQ(count_gif_frames(test::corpus_bytes("skimage_no_time_for_that_tiny.gif")), 24u);
}

TEST(Limits, png_and_jpeg_bombs_are_refused_at_once_with_flat_memory) {
  // Bombs: a few hundred bytes declaring 30000 x 30000 (900 MP, 2.7 GB decoded).
  for (const std::string& bomb : {png_declaring(30000, 30000), jpeg_declaring(30000, 30000)}) {
    ASSERT_LT(bomb.size(), 1000u);
    auto info = probe(bomb);
    ASSERT_TRUE(info.ok()) << info.error().describe();
    ASSERT_EQ(info->width, 30000u);
    long rss_before = test::peak_rss_kib();
    auto start = std::chrono::steady_clock::now();
    auto r = render(bomb, RenditionSpec{});
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(kind_of(r), ErrorKind::too_large);
    EXPECT_NE(r.error().message.find("30000x30000"), std::string::npos) << r.error().message;
    EXPECT_LT(ms, 50.0) << "a bomb must be refused from its header alone";
    EXPECT_LT(test::peak_rss_kib() - rss_before, 8 * 1024) << "refusing a bomb must not allocate its pixels";
  }
}

TEST(Limits, a_bomb_just_under_the_limit_is_decoded_and_then_fails_as_corrupt) {
  // Under the limits the same trick is not refused up front, but the missing pixel data still
  // makes it fail (never a grey-filled thumbnail).
  auto r = render(png_declaring(2000, 2000), RenditionSpec{});
  EXPECT_EQ(kind_of(r), ErrorKind::corrupt) << (r.ok() ? "rendered" : r.error().describe());
}

}  // namespace thumbflow::imaging
