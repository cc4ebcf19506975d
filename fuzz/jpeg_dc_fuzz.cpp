// imaging::decode_jpeg_dc, the DC-only decoder of progressive JPEGs, on raw bytes.
// Checks: it either declines (libjpeg then decides), fails only as corrupt (the tail check) or
// internal (memory), or returns ceil(w/8) x ceil(h/8) pixels of 1 or 3 bands whose buffer holds
// exactly that; and for grey files, whenever libjpeg's own 1/8 decode also succeeds, the two
// images are the same (the decoder's exactness claim, jpeg_dc.hpp).
#include "fuzz_check.hpp"
#include "imaging/jpeg_dc.hpp"
#include "imaging/jpeg_decode.hpp"

using namespace thumbflow;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Small frames only: a hostile header may declare 65535x65535, which render() refuses by its
  // limits before this decoder runs.
  if (size > 256 * 1024) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto info = imaging::probe_jpeg(bytes);
  if (!info || std::uint64_t{info->width} * info->height > 4'000'000) return 0;
  auto r = imaging::decode_jpeg_dc(bytes);
  if (!r) {
    FUZZ_CHECK(r.error().kind == ErrorKind::corrupt || r.error().kind == ErrorKind::internal);
    FUZZ_CHECK(!r.error().message.empty());
    return 0;
  }
  if (!r->has_value()) return 0;
  const imaging::JpegPixels& px = **r;
  FUZZ_CHECK(px.bands == 1 || px.bands == 3);
  FUZZ_CHECK(px.width == (info->width + 7) / 8 && px.height == (info->height + 7) / 8);
  FUZZ_CHECK(px.data.size() == std::size_t{px.width} * px.height * px.bands);
  if (px.bands == 1) {
    auto ref = imaging::decode_jpeg(bytes, 8);
    if (ref && ref->has_value()) FUZZ_CHECK((*ref)->data == px.data);
  }
  return 0;
}
