// The floor: what it costs only to decode a JPEG at 1/8 scale with libjpeg-turbo (DCT-domain
// scaling, the same shrink-on-load libvips and sharp use for JPEG). No resize to 128 px, no
// colour management, no encode: no thumbnailer can beat this on a JPEG, so it is the bound the
// others are read against. JPEG files only.
// clang-format off
#include <cstdio>  // jpeglib.h uses FILE and size_t without including their headers
#include <jpeglib.h>
// clang-format on

#include <csetjmp>
#include <string>
#include <string_view>
#include <vector>

#include "bench_harness.hpp"

namespace {

// libjpeg's default error handler calls exit(); this one jumps back so that a truncated or
// corrupt file counts as one failed image. Warnings (corrupt data the decoder can skip over)
// are failures too, as they are for thumbflow (fail_on=error).
struct ErrorManager {
  jpeg_error_mgr pub{};
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX] = {};
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) on_error(cinfo);  // a warning: the data is corrupt
}

// Kept free of C++ objects with destructors between setjmp and longjmp (the jump skips them).
std::string decode_one_eighth(std::string_view bytes, std::vector<unsigned char>& row) {
  jpeg_decompress_struct cinfo{};
  ErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  if (setjmp(err.jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return err.message[0] != '\0' ? std::string(err.message) : std::string("libjpeg error");
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.scale_num = 1;
  cinfo.scale_denom = 8;
  jpeg_start_decompress(&cinfo);
  std::size_t stride = std::size_t{cinfo.output_width} * static_cast<std::size_t>(cinfo.output_components);
  if (row.size() < stride) row.resize(stride);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[1] = {row.data()};
    jpeg_read_scanlines(&cinfo, rows, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  return thumbflow::bench::run("jpeg_floor", argc, argv, [](std::string_view bytes) -> std::string {
    thread_local std::vector<unsigned char> row;
    return decode_one_eighth(bytes, row);
  });
}
