// The Renderer the pipeline uses in production: the imaging core (libvips behind it).
#pragma once

#include "imaging/image_ops.hpp"
#include "pipeline/pipeline.hpp"

namespace thumbflow::pipeline {

class VipsRenderer final : public Renderer {
 public:
  Result<RenderResult> render(std::string_view bytes, std::span<const RenditionSpec> specs,
                              const Limits& limits) override {
    return imaging::render(bytes, specs, limits);
  }
};

}  // namespace thumbflow::pipeline
