#include "imaging/policy.hpp"

#include <vips/vips8>
#include <vips/vector.h>  // after vips8: it needs glib and VIPS_API

#include <mutex>
#include <string>

namespace thumbflow::imaging {
namespace {

ImagingPolicy g_policy;
Status g_init_status = ok_status();

void route_vips_log(const gchar* /*domain*/, GLogLevelFlags /*level*/, const gchar* /*message*/,
                    gpointer /*data*/) {
  // libvips warnings (for example "corrupt JPEG data: premature end of data segment") are
  // turned into errors by fail_on where they matter; printing them would only repeat the error
  // we report with the object's name, so they are dropped here.
}

Status do_init(const ImagingPolicy& policy) {
  if (VIPS_INIT("thumbflow") != 0) {
    std::string msg = vips_error_buffer();
    vips_error_clear();
    return make_error(ErrorKind::internal, "libvips failed to start: " + msg);
  }
  g_policy = policy;
  // Every image is different, so caching operations only costs memory.
  vips_cache_set_max(0);
  vips_cache_set_max_mem(0);
  vips_concurrency_set(policy.vips_threads < 1 ? 1 : policy.vips_threads);
  // No ORC: Debian 12's liborc 0.4.33 segfaulted in a worker (the soak test, after ~9,000
  // thumbnails on two workers), and libvips compiles ORC programs per image for its resamplers,
  // a per-image cost thumbnails never win back (on 30 small images, CPU 3.9 s with ORC and 3.2 s
  // without, at the same throughput).
  vips_vector_set_enabled(FALSE);
  g_log_set_handler("VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
                    route_vips_log, nullptr);

  // Block every loader, then open the allowlist. Blocking a class blocks its subclasses
  // (file, buffer and source variants).
  vips_block_untrusted_set(TRUE);
  vips_operation_block_set("VipsForeignLoad", TRUE);
  for (const char* allowed : {"VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadWebp",
                              "VipsForeignLoadNsgif", "VipsForeignLoadTiff", "VipsForeignLoadHeif"}) {
    vips_operation_block_set(allowed, FALSE);
  }
  if (policy.allow_svg) vips_operation_block_set("VipsForeignLoadSvg", FALSE);
  if (policy.allow_pdf) vips_operation_block_set("VipsForeignLoadPdf", FALSE);
  if (policy.allow_magick) vips_operation_block_set("VipsForeignLoadMagick", FALSE);
  return ok_status();
}

}  // namespace

Status init_imaging(const ImagingPolicy& policy) {
  static std::once_flag once;
  std::call_once(once, [&] { g_init_status = do_init(policy); });
  return g_init_status;
}

bool format_allowed(SourceFormat format) {
  switch (format) {
    case SourceFormat::jpeg:
    case SourceFormat::png:
    case SourceFormat::webp:
    case SourceFormat::gif:
    case SourceFormat::tiff:
    case SourceFormat::heif:
    case SourceFormat::avif:
      return true;
    case SourceFormat::svg: return g_policy.allow_svg;
    case SourceFormat::pdf: return g_policy.allow_pdf;
    case SourceFormat::unknown: return g_policy.allow_magick;
  }
  return false;
}

}  // namespace thumbflow::imaging
