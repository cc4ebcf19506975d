// Format detection from the first bytes. File names and content types are claims made by
// the uploader; the magic bytes decide which decoder may see the data.
#pragma once

#include <string_view>

#include "core/image_info.hpp"

namespace thumbflow::imaging {

SourceFormat sniff_format(std::string_view bytes);

}  // namespace thumbflow::imaging
