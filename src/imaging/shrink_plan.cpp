#include "imaging/shrink_plan.hpp"

#include <algorithm>
#include <cmath>

namespace thumbflow::imaging {

ShrinkPlan plan_shrink(const ImageInfo& info, const RenditionSpec& spec) {
  ShrinkPlan plan;
  const double w = std::max<std::uint32_t>(info.width, 1);
  const double h = std::max<std::uint32_t>(info.height, 1);
  // The box is given upright; orientations 5..8 store the image on its side.
  const bool sideways = info.orientation >= 5;
  const double box_w = sideways ? spec.height : spec.width;
  const double box_h = sideways ? spec.width : spec.height;
  double scale = std::min(box_w / w, box_h / h);
  if (!spec.upscale) scale = std::min(scale, 1.0);
  auto fit = [](double v) { return static_cast<std::uint32_t>(std::max(1.0, std::round(v))); };
  plan.out_width = fit(w * scale);
  plan.out_height = fit(h * scale);

  const double shrink = 1.0 / scale;
  if (shrink >= 16) {
    plan.jpeg_shrink = 8;
  } else if (shrink >= 8) {
    plan.jpeg_shrink = 4;
  } else if (shrink >= 4) {
    plan.jpeg_shrink = 2;
  }
  plan.webp_scale = std::min(1.0, 2.0 * scale);
  return plan;
}

}  // namespace thumbflow::imaging
