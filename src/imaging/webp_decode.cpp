#include "imaging/webp_decode.hpp"

#include <webp/decode.h>
#include <webp/demux.h>

#include <algorithm>
#include <array>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace thumbflow::imaging {
namespace {

const char* status_name(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OK: return "VP8_STATUS_OK";
    case VP8_STATUS_OUT_OF_MEMORY: return "VP8_STATUS_OUT_OF_MEMORY";
    case VP8_STATUS_INVALID_PARAM: return "VP8_STATUS_INVALID_PARAM";
    case VP8_STATUS_BITSTREAM_ERROR: return "VP8_STATUS_BITSTREAM_ERROR";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "VP8_STATUS_UNSUPPORTED_FEATURE";
    case VP8_STATUS_SUSPENDED: return "VP8_STATUS_SUSPENDED";
    case VP8_STATUS_USER_ABORT: return "VP8_STATUS_USER_ABORT";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "VP8_STATUS_NOT_ENOUGH_DATA";
  }
  return "unknown VP8StatusCode";
}

Error rejected(const std::string& why) {
  return make_error(ErrorKind::corrupt, "corrupt webp data: the decoder rejected it (" + why + ")");
}

Error truncated(const std::string& why) {
  return make_error(ErrorKind::corrupt, "truncated webp data: the file ends before the image does (" + why + ")");
}

Error out_of_memory(const std::string& where) {
  return make_error(ErrorKind::internal, "out of memory decoding webp: " + where);
}

Error from_status(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY: return out_of_memory(status_name(status));
    case VP8_STATUS_NOT_ENOUGH_DATA:
    case VP8_STATUS_SUSPENDED: return truncated(status_name(status));
    default: return rejected(status_name(status));
  }
}

struct DemuxDeleter {
  void operator()(WebPDemuxer* d) const { WebPDemuxDelete(d); }
};
using DemuxPtr = std::unique_ptr<WebPDemuxer, DemuxDeleter>;

// Owns the decoder's output buffer, which libwebp allocates (WebPDecode, is_external_memory
// 0): WebPFreeDecBuffer runs on every path out of decode_webp.
struct DecoderConfig {
  WebPDecoderConfig config{};
  bool initialised = false;
  DecoderConfig() { initialised = WebPInitDecoderConfig(&config) != 0; }
  ~DecoderConfig() {
    if (initialised) WebPFreeDecBuffer(&config.output);
  }
  DecoderConfig(const DecoderConfig&) = delete;
  DecoderConfig& operator=(const DecoderConfig&) = delete;
};

// Interleaved 8-bit pixels somewhere in memory: libwebp's output buffer or an Image8.
struct PixelView {
  const std::uint8_t* data = nullptr;
  std::size_t stride = 0;  // bytes from one row to the next
  std::uint32_t width = 0, height = 0, bands = 0;
};

PixelView view_of(const Image8& img) {
  return {img.data.data(), std::size_t{img.width} * img.bands, img.width, img.height, img.bands};
}

Image8 copy_of(const PixelView& v) {
  Image8 out;
  out.width = v.width;
  out.height = v.height;
  out.bands = v.bands;
  const std::size_t row = std::size_t{v.width} * v.bands;
  out.data.reserve(row * v.height);
  for (std::uint32_t y = 0; y < v.height; ++y) {
    const std::uint8_t* src = v.data + y * v.stride;
    out.data.insert(out.data.end(), src, src + row);
  }
  return out;
}

