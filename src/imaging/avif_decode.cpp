#include "imaging/avif_decode.hpp"

#include <avif/avif.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace thumbflow::imaging {
namespace {

// libavif is opened at run time, not linked. Debian's libavif.so.15 names the AV1 encoders
// (rav1e, SVT-AV1, libgav1, libyuv: 11 MB) as load-time dependencies, which pushed the Lambda
// package past its 50 MB direct-upload limit for a decoder it can do without: where libavif is
// missing (the Lambda package does not bundle it), decode_avif answers "not this path" and
// libvips (libheif) decodes, as before.
struct AvifApi {
  decltype(&::avifDecoderCreate) decoder_create = nullptr;
  decltype(&::avifDecoderDestroy) decoder_destroy = nullptr;
  decltype(&::avifDecoderSetIOMemory) set_io_memory = nullptr;
  decltype(&::avifDecoderParse) parse = nullptr;
  decltype(&::avifDecoderNextImage) next_image = nullptr;
  decltype(&::avifImageYUVToRGB) yuv_to_rgb = nullptr;
  decltype(&::avifRGBImageSetDefaults) rgb_defaults = nullptr;
  decltype(&::avifResultToString) result_to_string = nullptr;
};

template <typename F>
bool resolve(void* lib, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(lib, name));
  return out != nullptr;
}

const AvifApi* avif_api() {
  static const AvifApi* api = []() -> const AvifApi* {
    void* lib = dlopen("libavif.so.15", RTLD_NOW | RTLD_LOCAL);  // the ABI of the headers built against
    if (lib == nullptr) return nullptr;
    static AvifApi a;
    if (resolve(lib, "avifDecoderCreate", a.decoder_create) && resolve(lib, "avifDecoderDestroy", a.decoder_destroy) &&
        resolve(lib, "avifDecoderSetIOMemory", a.set_io_memory) && resolve(lib, "avifDecoderParse", a.parse) &&
        resolve(lib, "avifDecoderNextImage", a.next_image) && resolve(lib, "avifImageYUVToRGB", a.yuv_to_rgb) &&
        resolve(lib, "avifRGBImageSetDefaults", a.rgb_defaults) &&
        resolve(lib, "avifResultToString", a.result_to_string))
      return &a;
    return nullptr;  // never closed: a half-resolved library is simply not used
  }();
  return api;
}

Error rejected(const std::string& why) {
  return make_error(ErrorKind::corrupt, "corrupt avif data: the decoder rejected it (" + why + ")");
}

Error truncated(const std::string& why) {
  return make_error(ErrorKind::corrupt, "truncated avif data: the file ends before the image does (" + why + ")");
}

Error out_of_memory(const std::string& where) {
  return make_error(ErrorKind::internal, "out of memory decoding avif: " + where);
}

std::uint32_t be32(std::string_view b, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) << 24 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3]));
}

// Whether the ftyp box names the avis brand (major or compatible): an image sequence.
bool has_avis_brand(std::string_view b) {
  if (b.size() < 16 || b.substr(4, 4) != "ftyp") return false;
  const std::size_t size = std::min<std::size_t>(be32(b, 0), b.size());
  if (b.substr(8, 4) == "avis") return true;
  for (std::size_t off = 16; off + 4 <= size; off += 4)
    if (b.substr(off, 4) == "avis") return true;
  return false;
}

// Whether the top-level boxes run past the end of the data: the file was cut. libavif reports
// many cuts as AVIF_RESULT_BMFF_PARSE_FAILED (a box header it cannot read), so this tells a cut
// file from a damaged one the way the container does.
bool boxes_run_past_end(std::string_view b) {
  std::size_t at = 0;
  while (at < b.size()) {
    if (b.size() - at < 8) return true;
    std::uint64_t size = be32(b, at);
    std::uint64_t header = 8;
    if (size == 1) {
      if (b.size() - at < 16) return true;
      size = std::uint64_t{be32(b, at + 8)} << 32 | be32(b, at + 12);
      header = 16;
    } else if (size == 0) {
      return false;  // the last box, to the end of the file
    }
    if (size < header) return false;  // malformed, not cut
    if (size > b.size() - at) return true;
    at += static_cast<std::size_t>(size);
  }
  return false;
}

std::string describe(avifResult result, const avifDecoder& decoder) {
  std::string why = avif_api()->result_to_string(result);
  const std::size_t n = strnlen(decoder.diag.error, sizeof decoder.diag.error);
  if (n > 0) why += ": " + std::string(decoder.diag.error, n);
  return why;
}

