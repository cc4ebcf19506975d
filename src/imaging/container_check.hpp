// Whether a file holds all of the image its container declares, checked from the structure
// alone (chunk, block and IFD walks; no pixel is decoded) before the decoder runs.
//
// Policy: a thumbnail is never made from part of a file. Decoders are lenient where the data
// they need happens to be there: libpng stops at the last IDAT and never reads IEND, libnsgif
// shows the frames before a cut and needs no trailer. A file cut there is still a cut file, and
// the uploader should learn so, as a JPEG without EOI is refused (jpeg_decode.cpp). So:
// - PNG: the chunks, each within the file, must reach IEND;
// - GIF: the blocks, each within the file, must reach the trailer;
// - WebP: the file must be as long as its RIFF header declares;
// - TIFF: the first IFD, and every strip or tile it points to, must lie within the file.
// JPEG (the decoder and check_jpeg_tail) and HEIF/AVIF (libheif checks its boxes) are not
// checked here. Data after the end (a polyglot's payload) is allowed: it is never read.
#pragma once

#include <string_view>

#include "core/error.hpp"
#include "core/image_info.hpp"

namespace thumbflow::imaging {

// corrupt ("truncated <format> data: ...") when the file ends before the image does.
Status check_complete(SourceFormat format, std::string_view bytes);

}  // namespace thumbflow::imaging
