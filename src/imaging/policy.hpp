// How libvips is started. libvips can load dozens of formats, several through large parsers
// (ImageMagick, poppler, librsvg) that have no place behind an upload form. The policy is an
// allowlist: only the loaders below run, and the rest are blocked process-wide.
#pragma once

#include "core/error.hpp"
#include "core/image_info.hpp"

namespace thumbflow::imaging {

struct ImagingPolicy {
  // Always allowed: JPEG, PNG, WebP, GIF, TIFF, HEIF/AVIF. These three are refused unless set:
  bool allow_svg = false;      // librsvg: can reference external files, XML entity expansion
  bool allow_pdf = false;      // poppler: a document renderer, not an image decoder
  bool allow_magick = false;   // ImageMagick: hundreds of coders, MVG/MSL scripts
  // libvips worker threads per image. thumbflow runs one image per worker, so 1 gives the best
  // throughput with every core busy; raise it only when processing one image at a time.
  int vips_threads = 1;
};

// Starts libvips once per process with the given policy (later calls return the first result).
Status init_imaging(const ImagingPolicy& policy = {});

// Whether the running policy lets this format be decoded.
bool format_allowed(SourceFormat format);

}  // namespace thumbflow::imaging