// Composites premultiplied RGBA onto an opaque background, giving RGB:
// out = v_premultiplied + (255 - a) * bg / 255, rounded. (255 * v_p + (255 - a) * bg + 127) / 255
// splits exactly into v_p + ((255 - a) * bg + 127) / 255, tabulated per alpha and band.
Image8 flatten_premultiplied(const PixelView& v, Rgb bg) {
  std::array<std::array<std::uint8_t, 3>, 256> under{};
  const std::uint32_t bgv[3] = {bg.r, bg.g, bg.b};
  for (std::uint32_t a = 0; a < 256; ++a)
    for (std::size_t c = 0; c < 3; ++c) under[a][c] = static_cast<std::uint8_t>(((255 - a) * bgv[c] + 127) / 255);
  Image8 out;
  out.width = v.width;
  out.height = v.height;
  out.bands = 3;
  out.data.resize(std::size_t{v.width} * v.height * 3);
  std::uint8_t* d = out.data.data();
  for (std::uint32_t y = 0; y < v.height; ++y) {
    const std::uint8_t* s = v.data + y * v.stride;
    for (std::uint32_t x = 0; x < v.width; ++x, s += 4, d += 3) {
      const auto& u = under[s[3]];
      // v_p <= a for valid premultiplied data, so the sum stays within 255; min() for safety.
      d[0] = static_cast<std::uint8_t>(std::min(255, s[0] + u[0]));
      d[1] = static_cast<std::uint8_t>(std::min(255, s[1] + u[1]));
      d[2] = static_cast<std::uint8_t>(std::min(255, s[2] + u[2]));
    }
  }
  return out;
}

// One axis of an area-average reduction from n source pixels to m <= n: output pixel o covers
// [o * n / m, (o + 1) * n / m) of the source, each source pixel weighted by its overlap.
struct AreaTaps {
  std::vector<std::uint32_t> first;  // first source pixel of each output pixel
  std::vector<std::uint32_t> count;  // how many source pixels it reads
  std::vector<float> weight;         // count[o] weights per output pixel, one after another
  std::vector<std::size_t> offset;   // where output pixel o's weights start
};

AreaTaps area_taps(std::uint32_t n, std::uint32_t m) {
  // In units of 1/m source pixels: source pixel i spans [i*m, (i+1)*m), output o [o*n, (o+1)*n).
  AreaTaps t;
  t.first.resize(m);
  t.count.resize(m);
  t.offset.resize(m);
  t.weight.reserve(std::size_t{m} * (n / m + 2));
  const float norm = 1.0f / static_cast<float>(n);
  for (std::uint32_t o = 0; o < m; ++o) {
    const std::uint64_t lo = std::uint64_t{o} * n, hi = lo + n;
    const auto i0 = static_cast<std::uint32_t>(lo / m);
    const auto i1 = static_cast<std::uint32_t>(std::min<std::uint64_t>((hi + m - 1) / m, n));  // exclusive
    t.first[o] = i0;
    t.count[o] = i1 - i0;
    t.offset[o] = t.weight.size();
    for (std::uint32_t i = i0; i < i1; ++i) {
      const std::uint64_t a = std::max<std::uint64_t>(lo, std::uint64_t{i} * m);
      const std::uint64_t b = std::min<std::uint64_t>(hi, std::uint64_t{i + 1} * m);
      t.weight.push_back(static_cast<float>(b - a) * norm);
    }
  }
  return t;
}

// Reduces premultiplied RGBA by area averaging (the filter of libwebp's own rescaler), which is
// exact on premultiplied values: colour under transparent pixels carries no weight.
Image8 area_reduce_rgba(const PixelView& in, std::uint32_t out_w, std::uint32_t out_h) {
  const AreaTaps tx = area_taps(in.width, out_w), ty = area_taps(in.height, out_h);
  Image8 out;
  out.width = out_w;
  out.height = out_h;
  out.bands = 4;
  out.data.resize(std::size_t{out_w} * out_h * 4);
  std::vector<float> row(std::size_t{out_w} * 4), acc(std::size_t{out_w} * 4);
  for (std::uint32_t oy = 0; oy < out_h; ++oy) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (std::uint32_t k = 0; k < ty.count[oy]; ++k) {
      const std::uint8_t* src = in.data + (ty.first[oy] + k) * in.stride;
      const float wy = ty.weight[ty.offset[oy] + k];
      for (std::uint32_t ox = 0; ox < out_w; ++ox) {
        float s[4] = {0, 0, 0, 0};
        const std::uint8_t* p = src + std::size_t{tx.first[ox]} * 4;
        const float* w = tx.weight.data() + tx.offset[ox];
        for (std::uint32_t j = 0; j < tx.count[ox]; ++j, p += 4)
          for (int c = 0; c < 4; ++c) s[c] += w[j] * static_cast<float>(p[c]);
        for (int c = 0; c < 4; ++c) acc[std::size_t{ox} * 4 + static_cast<std::size_t>(c)] += wy * s[c];
      }
    }
    std::uint8_t* dst = out.data.data() + std::size_t{oy} * out_w * 4;
    for (std::size_t i = 0; i < acc.size(); ++i)
      dst[i] = static_cast<std::uint8_t>(std::clamp(acc[i] + 0.5f, 0.0f, 255.0f));
  }
  return out;
}

