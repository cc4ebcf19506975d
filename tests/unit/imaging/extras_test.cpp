#include <gtest/gtest.h>

#include <vector>

#include "imaging/extras.hpp"

namespace thumbflow::imaging {

namespace {
std::vector<std::uint8_t> solid(std::uint32_t w, std::uint32_t h, std::vector<std::uint8_t> px) {
  std::vector<std::uint8_t> out;
  for (std::uint32_t i = 0; i < w * h; ++i) out.insert(out.end(), px.begin(), px.end());
  return out;
}
}  // namespace

TEST(DominantColour, solid_image_gives_its_colour) {
  auto px = solid(10, 10, {200, 30, 90});
  EXPECT_EQ(dominant_colour({px.data(), 10, 10, 3}), (Rgb{200, 30, 90}));
}

TEST(DominantColour, picks_the_most_common_colour_not_the_mean) {
  // 70% grey, 30% red: the mean would be a muddy brown-grey.
  std::vector<std::uint8_t> px;
  for (int i = 0; i < 70; ++i) px.insert(px.end(), {128, 128, 128});
  for (int i = 0; i < 30; ++i) px.insert(px.end(), {250, 0, 0});
  EXPECT_EQ(dominant_colour({px.data(), 10, 10, 3}), (Rgb{128, 128, 128}));
}

TEST(DominantColour, composites_alpha_on_background) {
  auto px = solid(4, 4, {0, 0, 0, 0});  // fully transparent black
  EXPECT_EQ(dominant_colour({px.data(), 4, 4, 4}, Rgb{10, 20, 30}), (Rgb{10, 20, 30}));
  auto grey = solid(4, 4, {100, 255});  // opaque grey, grey+alpha
  EXPECT_EQ(dominant_colour({grey.data(), 4, 4, 2}), (Rgb{100, 100, 100}));
}

TEST(BlurHash, dc_component_is_the_average_colour) {
  auto px = solid(32, 24, {255, 0, 0});
  std::string h = encode_blurhash({px.data(), 32, 24, 3});
  ASSERT_EQ(h.size(), 4u + 2 * 11 + 2);
  EXPECT_EQ(h[0], 'L');  // size flag for 4x3 components: 3 + 2*9 = 21
  // Characters 2..5 hold the DC colour: 0xff0000 in base83.
  long v = 0;
  const std::string alphabet =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
  for (int i = 2; i < 6; ++i) v = v * 83 + static_cast<long>(alphabet.find(h[static_cast<std::size_t>(i)]));
  EXPECT_EQ(v, 0xff0000);
}

TEST(BlurHash, matches_a_hand_computed_reference_for_a_small_gradient) {
  // 8x6 gradient (R = 30x, G = 40y, B = 100). The components were computed independently
  // (JavaScript, straight from the BlurHash definition); the largest AC magnitude is 0.2379,
  // quantised to floor(0.2379 * 166 - 0.5) = 38 = 'c'.
  std::vector<std::uint8_t> px;
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 8; ++x)
      px.insert(px.end(), {static_cast<std::uint8_t>(x * 30), static_cast<std::uint8_t>(y * 40), 100});
  EXPECT_EQ(encode_blurhash({px.data(), 8, 6, 3}), "LcE.,-3Aa|%1zNNKfQnSeqf7fQf7");
}

TEST(BlurHash, portrait_images_use_three_by_four) {
  auto px = solid(24, 32, {0, 0, 255});
  std::string h = encode_blurhash({px.data(), 24, 32, 3});
  EXPECT_EQ(h[0], 'T');  // size flag (3-1) + (4-1)*9 = 29, the 30th base83 digit
}

TEST(BlurHash, gradient_has_nonzero_ac_components) {
  std::vector<std::uint8_t> px;
  for (std::uint32_t y = 0; y < 16; ++y)
    for (std::uint32_t x = 0; x < 32; ++x)
      px.insert(px.end(), {static_cast<std::uint8_t>(x * 8), 0, 0});
  std::string h = encode_blurhash({px.data(), 32, 16, 3});
  EXPECT_NE(h[1], '0');
  EXPECT_NE(h.substr(6, 2), "fQ");
}

}  // namespace thumbflow::imaging
