// imaging::render through the production policy (allowlisted loaders, libvips single-threaded)
// with small limits, so a legitimately huge declaration is refused, not decoded. The first byte
// picks the rendition (format, box, upscale), the rest is the image.
// Checks: a render that succeeds had a successful probe; it returns one rendition that fits the
// box (upscaled or not), is not empty, and probes back as the format and size it claims.
#include <cstdlib>

#include "core/limits.hpp"
#include "fuzz_check.hpp"
#include "imaging/image_ops.hpp"
#include "imaging/policy.hpp"

using namespace thumbflow;

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  imaging::ImagingPolicy policy;
  policy.vips_threads = 1;
  if (!imaging::init_imaging(policy)) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t choice = in.byte();
  const std::string_view bytes = in.rest();

  RenditionSpec spec;
  constexpr OutputFormat kFormats[] = {OutputFormat::jpeg, OutputFormat::webp, OutputFormat::png};
  spec.format = kFormats[(choice & 3) % 3];
  constexpr std::uint32_t kBoxes[] = {1, 16, 64, 128};
  spec.width = kBoxes[(choice >> 2) & 3];
  spec.height = kBoxes[(choice >> 4) & 3];
  spec.upscale = (choice & 0x40) != 0;
  spec.quality = (choice & 0x80) != 0 ? 30 : 80;

  Limits limits;
  limits.max_pixels = 4'000'000;
  limits.max_source_bytes = 1024 * 1024;
  limits.max_dimension = 4096;
  limits.max_frames = 16;
  limits.max_jpeg_scans = 100;

  auto result = imaging::render(bytes, spec, limits);
  if (!result) {
    FUZZ_CHECK(!result.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(imaging::probe(bytes).ok());
  FUZZ_CHECK(result->renditions.size() == 1);
  const Rendition& r = result->renditions.front();
  FUZZ_CHECK(r.format == spec.format);
  FUZZ_CHECK(r.width > 0 && r.height > 0 && !r.bytes.empty());
  FUZZ_CHECK(r.width <= spec.width && r.height <= spec.height);  // upscaling also stops at the box

  auto back = imaging::probe(r.bytes);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->width == r.width && back->height == r.height && back->frames == 1);
  return 0;
}