// Premultiplied RGBA to straight RGBA, in place.
void unpremultiply(Image8& img) {
  std::uint8_t* p = img.data.data();
  const std::size_t n = std::size_t{img.width} * img.height;
  for (std::size_t i = 0; i < n; ++i, p += 4) {
    const std::uint32_t a = p[3];
    if (a == 255) continue;
    for (int c = 0; c < 3; ++c)
      p[c] = a == 0 ? 0 : static_cast<std::uint8_t>(std::min<std::uint32_t>(255, (p[c] * 255u + a / 2) / a));
  }
}

}  // namespace

Result<std::optional<WebpPixels>> decode_webp(std::string_view bytes, std::uint32_t scaled_width,
                                              std::uint32_t scaled_height, Rgb background, bool keep_alpha) {
  // The RIFF header and the first chunk's header: the least the demuxer parses.
  if (bytes.size() < 20) return truncated(std::to_string(bytes.size()) + " bytes, less than the RIFF and first chunk headers");

  // The demuxer checks the container as libvips' loader does (it demuxes before it decodes):
  // chunk sizes within the RIFF size, VP8X flags consistent with the chunks, the image inside
  // the canvas. Data past the RIFF size is ignored. With 20 bytes or more, no demuxer is a
  // malformed container (or no memory for one, rare enough to be reported the same way); a
  // demuxer still parsing is a file that ends too soon.
  WebPData data{reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()};
  WebPDemuxState state = WEBP_DEMUX_PARSE_ERROR;
  DemuxPtr demux(WebPDemuxPartial(&data, &state));
  if (!demux) return rejected("WebPDemux: WEBP_DEMUX_PARSE_ERROR");
  if (state != WEBP_DEMUX_DONE)
    return truncated(state == WEBP_DEMUX_PARSING_HEADER ? "WebPDemux: WEBP_DEMUX_PARSING_HEADER"
                                                        : "WebPDemux: WEBP_DEMUX_PARSED_HEADER");
  const std::uint32_t flags = WebPDemuxGetI(demux.get(), WEBP_FF_FORMAT_FLAGS);
  if ((flags & ANIMATION_FLAG) != 0) return std::optional<WebpPixels>{};

  WebpPixels out;
  // The first ICCP chunk when the VP8X flags announce one, as libvips' loader reads it.
  if ((flags & ICCP_FLAG) != 0) {
    WebPChunkIterator chunk{};
    if (WebPDemuxGetChunk(demux.get(), "ICCP", 1, &chunk)) {
      const std::string_view icc(reinterpret_cast<const char*>(chunk.chunk.bytes), chunk.chunk.size);
      WebPDemuxReleaseChunkIterator(&chunk);  // the bytes stay: they point into `bytes`
      try {
        out.icc_profile.assign(icc);
      } catch (const std::bad_alloc&) {
        return out_of_memory("the ICC profile");
      }
    }
  }
  demux.reset();

  DecoderConfig dc;
  if (!dc.initialised) return make_error(ErrorKind::internal, "libwebp: WebPInitDecoderConfig failed (ABI mismatch)");
  WebPDecoderConfig& config = dc.config;
  if (const VP8StatusCode st = WebPGetFeatures(data.bytes, data.size, &config.input); st != VP8_STATUS_OK)
    return from_status(st);
  const WebPBitstreamFeatures& features = config.input;
  if (features.has_animation) return std::optional<WebpPixels>{};
  if (features.width <= 0 || features.height <= 0) return rejected("no image size");
  const auto width = static_cast<std::uint32_t>(features.width);
  const auto height = static_cast<std::uint32_t>(features.height);
  if (scaled_width < 1 || scaled_height < 1 || scaled_width > width || scaled_height > height)
    return make_error(ErrorKind::invalid_argument, "webp decode: scaled size " + std::to_string(scaled_width) + "x" +
                                                       std::to_string(scaled_height) + " outside 1x1.." +
                                                       std::to_string(width) + "x" + std::to_string(height));

  const bool alpha = features.has_alpha != 0;
  const bool scaling = scaled_width != width || scaled_height != height;
  // Alpha and scaling. libwebp's rescaler is an area average, and an average of colours must be
  // weighted by alpha, or the colour under transparent pixels bleeds into the edges. For
  // lossless data libwebp 1.2 premultiplies before rescaling and unpremultiplies after
  // (vp8l_dec.c, EmitRescaledRowsRGBA and Export). For lossy data with RGB output it does not
  // (io_dec.c, EmitRescaledRGB rescales Y, U and V unweighted; ExportAlpha multiplies the
  // result by the rescaled alpha afterwards): edges came out up to 70 levels off with red under
  // the transparent pixels. libvips' webpload (MODE_RGBA with use_scaling) has the same fault.
  // So lossy data with alpha is decoded unscaled and reduced here, premultiplied, with the same
  // area average (area_reduce_rgba).
  const bool reduce_here = alpha && scaling && features.format != 2;  // 2: lossless (VP8L)
  // Output mode. Flattening wants premultiplied values, out = v_p + (255 - a) * bg / 255, so it
  // asks for MODE_rgbA: libwebp multiplies each decoded pixel by its alpha (EmitAlphaRGB
  // unscaled; after unmultiplying its rescaled output, VP8L), and no unpremultiply-premultiply
  // round trip loses precision in dark, nearly transparent pixels. keep_alpha gives straight
  // MODE_RGBA, what libvips' loader gives and the encoders (PNG, WebP) take.
  const bool flatten = alpha && !keep_alpha;
  config.output.colorspace = !alpha ? MODE_RGB : (flatten || reduce_here) ? MODE_rgbA : MODE_RGBA;
  // libwebp allocates the output itself, after it has parsed the headers: a file that
  // declares a large image and ends early fails before any pixel memory is taken. DecoderConfig
  // frees it on every path; the result is copied out (or flattened, or reduced) from it.
  config.output.is_external_memory = 0;
  // Default decoder options otherwise. Measured on the corpus WebPs (all lossy): use_scaling
  // below 3/4 of the size already makes libwebp drop the loop filter and fancy upsampling
  // (WebPIoInitFromOptions), so bypass_filtering and no_fancy_upsampling only act on unscaled
  // decodes. There bypass_filtering took the SSIM of syn_photo_mate_RainDrops' 1024x640
  // thumbnail (an unscaled decode, then Lanczos3) from 0.9995 to 0.977, under the 0.98 rule, and
  // no_fancy_upsampling to 0.998, neither for any time saved beyond the noise (~1-3 ms of 24). One thread per image by
  // policy: use_threads would add a filtering thread to lossy decoding.
  config.options.use_threads = 0;
  if (scaling && !reduce_here) {
    config.options.use_scaling = 1;
    config.options.scaled_width = static_cast<int>(scaled_width);
    config.options.scaled_height = static_cast<int>(scaled_height);
  }

  if (const VP8StatusCode st = WebPDecode(data.bytes, data.size, &config); st != VP8_STATUS_OK) return from_status(st);
  const WebPRGBABuffer& buf = config.output.u.RGBA;
  if (buf.rgba == nullptr || buf.stride <= 0) return make_error(ErrorKind::internal, "libwebp returned no pixels");
  const PixelView decoded{buf.rgba, static_cast<std::size_t>(buf.stride), static_cast<std::uint32_t>(config.output.width),
                          static_cast<std::uint32_t>(config.output.height), alpha ? 4u : 3u};
  try {
    if (reduce_here) {
      Image8 reduced = area_reduce_rgba(decoded, scaled_width, scaled_height);
      if (flatten) {
        out.image = flatten_premultiplied(view_of(reduced), background);
      } else {
        unpremultiply(reduced);
        out.image = std::move(reduced);
      }
    } else if (flatten) {
      out.image = flatten_premultiplied(decoded, background);
    } else {
      out.image = copy_of(decoded);
    }
  } catch (const std::bad_alloc&) {
    return out_of_memory("the output image");
  }
  return std::optional<WebpPixels>(std::move(out));
}

}  // namespace thumbflow::imaging
