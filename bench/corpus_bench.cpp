// thumbflow in-process over a list of files: render(bytes, RenditionSpec{}) per image, the
// default 128x128 JPEG q80 rendition, exactly what a pipeline worker does per object. libvips
// runs with one thread per image (the init_imaging default), so --threads N means N images at
// once, one per core.
#include <cstdio>
#include <string>
#include <string_view>

#include "bench_harness.hpp"
#include "core/rendition.hpp"
#include "imaging/image_ops.hpp"
#include "imaging/policy.hpp"

int main(int argc, char** argv) {
  if (auto st = thumbflow::imaging::init_imaging(); !st) {
    std::fprintf(stderr, "thumbflow_corpus_bench: %s\n", st.error().describe().c_str());
    return 1;
  }
  const thumbflow::RenditionSpec spec{};
  return thumbflow::bench::run("thumbflow", argc, argv, [&spec](std::string_view bytes) -> std::string {
    auto r = thumbflow::imaging::render(bytes, spec);
    if (!r) return r.error().describe();
    if (r->renditions.empty() || r->renditions.front().bytes.empty()) return "empty output";
    return {};
  });
}
