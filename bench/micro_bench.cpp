// Micro benchmarks of the imaging core's steps, for before/after comparisons of one change:
// a header probe, a whole render of a thumbnail-sized image of each format (the fixed cost), of one small and
// one medium corpus JPEG and a small PNG, the PNG fast path's decode and shrink, and the pixel
// arithmetic (BlurHash, dominant colour) over a thumbnail-sized buffer.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <vips/vips.h>

#include "core/rendition.hpp"
#include "imaging/extras.hpp"
#include "imaging/image_ops.hpp"
#include "imaging/png_decode.hpp"
#include "imaging/policy.hpp"
#include "imaging/resample.hpp"
#include "imaging/shrink_plan.hpp"

namespace {

// Small (S, 0.27 MP) and medium (M, 4.1 MP) photos from the corpus.
constexpr const char* kSmall = "skimage_rocket.jpg";
constexpr const char* kMedium = "plasma_EveningGlow_2560x1600.jpg";

std::string read_corpus(const char* name) {
  std::ifstream in(std::string(THUMBFLOW_CORPUS_DIR) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void bm_probe(benchmark::State& state, const char* name) {
  std::string bytes = read_corpus(name);
  if (bytes.empty()) return state.SkipWithError("corpus image missing");
  for (auto _ : state) {
    auto info = thumbflow::imaging::probe(bytes);
    if (!info) return state.SkipWithError(info.error().describe().c_str());
    benchmark::DoNotOptimize(info->width);
  }
}

void bm_render(benchmark::State& state, const char* name) {
  std::string bytes = read_corpus(name);
  if (bytes.empty()) return state.SkipWithError("corpus image missing");
  const thumbflow::RenditionSpec spec{};
  for (auto _ : state) {
    auto r = thumbflow::imaging::render(bytes, spec);
    if (!r) return state.SkipWithError(r.error().describe().c_str());
    benchmark::DoNotOptimize(r->renditions.front().bytes.data());
  }
}

// The fixed cost of one image: a JPEG already at thumbnail size (128x96, made here), so the
// pixel work is a 12k-pixel decode, no resize, the extras and a 12k-pixel encode; everything
// else is per-image overhead.
std::string thumbnail_sized_jpeg() {
  const thumbflow::RenditionSpec spec{};
  auto r = thumbflow::imaging::render(read_corpus(kSmall), spec);  // 85x128 from the 427x640 rocket
  return r ? r->renditions.front().bytes : std::string{};
}

void bm_render_fixed_cost(benchmark::State& state) {
  const std::string bytes = thumbnail_sized_jpeg();
  if (bytes.empty()) return state.SkipWithError("could not make the thumbnail-sized JPEG");
  const thumbflow::RenditionSpec spec{};
  for (auto _ : state) {
    auto r = thumbflow::imaging::render(bytes, spec);
    if (!r) return state.SkipWithError(r.error().describe().c_str());
    benchmark::DoNotOptimize(r->renditions.front().bytes.data());
  }
}

// The fixed cost per source format: the same thumbnail-sized image (the 85x128 JPEG above,
// decoded) saved by libvips as PNG, WebP, GIF, TIFF or AVIF, then rendered. The suffix is
// libvips' save format (".png", ".avif[compression=av1]", ...).
std::string thumbnail_sized(const char* suffix) {
  const std::string jpeg = thumbnail_sized_jpeg();
  if (jpeg.empty()) return {};
  VipsImage* in = vips_image_new_from_buffer(jpeg.data(), jpeg.size(), "", nullptr);
  if (in == nullptr) return {};
  void* buf = nullptr;
  std::size_t len = 0;
  const int rc = vips_image_write_to_buffer(in, suffix, &buf, &len, nullptr);
  g_object_unref(in);
  if (rc != 0) {
    vips_error_clear();
    return {};
  }
  std::string out(static_cast<const char*>(buf), len);
  g_free(buf);
  return out;
}

void bm_render_fixed_cost_of(benchmark::State& state, const char* suffix) {
  const std::string bytes = thumbnail_sized(suffix);
  if (bytes.empty()) return state.SkipWithError("could not make the thumbnail-sized image");
  const thumbflow::RenditionSpec spec{};
  for (auto _ : state) {
    auto r = thumbflow::imaging::render(bytes, spec);
    if (!r) return state.SkipWithError(r.error().describe().c_str());
    benchmark::DoNotOptimize(r->renditions.front().bytes.data());
  }
}

// The PNG fast path's pixel work for a default (128x128) thumbnail: libspng's row decode with
// the box shrink while decoding, then the Lanczos3 finish; no libvips. Counters: the box factors.
void bm_png_decode_shrunk(benchmark::State& state, const char* name) {
  const std::string bytes = read_corpus(name);
  if (bytes.empty()) return state.SkipWithError("corpus image missing");
  auto info = thumbflow::imaging::probe(bytes);
  if (!info) return state.SkipWithError(info.error().describe().c_str());
  const auto plan = thumbflow::imaging::plan_shrink(*info, thumbflow::RenditionSpec{});
  const std::uint32_t kx = thumbflow::imaging::box_factor(info->width, plan.out_width);
  const std::uint32_t ky = thumbflow::imaging::box_factor(info->height, plan.out_height);
  for (auto _ : state) {
    auto r = thumbflow::imaging::decode_png_shrunk(bytes, kx, ky, thumbflow::Rgb{});
    if (!r) return state.SkipWithError(r.error().describe().c_str());
    if (!r->has_value()) return state.SkipWithError("left to libvips");
    const auto& px = **r;
    auto out = thumbflow::imaging::resample_lanczos3(px.image, px.src_width, px.src_height, plan.out_width,
                                                     plan.out_height);
    benchmark::DoNotOptimize(out.data.data());
  }
  state.counters["kx"] = kx;
  state.counters["ky"] = ky;
}

// A 128x96 RGB gradient: the size of a landscape thumbnail, where the extras run.
std::vector<std::uint8_t> gradient(std::uint32_t w, std::uint32_t h) {
  std::vector<std::uint8_t> px(std::size_t{w} * h * 3);
  for (std::uint32_t y = 0; y < h; ++y)
    for (std::uint32_t x = 0; x < w; ++x) {
      std::size_t i = (std::size_t{y} * w + x) * 3;
      px[i] = static_cast<std::uint8_t>(x * 255 / w);
      px[i + 1] = static_cast<std::uint8_t>(y * 255 / h);
      px[i + 2] = static_cast<std::uint8_t>((x + y) % 256);
    }
  return px;
}

void bm_blurhash(benchmark::State& state) {
  auto px = gradient(128, 96);
  thumbflow::imaging::PixelView view{px.data(), 128, 96, 3};
  for (auto _ : state) benchmark::DoNotOptimize(thumbflow::imaging::encode_blurhash(view));
}

void bm_dominant_colour(benchmark::State& state) {
  auto px = gradient(128, 96);
  thumbflow::imaging::PixelView view{px.data(), 128, 96, 3};
  for (auto _ : state) benchmark::DoNotOptimize(thumbflow::imaging::dominant_colour(view));
}

}  // namespace

BENCHMARK_CAPTURE(bm_probe, small_jpeg, kSmall)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_probe, medium_jpeg, kMedium)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_render_fixed_cost)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_render_fixed_cost_of, png, ".png")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_render_fixed_cost_of, webp, ".webp")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_render_fixed_cost_of, gif, ".gif")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_render_fixed_cost_of, tiff, ".tif")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_render_fixed_cost_of, avif, ".avif[compression=av1]")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_render, small_jpeg, kSmall)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_render, small_png, "skimage_chelsea.png")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_render, medium_jpeg, kMedium)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_png_decode_shrunk, small_rgb, "skimage_astronaut.png")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_png_decode_shrunk, small_grey, "skimage_coins.png")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_png_decode_shrunk, palette, "debian_spacefun_background.png")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_png_decode_shrunk, large_rgba, "plasma_Kay_5120x2880.png")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_png_decode_shrunk, large_rgb, "plasma_Altai_5120x2880.png")->Unit(benchmark::kMillisecond);
BENCHMARK(bm_blurhash)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_dominant_colour)->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  if (auto st = thumbflow::imaging::init_imaging(); !st) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
