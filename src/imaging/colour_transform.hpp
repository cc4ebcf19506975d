// Embedded ICC profiles to sRGB through lcms2 directly, with the transforms kept across images.
//
// libvips' icc_transform builds a new lcms transform for every image (through Lab, in float):
// inverting the tone curves of the output profile alone was 30% of a small JPEG's thumbnail.
// Most uploads share a handful of profiles (a camera's, Display P3, sRGB itself), so a transform
// made once per profile is reused for every later image that embeds the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace thumbflow::imaging {

// A ready transform from one embedded profile to sRGB, 8 bits per band: from grey (1 band),
// RGB (3) or CMYK (4, plain ink: 0 is no ink) to RGB (3 bands). Safe to use from many threads.
class SrgbTransform {
 public:
  virtual ~SrgbTransform() = default;
  virtual int input_bands() const = 0;
  // Converts count pixels from in (input_bands() bytes each) to out (3 bytes each).
  virtual void apply(const std::uint8_t* in, std::uint8_t* out, std::size_t count) const = 0;
};

// The transform for pixels of `bands` bands (1, 3 or 4) carrying `profile`, made on first use
// and then shared; nullptr when this path cannot take the profile (lcms refuses it, or its
// colour space is not the pixels': grey for 1 band, RGB for 3, CMYK for 4). The caller then
// keeps to libvips' icc_transform, with its fallbacks.
std::shared_ptr<const SrgbTransform> srgb_transform(std::string_view profile, int bands);

// How many transforms were built and how many uses found one ready, since the process began
// (for tests and benchmarks).
struct SrgbTransformStats {
  std::size_t built = 0;
  std::size_t reused = 0;
};
SrgbTransformStats srgb_transform_stats();

}  // namespace thumbflow::imaging