// An error for a failed libavif call; an empty optional (no error) for what is left to libvips.
std::optional<Error> from_result(avifResult result, const avifDecoder& decoder, std::string_view bytes) {
  switch (result) {
    case AVIF_RESULT_OUT_OF_MEMORY: return out_of_memory(describe(result, decoder));
    case AVIF_RESULT_NOT_IMPLEMENTED: return std::nullopt;
    case AVIF_RESULT_NO_CODEC_AVAILABLE:
      return make_error(ErrorKind::internal, "libavif has no AV1 decoder (" + describe(result, decoder) + ")");
    case AVIF_RESULT_TRUNCATED_DATA:
    case AVIF_RESULT_WAITING_ON_IO: return truncated(describe(result, decoder));
    default:
      if (boxes_run_past_end(bytes)) return truncated(describe(result, decoder));
      return rejected(describe(result, decoder));
  }
}

struct DecoderDeleter {
  void operator()(avifDecoder* d) const { avif_api()->decoder_destroy(d); }
};
using DecoderPtr = std::unique_ptr<avifDecoder, DecoderDeleter>;

// What decode_avif leaves to libvips, checked on the parsed container and again on the decoded
// image (the AV1 payload may disagree with the container).
bool unusual(const avifDecoder& decoder) {
  const avifImage& img = *decoder.image;
  if (decoder.imageCount != 1 || decoder.progressiveState != AVIF_PROGRESSIVE_STATE_UNAVAILABLE) return true;
  // libheif applies these (and libavif leaves them to the caller); pasp neither applies.
  if ((img.transformFlags & (AVIF_TRANSFORM_CLAP | AVIF_TRANSFORM_IROT | AVIF_TRANSFORM_IMIR)) != 0) return true;
  if (img.alphaPremultiplied) return true;
  if (img.depth != 8 && img.depth != 10 && img.depth != 12) return true;
  switch (img.yuvFormat) {
    case AVIF_PIXEL_FORMAT_YUV444:
    case AVIF_PIXEL_FORMAT_YUV422:
    case AVIF_PIXEL_FORMAT_YUV420:
    case AVIF_PIXEL_FORMAT_YUV400: return false;
    default: return true;
  }
}

// RGB(A) as libavif writes it, 8 bits (1 byte a sample) or 10/12 bits (2 bytes), flattened onto
// the background and reduced to 8 bits: out = (a*v + (255-a)*bg + 127)/255 on 8-bit values.
template <typename Sample>
void to_rgb8(const Sample* src, std::size_t pixels, bool alpha, std::uint32_t shift, Rgb bg, std::uint8_t* dst) {
  const std::uint32_t bgv[3] = {bg.r, bg.g, bg.b};
  const std::size_t in_bands = alpha ? 4 : 3;
  for (std::size_t i = 0; i < pixels; ++i, src += in_bands, dst += 3) {
    if (!alpha) {
      for (std::size_t c = 0; c < 3; ++c) dst[c] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(src[c]) >> shift);
      continue;
    }
    const std::uint32_t a = static_cast<std::uint32_t>(src[3]) >> shift;
    for (std::size_t c = 0; c < 3; ++c) {
      const std::uint32_t v = static_cast<std::uint32_t>(src[c]) >> shift;
      dst[c] = static_cast<std::uint8_t>((a * v + (255 - a) * bgv[c] + 127) / 255);
    }
  }
}

}  // namespace

