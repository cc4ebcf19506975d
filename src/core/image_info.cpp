#include "core/image_info.hpp"

namespace thumbflow {

std::string_view to_string(SourceFormat format) {
  switch (format) {
    case SourceFormat::unknown: return "unknown";
    case SourceFormat::jpeg: return "jpeg";
    case SourceFormat::png: return "png";
    case SourceFormat::webp: return "webp";
    case SourceFormat::gif: return "gif";
    case SourceFormat::tiff: return "tiff";
    case SourceFormat::heif: return "heif";
    case SourceFormat::avif: return "avif";
    case SourceFormat::svg: return "svg";
    case SourceFormat::pdf: return "pdf";
  }
  return "unknown";
}

}  // namespace thumbflow
