#include <gtest/gtest.h>
#include <vips/vips8>
#include <zlib.h>

#include <chrono>

#include "imaging/image_ops.hpp"
#include "test_support.hpp"

namespace thumbflow::imaging {
namespace {
using vips::VImage;

using test::corpus_bytes;

ErrorKind kind_of(const Result<RenderResult>& r) { return r.ok() ? ErrorKind::internal : r.error().kind; }

void put_be32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + static_cast<std::size_t>(i)] = static_cast<char>(v >> (24 - 8 * i));
}
void put_be16(std::string& s, std::size_t at, std::uint32_t v) {
  s[at] = static_cast<char>(v >> 8);
  s[at + 1] = static_cast<char>(v);
}

std::string small_image(const char* suffix) {
  VImage img = VImage::black(8, 8, VImage::option()->set("bands", 3));
  void* buf = nullptr;
  std::size_t len = 0;
  img.write_to_buffer(suffix, &buf, &len);
  std::string out(static_cast<const char*>(buf), len);
  g_free(buf);
  return out;
}

// A real PNG whose IHDR is rewritten to declare width x height (CRC fixed), a few hundred bytes.
std::string png_bomb(std::uint32_t w, std::uint32_t h) {
  std::string png = small_image(".png");
  // Signature (8) + IHDR length (4) + "IHDR" (4): width at 16, height at 20, CRC after 13 bytes.
  put_be32(png, 16, w);
  put_be32(png, 20, h);
  auto crc = crc32(0, reinterpret_cast<const Bytef*>(png.data() + 12), 17);
  put_be32(png, 29, static_cast<std::uint32_t>(crc));
  return png;
}

// A real JPEG whose SOF0 frame header is rewritten to declare width x height.
std::string jpeg_bomb(std::uint32_t w, std::uint32_t h) {
  std::string jpg = small_image(".jpg");
  std::size_t sof = jpg.find("\xFF\xC0");
  EXPECT_NE(sof, std::string::npos);
  put_be16(jpg, sof + 5, h);
  put_be16(jpg, sof + 7, w);
  return jpg;
}

}  // namespace

TEST(Limits, defaults_are_documented_values) {
  Limits l;
  EXPECT_EQ(l.max_pixels, 100'000'000u);
  EXPECT_EQ(l.max_source_bytes, 256u * 1024 * 1024);
  EXPECT_EQ(l.max_dimension, 32767u);
  EXPECT_EQ(l.max_frames, 1000u);
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

TEST(Limits, png_and_jpeg_bombs_are_refused_at_once_with_flat_memory) {
  // Bombs: a few hundred bytes declaring 30000 x 30000 (900 MP, 2.7 GB decoded).
  for (const std::string& bomb : {png_bomb(30000, 30000), jpeg_bomb(30000, 30000)}) {
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
  auto r = render(png_bomb(2000, 2000), RenditionSpec{});
  EXPECT_EQ(kind_of(r), ErrorKind::corrupt) << (r.ok() ? "rendered" : r.error().describe());
}

}  // namespace thumbflow::imaging
