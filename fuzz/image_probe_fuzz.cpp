// imaging::probe and check_limits on arbitrary bytes: header facts only, no pixel decode.
// Checks: probe never reports an unknown format or a zero-sized image as success; a probe that
// succeeds is deterministic; check_limits agrees with the declared size against the limits.
#include <cstdlib>

#include "core/limits.hpp"
#include "fuzz_check.hpp"
#include "imaging/image_ops.hpp"
#include "imaging/policy.hpp"

using namespace thumbflow;

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (!imaging::init_imaging(imaging::ImagingPolicy{})) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = fuzz::as_view(data, size);
  auto info = imaging::probe(bytes);
  if (!info) {
    FUZZ_CHECK(!info.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(info->format != SourceFormat::unknown);
  FUZZ_CHECK(info->width > 0 && info->height > 0 && info->frames > 0);
  FUZZ_CHECK(info->orientation >= 1 && info->orientation <= 8);

  auto again = imaging::probe(bytes);
  FUZZ_CHECK(again && again->format == info->format && again->width == info->width &&
             again->height == info->height && again->frames == info->frames);

  Limits limits;
  limits.max_pixels = 4'000'000;
  limits.max_dimension = 4096;
  limits.max_frames = 16;
  const Status st = imaging::check_limits(*info, limits);
  const std::uint64_t pixels = std::uint64_t{info->width} * info->height * info->frames;
  const bool within = pixels <= limits.max_pixels && info->width <= limits.max_dimension &&
                      info->height <= limits.max_dimension && info->frames <= limits.max_frames;
  FUZZ_CHECK(static_cast<bool>(st) == within);
  if (!st) FUZZ_CHECK(st.error().kind == ErrorKind::too_large);
  return 0;
}
