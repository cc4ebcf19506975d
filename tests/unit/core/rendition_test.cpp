#include <gtest/gtest.h>

#include "core/rendition.hpp"

namespace thumbflow {

TEST(RenditionSpec, defaults_to_128_square_jpeg_quality_80_no_upscale_white_background) {
  RenditionSpec s;
  EXPECT_EQ(s.width, 128u);
  EXPECT_EQ(s.height, 128u);
  EXPECT_EQ(s.format, OutputFormat::jpeg);
  EXPECT_EQ(s.quality, 80);
  EXPECT_FALSE(s.upscale);
  EXPECT_EQ(s.background, (Rgb{255, 255, 255}));
  EXPECT_TRUE(s.validate().ok());
}

TEST(RenditionSpec, validate_refuses_zero_size_and_bad_quality) {
  RenditionSpec s;
  s.width = 0;
  EXPECT_FALSE(s.validate().ok());
  s = {};
  s.quality = 0;
  EXPECT_FALSE(s.validate().ok());
  s.quality = 101;
  EXPECT_FALSE(s.validate().ok());
  s.quality = 100;
  EXPECT_TRUE(s.validate().ok());
}

TEST(ParseSize, accepts_w_x_h_and_single_number) {
  EXPECT_EQ(*parse_size("200x100"), (Size{200, 100}));
  EXPECT_EQ(*parse_size("64"), (Size{64, 64}));
  EXPECT_EQ(*parse_size("32767x1"), (Size{32767, 1}));
  for (const char* bad : {"", "x", "0x10", "10x0", "-5x5", "10x", "abc", "10x10x10", "32768x1", " 10x10"})
    EXPECT_FALSE(parse_size(bad).ok()) << bad;
}

TEST(ParseOutputFormat, knows_four_formats_and_jpg_alias) {
  EXPECT_EQ(*parse_output_format("jpeg"), OutputFormat::jpeg);
  EXPECT_EQ(*parse_output_format("jpg"), OutputFormat::jpeg);
  EXPECT_EQ(*parse_output_format("webp"), OutputFormat::webp);
  EXPECT_EQ(*parse_output_format("png"), OutputFormat::png);
  EXPECT_EQ(*parse_output_format("avif"), OutputFormat::avif);
  auto bad = parse_output_format("gif");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("gif"), std::string::npos);
  EXPECT_EQ(file_extension(OutputFormat::jpeg), "jpg");
  EXPECT_EQ(content_type(OutputFormat::avif), "image/avif");
}

TEST(ParseRgb, accepts_hex_and_triplets) {
  EXPECT_EQ(*parse_rgb("#ff8000"), (Rgb{255, 128, 0}));
  EXPECT_EQ(*parse_rgb("0a0B0c"), (Rgb{10, 11, 12}));
  EXPECT_EQ(*parse_rgb("1,2,3"), (Rgb{1, 2, 3}));
  for (const char* bad : {"", "#ff80", "#gg0000", "256,0,0", "1,2", "1,2,3,4", "#ff80000"})
    EXPECT_FALSE(parse_rgb(bad).ok()) << bad;
  EXPECT_EQ(to_hex(Rgb{255, 128, 0}), "#ff8000");
}

}  // namespace thumbflow
