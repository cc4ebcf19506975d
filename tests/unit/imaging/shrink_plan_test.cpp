#include <gtest/gtest.h>

#include "imaging/shrink_plan.hpp"

namespace thumbflow::imaging {

namespace {
ImageInfo info(std::uint32_t w, std::uint32_t h, int orientation = 1) {
  ImageInfo i;
  i.width = w;
  i.height = h;
  i.orientation = orientation;
  return i;
}
}  // namespace

TEST(PlanShrink, fits_landscape_and_portrait_inside_box_keeping_aspect) {
  auto p = plan_shrink(info(4000, 3000), RenditionSpec{});
  EXPECT_EQ(p.out_width, 128u);
  EXPECT_EQ(p.out_height, 96u);
  p = plan_shrink(info(2560, 3837), RenditionSpec{});
  EXPECT_EQ(p.out_width, 85u);
  EXPECT_EQ(p.out_height, 128u);
}

TEST(PlanShrink, sideways_orientation_fits_the_upright_image) {
  RenditionSpec spec;
  spec.width = 200;
  spec.height = 100;
  // Stored 2560x1600, shown 1600x2560: must fit 200x100 upright, so 62x100 upright = 100x62 stored.
  auto p = plan_shrink(info(2560, 1600, 6), spec);
  EXPECT_EQ(p.out_width, 100u);
  EXPECT_EQ(p.out_height, 63u);
}

TEST(PlanShrink, never_upscales_unless_asked) {
  auto p = plan_shrink(info(14, 25), RenditionSpec{});
  EXPECT_EQ(p.out_width, 14u);
  EXPECT_EQ(p.out_height, 25u);
  RenditionSpec up;
  up.upscale = true;
  p = plan_shrink(info(14, 25), up);
  EXPECT_EQ(p.out_width, 72u);
  EXPECT_EQ(p.out_height, 128u);
}

TEST(PlanShrink, jpeg_shrink_leaves_at_least_factor_two_for_the_final_reduce) {
  EXPECT_EQ(plan_shrink(info(256, 256), {}).jpeg_shrink, 1);
  EXPECT_EQ(plan_shrink(info(511, 511), {}).jpeg_shrink, 1);
  EXPECT_EQ(plan_shrink(info(512, 512), {}).jpeg_shrink, 2);
  EXPECT_EQ(plan_shrink(info(1024, 1024), {}).jpeg_shrink, 4);
  EXPECT_EQ(plan_shrink(info(2048, 2048), {}).jpeg_shrink, 8);
  EXPECT_EQ(plan_shrink(info(20000, 20000), {}).jpeg_shrink, 8);
}

TEST(PlanShrink, extreme_aspect_never_gives_zero_pixels) {
  auto p = plan_shrink(info(30000, 1), {});
  EXPECT_EQ(p.out_width, 128u);
  EXPECT_EQ(p.out_height, 1u);
}

}  // namespace thumbflow::imaging