Result<std::optional<AvifPixels>> decode_avif(std::string_view bytes, Rgb background) {
  if (bytes.size() < 16) return truncated(std::to_string(bytes.size()) + " bytes, less than an ftyp box");
  if (has_avis_brand(bytes)) return std::optional<AvifPixels>{};

  const AvifApi* api = avif_api();
  if (api == nullptr) return std::optional<AvifPixels>{};
  DecoderPtr decoder(api->decoder_create());
  if (!decoder) return out_of_memory("avifDecoderCreate");
  avifDecoder& d = *decoder;
  // One image per core is the project's policy: dav1d runs on the calling thread.
  d.maxThreads = 1;
  // AUTO picks dav1d in Debian's build (libavif tries dav1d, then libgav1, then aom); naming
  // AVIF_CODEC_CHOICE_DAV1D measured the same and would fail outright in a build without it.
  d.codecChoice = AVIF_CODEC_CHOICE_AUTO;
  // The probe reads metadata elsewhere; this path wants the pixels and the ICC profile only.
  d.ignoreExif = AVIF_TRUE;
  d.ignoreXMP = AVIF_TRUE;
  d.imageSizeLimit = static_cast<std::uint32_t>(kAvifMaxPixels);
  // strictFlags: the default (AVIF_STRICT_ENABLED). allowProgressive off: a layered file shows
  // up as progressiveState AVAILABLE and is left to libvips.

  // The data is not copied: `bytes` outlives the decoder.
  if (avifResult r = api->set_io_memory(&d, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      r != AVIF_RESULT_OK) {
    if (auto e = from_result(r, d, bytes)) return *e;
    return std::optional<AvifPixels>{};
  }
  if (avifResult r = api->parse(&d); r != AVIF_RESULT_OK) {
    if (auto e = from_result(r, d, bytes)) return *e;
    return std::optional<AvifPixels>{};
  }
  if (d.image == nullptr) return make_error(ErrorKind::internal, "libavif parsed no image");
  if (unusual(d)) return std::optional<AvifPixels>{};
  if (avifResult r = api->next_image(&d); r != AVIF_RESULT_OK) {
    if (auto e = from_result(r, d, bytes)) return *e;
    return std::optional<AvifPixels>{};
  }
  const avifImage& img = *d.image;
  if (unusual(d)) return std::optional<AvifPixels>{};
  if (img.width == 0 || img.height == 0 || img.yuvPlanes[AVIF_CHAN_Y] == nullptr) return rejected("no image data");
  if (std::uint64_t{img.width} * img.height > kAvifMaxPixels)
    return rejected(std::to_string(img.width) + "x" + std::to_string(img.height) + " exceeds the decoder's size limit");

  // YUV to RGB at the file's own depth (8, 10 or 12 bits), nearest-neighbour chroma upsampling
  // with libavif's built-in conversion (avoidLibYUV). libheif 1.15 upsamples 4:2:0 and 4:2:2
  // chroma by nearest neighbour too, and libavif's built-in arithmetic then gives exactly
  // heifload's pixels on the corpus file and every 8-bit full-range test file; libyuv (the
  // default) is ~9 ms faster on 1920x1200 but off by one in a quarter of the samples, and
  // BILINEAR/AUTOMATIC/BEST_QUALITY up to 22 levels off at colour edges.
  const bool alpha = img.alphaPlane != nullptr;
  avifRGBImage rgb;
  api->rgb_defaults(&rgb, &img);
  rgb.depth = img.depth;
  rgb.format = alpha ? AVIF_RGB_FORMAT_RGBA : AVIF_RGB_FORMAT_RGB;
  rgb.chromaUpsampling = AVIF_CHROMA_UPSAMPLING_NEAREST;
  rgb.avoidLibYUV = AVIF_TRUE;
  rgb.alphaPremultiplied = AVIF_FALSE;

  AvifPixels out;
  const std::size_t pixels = std::size_t{img.width} * img.height;
  const std::uint32_t channels = alpha ? 4 : 3;
  const std::uint32_t bytes_per_sample = img.depth > 8 ? 2 : 1;
  try {
    if (img.icc.size > 0 && img.icc.data != nullptr)
      out.icc_profile.assign(reinterpret_cast<const char*>(img.icc.data), img.icc.size);
    out.image.width = img.width;
    out.image.height = img.height;
    out.image.bands = 3;
    out.image.data.resize(pixels * 3);
    rgb.rowBytes = img.width * channels * bytes_per_sample;
    avifResult converted = AVIF_RESULT_OK;
    if (!alpha && bytes_per_sample == 1) {
      // Straight into the output: nothing to flatten or reduce.
      rgb.pixels = out.image.data.data();
      converted = api->yuv_to_rgb(&img, &rgb);
    } else {
      // The RGB(A) buffer is ours (libavif's avifRGBImageAllocatePixels aborts when memory runs
      // out), freed on every path by its vector; then flattened and reduced into the output.
      auto convert = [&](auto& buffer, std::uint32_t shift) {
        buffer.resize(pixels * channels);
        rgb.pixels = reinterpret_cast<std::uint8_t*>(buffer.data());
        const avifResult r = api->yuv_to_rgb(&img, &rgb);
        if (r == AVIF_RESULT_OK) to_rgb8(buffer.data(), pixels, alpha, shift, background, out.image.data.data());
        return r;
      };
      if (bytes_per_sample == 1) {
        std::vector<std::uint8_t> buffer;
        converted = convert(buffer, 0);
      } else {
        // Samples of 0..2^depth-1 in uint16_t: heifload gives them << (16 - depth) and the
        // pipeline reduces with >> 8, so v >> (depth - 8).
        std::vector<std::uint16_t> buffer;
        converted = convert(buffer, img.depth - 8);
      }
    }
    // A conversion libavif does not do (a matrix it lacks, AVIF_RESULT_REFORMAT_FAILED or
    // NOT_IMPLEMENTED) is left to libvips; the decoded planes themselves were fine.
    if (converted == AVIF_RESULT_OUT_OF_MEMORY) return out_of_memory("avifImageYUVToRGB");
    if (converted != AVIF_RESULT_OK) return std::optional<AvifPixels>{};
  } catch (const std::bad_alloc&) {
    return out_of_memory("the output image");
  }
  return std::optional<AvifPixels>(std::move(out));
}

}  // namespace thumbflow::imaging
