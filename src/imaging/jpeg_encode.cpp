#include "imaging/jpeg_encode.hpp"

// clang-format off
#include <cstdio>  // jpeglib.h uses FILE and size_t without including their headers
#include <jpeglib.h>
// clang-format on

#include <csetjmp>
#include <cstdlib>
#include <cstring>

namespace thumbflow::imaging {
namespace {

struct ErrorJump {
  jpeg_error_mgr pub{};
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX] = {};
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorJump*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// The setjmp frame: nothing with a destructor lives here. On success *out/*out_len is the
// malloc'd file (jpeg_mem_dest's buffer), which the caller frees.
bool compress(const Image8& px, int quality, ErrorJump& err, unsigned char** out, unsigned long* out_len) {
  jpeg_compress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  if (setjmp(err.jump) != 0) {
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, out, out_len);
  cinfo.image_width = px.width;
  cinfo.image_height = px.height;
  cinfo.input_components = static_cast<int>(px.bands);
  cinfo.in_color_space = px.bands == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.optimize_coding = TRUE;
  if (px.bands == 3 && quality >= 90) {
    // libvips' "auto" subsampling: full-resolution chroma at high quality.
    for (int c = 0; c < 3; ++c) cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
  }
  jpeg_start_compress(&cinfo, TRUE);
  const std::size_t stride = std::size_t{px.width} * px.bands;
  while (cinfo.next_scanline < cinfo.image_height) {
    // libjpeg takes non-const rows but only reads them.
    JSAMPROW row = const_cast<JSAMPROW>(&px.data[stride * cinfo.next_scanline]);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

}  // namespace

Result<std::string> encode_jpeg(const Image8& pixels, int quality) {
  if (pixels.bands != 1 && pixels.bands != 3)
    return make_error(ErrorKind::internal, "jpeg encoder: " + std::to_string(pixels.bands) + " bands (1 or 3 expected)");
  if (pixels.width == 0 || pixels.height == 0 ||
      pixels.data.size() != std::size_t{pixels.width} * pixels.height * pixels.bands)
    return make_error(ErrorKind::internal, "jpeg encoder: the pixel buffer does not match its size");
  ErrorJump err;
  unsigned char* buf = nullptr;
  unsigned long len = 0;
  const bool ok = compress(pixels, quality < 1 ? 1 : quality > 100 ? 100 : quality, err, &buf, &len);
  if (!ok) {
    std::free(buf);
    return make_error(ErrorKind::internal, std::string("jpeg encoder failed (libjpeg: ") + err.message + ")");
  }
  std::string file(reinterpret_cast<const char*>(buf), len);
  std::free(buf);
  return file;
}

}  // namespace thumbflow::imaging
