#include "imaging/image_ops.hpp"

#include <vips/vips8>
#include <webp/encode.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "imaging/avif_decode.hpp"
#include "imaging/colour_transform.hpp"
#include "imaging/container_check.hpp"
#include "imaging/exif_fields.hpp"
#include "imaging/extras.hpp"
#include "imaging/gif_scan.hpp"
#include "imaging/jpeg_dc.hpp"
#include "imaging/jpeg_decode.hpp"
#include "imaging/jpeg_encode.hpp"
#include "imaging/png_decode.hpp"
#include "imaging/policy.hpp"
#include "imaging/render_pixels.hpp"
#include "imaging/resample.hpp"
#include "imaging/shrink_plan.hpp"
#include "imaging/sniff.hpp"
#include "imaging/webp_decode.hpp"

namespace thumbflow::imaging {
namespace {

using vips::VImage;

// A VipsBlob that borrows the caller's bytes (no copy); the bytes outlive every use.
struct BlobRef {
  VipsBlob* blob;
  explicit BlobRef(std::string_view bytes) : blob(vips_blob_new(nullptr, bytes.data(), bytes.size())) {}
  ~BlobRef() { vips_area_unref(VIPS_AREA(blob)); }
  BlobRef(const BlobRef&) = delete;
  BlobRef& operator=(const BlobRef&) = delete;
};

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string trim_vips_message(std::string msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  for (auto& c : msg) if (c == '\n') c = ';';
  return msg;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// libvips keeps one error log for the whole process, so with several images in flight a
// VError can carry other images' lines too. Keep only the lines from this format's own loader
// (and never the "magickload is blocked" line libvips adds when it looks for a fallback loader).
std::string loader_lines(SourceFormat format, const std::string& raw) {
  std::string token = format == SourceFormat::avif ? "heif" : std::string(to_string(format));
  std::string out;
  std::size_t start = 0;
  int kept = 0;
  while (start < raw.size() && kept < 3) {
    std::size_t end = raw.find('\n', start);
    if (end == std::string::npos) end = raw.size();
    std::string line = raw.substr(start, end - start);
    start = end + 1;
    std::string l = lower(line);
    if (line.empty() || contains(l, "magick") || !contains(l, token) || contains(out, line)) continue;
    if (!out.empty()) out += "; ";
    out += line;
    ++kept;
  }
  return out;
}

// The format was already sniffed and is allowed, so a loader failure (header or pixels) means
// damaged data, except when memory ran out.
Error classify_decode_error(SourceFormat format, const std::string& raw) {
  const std::string fmt(to_string(format));
  std::string detail = loader_lines(format, raw);
  std::string l = lower(detail);
  if (contains(l, "out of memory"))
    return make_error(ErrorKind::internal, "out of memory decoding " + fmt + ": " + detail);
  bool truncated = contains(l, "truncated") || contains(l, "premature end") || contains(l, "unexpected end") ||
                   contains(l, "end of file") || contains(l, "not enough data") || contains(l, "eof") ||
                   contains(l, "libpng read error");
  std::string msg = truncated ? "truncated " + fmt + " data: the file ends before the image does"
                              : "corrupt " + fmt + " data: the decoder rejected it";
  if (!detail.empty()) msg += " (" + detail + ")";
  return make_error(ErrorKind::corrupt, msg);
}

std::optional<std::string> exif_string(const VImage& img, const char* field) {
  if (img.get_typeof(field) == 0) return std::nullopt;
  const char* raw = nullptr;
  if (vips_image_get_string(img.get_image(), field, &raw) != 0 || raw == nullptr) {
    vips_error_clear();
    return std::nullopt;
  }
  return clean_exif_text(raw);
}

int int_field(const VImage& img, const char* field, int fallback) {
  if (img.get_typeof(field) == 0) return fallback;
  int v = fallback;
  if (vips_image_get_int(img.get_image(), field, &v) != 0) {
    vips_error_clear();
    return fallback;
  }
  return v;
}

int bits_of(VipsBandFormat f) {
  switch (f) {
    case VIPS_FORMAT_UCHAR: case VIPS_FORMAT_CHAR: return 8;
    case VIPS_FORMAT_USHORT: case VIPS_FORMAT_SHORT: return 16;
    case VIPS_FORMAT_UINT: case VIPS_FORMAT_INT: case VIPS_FORMAT_FLOAT: case VIPS_FORMAT_COMPLEX: return 32;
    case VIPS_FORMAT_DOUBLE: case VIPS_FORMAT_DPCOMPLEX: return 64;
    default: return 8;
  }
}

ImageInfo read_info(const VImage& img, SourceFormat format) {
  ImageInfo info;
  info.format = format;
  info.width = static_cast<std::uint32_t>(img.width());
  info.height = static_cast<std::uint32_t>(img.height());
  // Some loaders report the height of all pages stacked; n-pages says how many there are.
  int pages = int_field(img, "n-pages", 1);
  info.frames = static_cast<std::uint32_t>(pages < 1 ? 1 : pages);
  int orientation = int_field(img, "orientation", 1);
  info.orientation = orientation >= 1 && orientation <= 8 ? orientation : 1;
  info.bands = img.bands();
  info.has_alpha = img.has_alpha();
  info.bits_per_sample = bits_of(img.format());
  // Palette images decode to 8-bit RGB(A); report the palette's own depth where known.
  if (int pbd = int_field(img, "palette-bit-depth", 0); pbd > 0) info.bits_per_sample = pbd;
  info.colour_space = vips_enum_nick(VIPS_TYPE_INTERPRETATION, img.interpretation());
  info.has_icc_profile = img.get_typeof(VIPS_META_ICC_NAME) != 0;
  info.progressive = int_field(img, "interlaced", 0) != 0;
  info.camera_make = exif_string(img, "exif-ifd0-Make");
  info.camera_model = exif_string(img, "exif-ifd0-Model");
  info.capture_time = exif_datetime_iso(exif_string(img, "exif-ifd2-DateTimeOriginal"));
  return info;
}

// The formats whose pixels are decoded by libvips with no load option but those of the probe:
// the image opened for the probe is handed to make_pixels for the first rendition, so the
// loader's set-up (a third of a small GIF's or AVIF's thumbnail) runs once.
bool reuses_probe_image(SourceFormat f) {
  return f == SourceFormat::gif || f == SourceFormat::tiff || f == SourceFormat::heif || f == SourceFormat::avif;
}

vips::VOption* load_options() {
  return VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL)->set("fail_on", VIPS_FAIL_ON_ERROR);
}

// Opens bytes with the loader of the format the sniff found, not through new_from_buffer, which
// asks every loader libvips has whether the bytes are its own (sorting them by priority first)
// on each call: a fifth of a small TIFF's thumbnail. The format is already known and allowed.
VImage open_image(std::string_view bytes, SourceFormat format, vips::VOption* options) {
  BlobRef blob(bytes);
  switch (format) {
    case SourceFormat::jpeg: return VImage::jpegload_buffer(blob.blob, options);
    case SourceFormat::png: return VImage::pngload_buffer(blob.blob, options);
    case SourceFormat::webp: return VImage::webpload_buffer(blob.blob, options);
    case SourceFormat::gif: return VImage::gifload_buffer(blob.blob, options);
    case SourceFormat::tiff: return VImage::tiffload_buffer(blob.blob, options);
    case SourceFormat::heif:
    case SourceFormat::avif: return VImage::heifload_buffer(blob.blob, options);
    default: return VImage::new_from_buffer(bytes.data(), bytes.size(), "", options);
  }
}

Result<std::pair<SourceFormat, ImageInfo>> sniff_and_probe(std::string_view bytes, bool libvips_only = false,
                                                           std::optional<VImage>* keep = nullptr) {
  if (bytes.empty()) return make_error(ErrorKind::unsupported_format, "empty file (0 bytes)");
  if (auto st = init_imaging(); !st) return st.error();
  SourceFormat format = sniff_format(bytes);
  if (format == SourceFormat::unknown)
    return make_error(ErrorKind::unsupported_format,
                      "not an image: the data does not start like JPEG, PNG, WebP, GIF, TIFF, HEIF or AVIF");
  if (!format_allowed(format))
    return make_error(ErrorKind::unsupported_format,
                      std::string(to_string(format)) + " input is refused by the imaging policy");
  // A cut file fails here, before the header is parsed, with the place where it ends; and even
  // where the decoder would not notice (see container_check.hpp).
  if (auto st = check_complete(format, bytes); !st) return st.error();
  // JPEG headers are read by libjpeg and libexif directly (the same facts, a fraction of the
  // cost of libvips' loader set-up); anything unusual is left to libvips below.
  if (format == SourceFormat::jpeg && !libvips_only) {
    if (auto info = probe_jpeg(bytes)) return std::pair{format, std::move(*info)};
  }
  try {
    // Opening is lazy: this reads the header only, and no pixel is decoded.
    const bool keeping = keep != nullptr && reuses_probe_image(format);
    VImage img = open_image(bytes, format,
                            keeping ? load_options() : VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
    ImageInfo info = read_info(img, format);
    // libnsgif stops counting at 4097 frames ("Excessive number of frames"): the block walk
    // gives the file's own count, so the max_frames refusal states the real figure.
    if (format == SourceFormat::gif) info.frames = std::max(info.frames, count_gif_frames(bytes));
    if (keeping) *keep = std::move(img);
    return std::pair{format, std::move(info)};
  } catch (const vips::VError& e) {
    return classify_decode_error(format, e.what());
  }
}

// The savers are called through libvips' C API: in 8.14 the C++ API's blob output
// (VImage::jpegsave_buffer with set("buffer", &blob)) keeps a reference that is never dropped,
// leaking every encoded thumbnail (16 KB per call, found by the soak test; the C API returns the
// buffer to the caller and leaks nothing: tests/unit/imaging/render_test.cpp checks).
// JPEG (libjpeg, jpeg_encode.hpp) and WebP (libwebp's simple API: libvips 8.14's webpsave writes
// an EXIF chunk even when told to strip) are encoded directly from the pixels.
Result<std::string> encode(const Image8& px, const RenditionSpec& spec) {
  const auto failed = [&](const std::string& why) {
    return make_error(ErrorKind::internal, "encoding " + std::string(to_string(spec.format)) + " failed: " + why);
  };
  switch (spec.format) {
    case OutputFormat::jpeg: {
      auto file = encode_jpeg(px, spec.quality);
      if (!file) return failed(file.error().message);
      return std::move(*file);
    }
    case OutputFormat::webp: {
      const int stride = int(px.width * px.bands);
      std::uint8_t* webp = nullptr;
      std::size_t n = px.bands == 4 ? WebPEncodeRGBA(px.data.data(), int(px.width), int(px.height), stride,
                                                     float(spec.quality), &webp)
                                    : WebPEncodeRGB(px.data.data(), int(px.width), int(px.height), stride,
                                                    float(spec.quality), &webp);
      if (n == 0 || webp == nullptr) {
        WebPFree(webp);
        return failed("libwebp's encoder refused the image");
      }
      std::string out(reinterpret_cast<const char*>(webp), n);
      WebPFree(webp);
      return out;
    }
    case OutputFormat::png:
    case OutputFormat::avif: {
      void* buf = nullptr;
      std::size_t len = 0;
      try {
        VImage img = VImage::new_from_memory(const_cast<std::uint8_t*>(px.data.data()), px.data.size(),
                                             int(px.width), int(px.height), int(px.bands), VIPS_FORMAT_UCHAR)
                         .copy(VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
        const int rc = spec.format == OutputFormat::png
                           ? vips_pngsave_buffer(img.get_image(), &buf, &len, "compression", 6, "strip", TRUE, nullptr)
                           : vips_heifsave_buffer(img.get_image(), &buf, &len, "Q", spec.quality, "compression",
                                                  VIPS_FOREIGN_HEIF_COMPRESSION_AV1, "effort", 2, "strip", TRUE,
                                                  nullptr);
        if (rc != 0) {
          std::string msg = vips_error_buffer();
          vips_error_clear();
          g_free(buf);
          return failed(trim_vips_message(msg));
        }
      } catch (const vips::VError& e) {
        return failed(trim_vips_message(e.what()));
      }
      std::string out(static_cast<const char*>(buf), len);
      g_free(buf);
      return out;
    }
  }
  return failed("unknown output format");
}

// The transform from the profile libvips' icc_transform assumes for CMYK pixels that carry none
// (its built-in "cmyk" profile, 500 KB: over what the transform cache keys by bytes, so it is
// made once here); nullptr if libvips cannot give the profile or lcms refuses it.
std::shared_ptr<const SrgbTransform> fallback_cmyk_transform() {
  static const std::shared_ptr<const SrgbTransform> transform = []() -> std::shared_ptr<const SrgbTransform> {
    VipsBlob* blob = nullptr;
    if (vips_profile_load("cmyk", &blob, nullptr) != 0 || blob == nullptr) {
      vips_error_clear();
      return nullptr;
    }
    std::size_t len = 0;
    const void* data = vips_blob_get(blob, &len);
    auto t = srgb_transform(std::string_view(static_cast<const char*>(data), len), 4);
    vips_area_unref(VIPS_AREA(blob));
    return t;
  }();
  return transform;
}

// The paths without libvips: decoded pixels (JPEG already DCT-scaled, PNG box-shrunk while
// decoding, WebP scaled by libwebp), reduced by our own Lanczos3, converted through the kept lcms
// transform, turned upright. It takes RGB and
// grey, with or without a profile lcms accepts, and CMYK with such a profile or none (libvips'
// fallback profile then); anything else (a profile lcms refuses) returns an empty optional and
// goes through libvips.
// The transform to sRGB for pixels of `bands` bands carrying icc_profile (empty: none); an
// empty optional when lcms refuses the profile (libvips then converts), a null transform when
// the pixels need none (grey and RGB without a profile).
using Transform = std::shared_ptr<const SrgbTransform>;
std::optional<Transform> transform_for(std::string_view icc_profile, std::uint32_t bands, bool cmyk) {
  if (!icc_profile.empty()) {
    Transform t = srgb_transform(icc_profile, int(bands));
    if (!t) return std::nullopt;
    return t;
  }
  if (cmyk) {
    // CMYK without a profile: libvips' own fallback CMYK profile, as its icc_transform would use,
    // through the kept transform (libvips built a new one per image: 40 ms of a 50 ms thumbnail).
    Transform t = fallback_cmyk_transform();
    if (!t) return std::nullopt;
    return t;
  }
  return Transform{};
}

// Reduces img (which holds the source region src_w x src_h, see resample.hpp) to the plan's
// size by Lanczos3, converts it to 8-bit RGB (through icc when given, grey by copying), and turns
// it upright.
Image8 finish_pixels(Image8 img, double src_w, double src_h, const Transform& icc, const ImageInfo& info,
                     const ShrinkPlan& plan) {
  if (img.width != plan.out_width || img.height != plan.out_height || src_w != img.width || src_h != img.height)
    img = resample_lanczos3(img, src_w, src_h, plan.out_width, plan.out_height);
  const std::size_t count = std::size_t{img.width} * img.height;
  if (icc) {
    Image8 rgb{std::vector<std::uint8_t>(count * 3), img.width, img.height, 3};
    icc->apply(img.data.data(), rgb.data.data(), count);
    img = std::move(rgb);
  } else if (img.bands == 1) {
    Image8 rgb{std::vector<std::uint8_t>(count * 3), img.width, img.height, 3};
    for (std::size_t i = 0; i < count; ++i) rgb.data[3 * i] = rgb.data[3 * i + 1] = rgb.data[3 * i + 2] = img.data[i];
    img = std::move(rgb);
  }
  return orient_upright(std::move(img), info.orientation);
}

// A format path's decoded pixels (grey or RGB, alpha already flattened) finished: an empty
// optional, with the pixels left untouched, when lcms refuses their profile (libvips then).
std::optional<Image8> finish_decoded(Image8& img, std::string_view icc_profile, double src_w, double src_h,
                                     const ImageInfo& info, const ShrinkPlan& plan) {
  auto icc = transform_for(icc_profile, img.bands, false);
  if (!icc) return std::nullopt;
  return finish_pixels(std::move(img), src_w, src_h, *icc, info, plan);
}

std::optional<Image8> fast_jpeg_pixels(JpegPixels& jpeg, const ImageInfo& info, const ShrinkPlan& plan) {
  auto icc = transform_for(jpeg.icc_profile, jpeg.bands, jpeg.colour == JpegColour::cmyk);
  if (!icc) return std::nullopt;
  Image8 img{std::move(jpeg.data), jpeg.width, jpeg.height, jpeg.bands};
  jpeg.data.clear();
  // libjpeg rounds a scaled size up (1365 / 4 gives 342): its last column covers only part of a
  // scaled pixel. The resample maps the true scaled size (341.25), so every output pixel lands
  // in the right place and the partial edge pixel only fills what rounding would leave out.
  const double src_w = double(info.width) / plan.jpeg_shrink;
  const double src_h = double(info.height) / plan.jpeg_shrink;
  return finish_pixels(std::move(img), src_w, src_h, *icc, info, plan);
}

// Up to this many pixels a libvips-decoded image is materialised whole and finished by our own
// steps (small_image_pixels); larger ones stream through libvips' pipeline, which never holds
// the whole image.
constexpr std::uint64_t kSmallImagePixels = 1'500'000;

// Alpha composited onto bg: out = (a*v + (255-a)*bg) / 255, rounded; 2 bands (grey+alpha) or
// 4 (RGBA) in, 1 or 3 out.
Image8 flatten_onto(const Image8& in, Rgb bg) {
  Image8 out;
  out.width = in.width;
  out.height = in.height;
  out.bands = in.bands - 1;
  const std::size_t n = std::size_t{in.width} * in.height;
  out.data.resize(n * out.bands);
  const std::uint32_t grey_bg = (std::uint32_t{bg.r} * 299 + std::uint32_t{bg.g} * 587 + std::uint32_t{bg.b} * 114 + 500) / 1000;
  const std::uint32_t bgv[3] = {out.bands == 1 ? grey_bg : bg.r, bg.g, bg.b};
  const std::uint8_t* s = in.data.data();
  std::uint8_t* d = out.data.data();
  for (std::size_t i = 0; i < n; ++i, s += in.bands, d += out.bands) {
    const std::uint32_t a = s[out.bands];
    for (std::uint32_t c = 0; c < out.bands; ++c)
      d[c] = static_cast<std::uint8_t>((a * s[c] + (255 - a) * bgv[c] + 127) / 255);
  }
  return out;
}

// A small 8-bit grey or sRGB image loaded by libvips (GIF, TIFF, HEIF/AVIF, and PNG or WebP
// that their own paths leave), read whole into memory, flattened when the rendition has no
// alpha, then finished like the JPEG path. An empty optional (libvips' pipeline then) for
// anything else: large, 16-bit, other colour spaces, a profile lcms refuses, or alpha kept.
std::optional<Image8> small_image_pixels(VImage& img, const ImageInfo& info, const RenditionSpec& spec,
                                         const ShrinkPlan& plan) {
  const int bands = img.bands();
  const VipsInterpretation interp = img.interpretation();
  if (std::uint64_t(img.width()) * std::uint64_t(img.height()) > kSmallImagePixels ||
      img.format() != VIPS_FORMAT_UCHAR || bands < 1 || bands > 4)
    return std::nullopt;
  const bool grey = bands <= 2 && (interp == VIPS_INTERPRETATION_B_W || interp == VIPS_INTERPRETATION_MULTIBAND);
  const bool rgb = bands >= 3 && (interp == VIPS_INTERPRETATION_sRGB || interp == VIPS_INTERPRETATION_RGB);
  const bool alpha = bands == 2 || bands == 4;
  if (!(grey || rgb) || (alpha && supports_alpha(spec.format))) return std::nullopt;
  std::string_view profile;
  if (img.get_typeof(VIPS_META_ICC_NAME) != 0) {
    const void* data = nullptr;
    std::size_t len = 0;
    if (vips_image_get_blob(img.get_image(), VIPS_META_ICC_NAME, &data, &len) != 0) {
      vips_error_clear();
      return std::nullopt;
    }
    profile = std::string_view(static_cast<const char*>(data), len);
  }
  auto icc = transform_for(profile, std::uint32_t(alpha ? bands - 1 : bands), false);
  if (!icc) return std::nullopt;
  // The whole decode runs here, on this thread: one region over the whole image, prepared in one
  // request (write_to_memory would hand the work to a libvips worker thread and wait for it,
  // about 0.3 ms of hand-offs on a small image). A damaged file fails the prepare.
  Image8 px;
  px.width = std::uint32_t(img.width());
  px.height = std::uint32_t(img.height());
  px.bands = std::uint32_t(bands);
  {
    VipsRegion* region = vips_region_new(img.get_image());
    if (region == nullptr) throw vips::VError();
    VipsRect whole{0, 0, img.width(), img.height()};
    if (vips_region_prepare(region, &whole) != 0) {
      g_object_unref(region);
      throw vips::VError();
    }
    const std::size_t row = std::size_t{px.width} * px.bands;
    const auto* top = reinterpret_cast<const std::uint8_t*>(VIPS_REGION_ADDR_TOPLEFT(region));
    const std::size_t skip = VIPS_REGION_LSKIP(region);
    px.data.resize(row * px.height);
    for (std::size_t y = 0; y < px.height; ++y) std::memcpy(px.data.data() + y * row, top + y * skip, row);
    g_object_unref(region);
  }
  if (alpha) px = flatten_onto(px, spec.background);
  const double w = px.width, h = px.height;
  return finish_pixels(std::move(px), w, h, *icc, info, plan);
}

// Decode, shrink, orient and convert: the pixels of one rendition as 8-bit sRGB (with alpha
// when the source has it and the output format keeps it), materialised in memory so the extras
// and the encoder share them.
//
// libvips' own thumbnail operation is not used: in 8.14 its pipeline turns decode errors into
// warnings, so a truncated file would come out as a half-grey thumbnail. Every step below
// propagates the loader's error (fail_on=error), and the pipeline runs exactly once.
// JPEG goes through the fast path (jpeg_decode.hpp), then fast_jpeg_pixels where it can; the
// libvips pipeline below borrows the decoded pixels otherwise.
Result<Image8> make_pixels(std::string_view bytes, const ImageInfo& info, const RenditionSpec& spec,
                           std::optional<VImage> probed = std::nullopt) try {
  const ShrinkPlan plan = plan_shrink(info, spec);
  JpegPixels jpeg;
  VImage img;
  bool fast_jpeg = false;
  if (info.format == SourceFormat::jpeg) {
    // A progressive file at 1/8 needs its DC scans alone (jpeg_dc.hpp); anything that path does
    // not take, and every damaged file, is decoded by libjpeg.
    Result<std::optional<JpegPixels>> decoded = std::optional<JpegPixels>{};
    if (plan.jpeg_shrink == 8 && info.progressive) decoded = decode_jpeg_dc(bytes);
    if (decoded && !decoded->has_value()) decoded = decode_jpeg(bytes, plan.jpeg_shrink);
    if (!decoded) return decoded.error();
    if (decoded->has_value()) {
      jpeg = std::move(**decoded);
      if (auto px = fast_jpeg_pixels(jpeg, info, plan)) return std::move(*px);
      fast_jpeg = true;
      img = VImage::new_from_memory(jpeg.data.data(), jpeg.data.size(), static_cast<int>(jpeg.width),
                                    static_cast<int>(jpeg.height), static_cast<int>(jpeg.bands), VIPS_FORMAT_UCHAR);
      img = img.copy(VImage::option()->set(
          "interpretation", jpeg.colour == JpegColour::grey   ? VIPS_INTERPRETATION_B_W
                            : jpeg.colour == JpegColour::cmyk ? VIPS_INTERPRETATION_CMYK
                                                              : VIPS_INTERPRETATION_sRGB));
      if (!jpeg.icc_profile.empty())
        vips_image_set_blob_copy(img.get_image(), VIPS_META_ICC_NAME, jpeg.icc_profile.data(), jpeg.icc_profile.size());
    }
  }
  // PNG to a format without alpha: libspng row by row, box-shrunk and flattened while decoding
  // (png_decode.hpp); interlaced files and renditions that keep alpha go through libvips.
  if (info.format == SourceFormat::png && !supports_alpha(spec.format)) {
    const std::uint32_t kx = box_factor(info.width, plan.out_width), ky = box_factor(info.height, plan.out_height);
    auto decoded = decode_png_shrunk(bytes, kx, ky, spec.background);
    if (!decoded) return decoded.error();
    if (decoded->has_value()) {
      PngPixels& png = **decoded;
      if (auto px = finish_decoded(png.image, png.icc_profile, png.src_width, png.src_height, info, plan))
        return std::move(*px);
    }
  }
  // AVIF to a format without alpha: libavif with dav1d on this thread (avif_decode.hpp; libheif
  // through libvips started dav1d's threads for every image); sequences, transformed images and
  // renditions that keep alpha go through libvips.
  if (info.format == SourceFormat::avif && !supports_alpha(spec.format)) {
    auto decoded = decode_avif(bytes, spec.background);
    if (!decoded) return decoded.error();
    if (decoded->has_value()) {
      AvifPixels& avif = **decoded;
      if (auto px = finish_decoded(avif.image, avif.icc_profile, avif.image.width, avif.image.height, info, plan))
        return std::move(*px);
    }
  }
  // WebP to a format without alpha: libwebp scales while decoding and flattens (webp_decode.hpp);
  // animated files, and renditions that keep alpha (resized premultiplied below), go through
  // libvips.
  if (info.format == SourceFormat::webp && !supports_alpha(spec.format)) {
    const auto scaled = [&](std::uint32_t size) {
      return static_cast<std::uint32_t>(std::clamp(std::lround(size * plan.webp_scale), 1L, long(size)));
    };
    auto decoded = decode_webp(bytes, scaled(info.width), scaled(info.height), spec.background, false);
    if (!decoded) return decoded.error();
    if (decoded->has_value()) {
      WebpPixels& webp = **decoded;
      if (auto px = finish_decoded(webp.image, webp.icc_profile, webp.image.width, webp.image.height, info, plan))
        return std::move(*px);
    }
  }
  if (!fast_jpeg) {
    if (probed) {
      img = std::move(*probed);
    } else {
      auto opts = load_options();
      if (info.format == SourceFormat::jpeg && plan.jpeg_shrink > 1) opts->set("shrink", plan.jpeg_shrink);
      if (info.format == SourceFormat::webp && plan.webp_scale < 1.0) opts->set("scale", plan.webp_scale);
      img = open_image(bytes, info.format, opts);
    }
    // Small 8-bit images decode straight into memory and take the steps of the paths above:
    // libvips' resize, colour and flatten operations cost about a millisecond of set-up per
    // image (GObject arguments and regions), more than their pixel work on a small image.
    if (auto px = small_image_pixels(img, info, spec, plan)) return std::move(*px);
  }

  // Multi-page loaders load one page (the first) unless told otherwise: animated input gives
  // its first frame.
  //
  // Plain 8-bit sRGB with alpha going to a format without alpha (RGBA PNG to JPEG, the common
  // case) is flattened before the resize: compositing over a constant background commutes
  // with a resampling kernel whose weights sum to one, so this equals resizing premultiplied
  // pixels and flattening after, while the resize runs on 3 bands of uchar instead of 4 of float
  // (3x faster on a 500x500 logo).
  if (img.has_alpha() && !supports_alpha(spec.format) && img.bands() == 4 && img.format() == VIPS_FORMAT_UCHAR &&
      img.interpretation() == VIPS_INTERPRETATION_sRGB && img.get_typeof(VIPS_META_ICC_NAME) == 0) {
    img = img.flatten(VImage::option()->set(
        "background", std::vector<double>{double(spec.background.r), double(spec.background.g),
                                          double(spec.background.b)}));
    if (img.format() != VIPS_FORMAT_UCHAR) img = img.cast(VIPS_FORMAT_UCHAR);
  }
  const bool alpha = img.has_alpha();
  const VipsBandFormat in_format = img.format();
  if (alpha) img = img.premultiply();
  // The scale comes from the true DCT-scaled size, as in fast_jpeg_pixels; any extra output row
  // or column is cropped. (libvips' loader drops the partial pixel instead and stretches the
  // rest by up to 0.75 px.)
  const double src_w = fast_jpeg ? double(info.width) / plan.jpeg_shrink : double(img.width());
  const double src_h = fast_jpeg ? double(info.height) / plan.jpeg_shrink : double(img.height());
  const double hscale = double(plan.out_width) / src_w;
  const double vscale = double(plan.out_height) / src_h;
  if (hscale != 1.0 || vscale != 1.0)
    img = img.resize(hscale, VImage::option()->set("vscale", vscale)->set("kernel", VIPS_KERNEL_LANCZOS3));
  if (img.width() > int(plan.out_width) || img.height() > int(plan.out_height))
    img = img.crop(0, 0, std::min(img.width(), int(plan.out_width)), std::min(img.height(), int(plan.out_height)));
  if (alpha) img = img.unpremultiply().cast(in_format);

  // Colour: embedded profiles (and CMYK, which always needs one) are converted to sRGB;
  // everything else (grey, 16-bit, palette) through libvips' colourspace conversions. 8-bit
  // pixels without alpha whose profile lcms takes are converted after materialising, through a
  // transform kept across images (colour_transform.hpp); the rest through libvips.
  const VipsInterpretation interp = img.interpretation();
  std::shared_ptr<const SrgbTransform> icc;
  if (img.get_typeof(VIPS_META_ICC_NAME) != 0 && img.format() == VIPS_FORMAT_UCHAR && !img.has_alpha()) {
    const void* profile = nullptr;
    std::size_t profile_len = 0;
    if (vips_image_get_blob(img.get_image(), VIPS_META_ICC_NAME, &profile, &profile_len) == 0)
      icc = srgb_transform(std::string_view(static_cast<const char*>(profile), profile_len), img.bands());
    else
      vips_error_clear();
  }
  if (icc) {
    // Converted below, once the pixels are in memory.
  } else if (interp == VIPS_INTERPRETATION_CMYK || img.get_typeof(VIPS_META_ICC_NAME) != 0) {
    img = img.icc_transform("srgb", VImage::option()
                                        ->set("embedded", true)
                                        ->set("input_profile", interp == VIPS_INTERPRETATION_CMYK ? "cmyk" : "srgb")
                                        ->set("intent", VIPS_INTENT_RELATIVE)
                                        ->set("depth", 8));
  }
  if (!icc && (img.interpretation() != VIPS_INTERPRETATION_sRGB || img.format() != VIPS_FORMAT_UCHAR))
    img = img.colourspace(VIPS_INTERPRETATION_sRGB);
  if (img.format() != VIPS_FORMAT_UCHAR) img = img.cast(VIPS_FORMAT_UCHAR);
  if (img.has_alpha() && !supports_alpha(spec.format)) {
    img = img.flatten(VImage::option()->set(
        "background", std::vector<double>{double(spec.background.r), double(spec.background.g),
                                          double(spec.background.b)}));
    if (img.format() != VIPS_FORMAT_UCHAR) img = img.cast(VIPS_FORMAT_UCHAR);
  }

  // Run the whole decode pipeline once, here: decode failures (truncation) surface now.
  std::size_t size = 0;
  void* mem = img.write_to_memory(&size);
  Image8 out;
  out.width = static_cast<std::uint32_t>(img.width());
  out.height = static_cast<std::uint32_t>(img.height());
  out.bands = static_cast<std::uint32_t>(icc ? 3 : img.bands());
  const std::size_t count = std::size_t{out.width} * out.height;
  try {
    out.data.resize(count * out.bands);
  } catch (const std::bad_alloc&) {
    g_free(mem);
    return make_error(ErrorKind::internal, "out of memory holding the thumbnail's pixels");
  }
  if (icc)
    icc->apply(static_cast<const std::uint8_t*>(mem), out.data.data(), count);
  else
    std::memcpy(out.data.data(), mem, std::min(size, out.data.size()));
  g_free(mem);
  // EXIF orientation is applied last, on the small image, where rotation is cheap.
  return orient_upright(std::move(out), info.orientation);
} catch (const vips::VError& e) {
  return classify_decode_error(info.format, e.what());
}

PixelView pixel_view(const Image8& img) { return PixelView{img.data.data(), img.width, img.height, img.bands}; }

}  // namespace

Result<ImageInfo> probe(std::string_view bytes) {
  auto r = sniff_and_probe(bytes);
  if (!r) return r.error();
  return std::move(r->second);
}

Result<ImageInfo> probe_with_libvips(std::string_view bytes) {
  auto r = sniff_and_probe(bytes, true);
  if (!r) return r.error();
  return std::move(r->second);
}

Status check_limits(const ImageInfo& info, const Limits& limits) {
  if (info.width == 0 || info.height == 0)
    return make_error(ErrorKind::corrupt, "image header declares a zero width or height");
  if (info.width > limits.max_dimension || info.height > limits.max_dimension)
    return make_error(ErrorKind::too_large, "image is " + std::to_string(info.width) + "x" +
                                                std::to_string(info.height) + ", over the max_dimension limit of " +
                                                std::to_string(limits.max_dimension) + " pixels");
  if (info.frames > limits.max_frames)
    return make_error(ErrorKind::too_large, "image has " + std::to_string(info.frames) +
                                                " frames, over the max_frames limit of " +
                                                std::to_string(limits.max_frames));
  if (info.total_pixels() > limits.max_pixels)
    return make_error(ErrorKind::too_large, "image has " + std::to_string(info.total_pixels()) +
                                                " pixels (" + std::to_string(info.width) + "x" +
                                                std::to_string(info.height) + " x " + std::to_string(info.frames) +
                                                " frames), over the max_pixels limit of " +
                                                std::to_string(limits.max_pixels));
  return ok_status();
}

namespace {

// Everything render() checks before a pixel is decoded: specs, size, sniff, probe, limits.
Result<std::pair<SourceFormat, ImageInfo>> checked_probe(std::string_view bytes, std::span<const RenditionSpec> specs,
                                                         std::optional<VImage>* keep,
                                                         const Limits& limits) {
  if (specs.empty()) return make_error(ErrorKind::invalid_argument, "no rendition requested");
  for (const auto& s : specs)
    if (auto st = s.validate(); !st) return st.error();
  if (bytes.size() > limits.max_source_bytes)
    return make_error(ErrorKind::too_large, "source is " + std::to_string(bytes.size()) +
                                                " bytes, over the max_source_bytes limit of " +
                                                std::to_string(limits.max_source_bytes));
  auto probed = sniff_and_probe(bytes, false, keep);
  if (!probed) return probed.error();
  if (auto st = check_limits(probed->second, limits); !st) return st.error();
  if (probed->first == SourceFormat::jpeg) {
    // Every scan of a progressive file is a pass over every block; the count comes from the
    // markers alone, before the decoder allocates the coefficient buffer.
    const std::uint32_t scans = count_jpeg_scans(bytes);
    if (scans > limits.max_jpeg_scans)
      return make_error(ErrorKind::too_large, "jpeg has " + std::to_string(scans) +
                                                  " scans, over the max_jpeg_scans limit of " +
                                                  std::to_string(limits.max_jpeg_scans));
  }
  return probed;
}

}  // namespace

Result<RenderedPixels> render_pixels(std::string_view bytes, const RenditionSpec& spec, const Limits& limits) {
  std::optional<VImage> opened;
  auto probed = checked_probe(bytes, std::span<const RenditionSpec>(&spec, 1), &opened, limits);
  if (!probed) return probed.error();
  auto& [format, info] = *probed;
  auto made = make_pixels(bytes, info, spec, std::move(opened));
  if (!made) return made.error();
  RenderedPixels out;
  out.width = made->width;
  out.height = made->height;
  out.bands = made->bands;
  out.data = std::move(made->data);
  return out;
}

Result<RenderResult> render(std::string_view bytes, std::span<const RenditionSpec> specs, const Limits& limits) {
  std::optional<VImage> opened;
  auto probed = checked_probe(bytes, specs, &opened, limits);
  if (!probed) return probed.error();
  auto& [format, info] = *probed;

  RenderResult result;
  result.source = info;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const RenditionSpec& spec = specs[i];
    // The image opened for the probe serves the first rendition; the others open their own.
    auto made = make_pixels(bytes, info, spec, i == 0 ? std::move(opened) : std::nullopt);
    if (!made) return made.error();
    const Image8& pixels = *made;
    if (i == 0) {
      auto px = pixel_view(pixels);
      result.dominant_colour = dominant_colour(px, spec.background);
      result.blurhash = encode_blurhash(px, spec.background);
    }
    Rendition r;
    r.name = spec.name;
    r.format = spec.format;
    r.width = pixels.width;
    r.height = pixels.height;
    auto encoded = encode(pixels, spec);
    if (!encoded) return encoded.error();
    r.bytes = std::move(*encoded);
    result.renditions.push_back(std::move(r));
  }
  return result;
}

}  // namespace thumbflow::imaging
