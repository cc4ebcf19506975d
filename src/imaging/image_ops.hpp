// The imaging core's public surface: probe a header, check limits, render renditions.
// Every input is untrusted: the order is always size check, sniff, header probe, limits,
// and only then pixel decode.
#pragma once

#include <span>
#include <string_view>

#include "core/error.hpp"
#include "core/image_info.hpp"
#include "core/limits.hpp"
#include "core/rendition.hpp"

namespace thumbflow::imaging {

// Header facts only: no pixel is decoded. Fails with unsupported_format for data that is not
// an allowed image format, corrupt for a header that cannot be read.
Result<ImageInfo> probe(std::string_view bytes);

// Checks a probed image against the limits (pixels are summed over frames). max_jpeg_scans needs
// the whole file, so render() checks it, right after these.
Status check_limits(const ImageInfo& info, const Limits& limits);

// Sniff, probe, limits, then decode once per rendition (shrink-on-load, EXIF auto-orient,
// 8-bit sRGB, alpha flattened or kept, metadata stripped) and encode.
Result<RenderResult> render(std::string_view bytes, std::span<const RenditionSpec> specs,
                            const Limits& limits = {});

inline Result<RenderResult> render(std::string_view bytes, const RenditionSpec& spec, const Limits& limits = {}) {
  return render(bytes, std::span<const RenditionSpec>(&spec, 1), limits);
}

}  // namespace thumbflow::imaging
