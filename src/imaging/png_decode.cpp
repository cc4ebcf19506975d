#include "imaging/png_decode.hpp"

#include <spng.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

namespace thumbflow::imaging {
namespace {

// libspng's limits on what it keeps of ancillary chunks (it has none on IDAT, which streams
// through a fixed window). One chunk, stored or inflated (iCCP, zTXt, iTXt), may hold up to
// 4 MiB: real ICC profiles are under 1 MiB, libpng's own default cap is 8 MB. All of them
// together up to 16 MiB. The count of stored text and sPLT chunks stays at libspng's default,
// 1000: SPNG_CHUNK_COUNT_LIMIT cannot be set in 0.7.3 (its check is inverted: any value above
// the chunks already read is refused). Past a limit before the image data the file goes to
// libvips (its own caps apply); past it after the image data the chunk is not needed and the
// error is ignored.
constexpr std::size_t kMaxAncillaryChunkBytes = 4u << 20;
constexpr std::size_t kMaxAncillaryTotalBytes = 16u << 20;

struct SpngCtxFree {
  void operator()(spng_ctx* ctx) const noexcept { spng_ctx_free(ctx); }
};
using SpngCtx = std::unique_ptr<spng_ctx, SpngCtxFree>;

Error out_of_memory(int rc) {
  return make_error(ErrorKind::internal,
                    std::string("out of memory decoding png (") + spng_strerror(rc) + ")");
}

// An error met while reading the image data. check_complete has seen every chunk reach IEND,
// so an IDAT stream that ends early is data that ends before the image does.
Error data_error(int rc) {
  if (rc == SPNG_EMEM) return out_of_memory(rc);
  const std::string detail = std::string(" (") + spng_strerror(rc) + ")";
  if (rc == SPNG_EIDAT_TOO_SHORT || rc == SPNG_IO_EOF || rc == SPNG_IO_ERROR)
    return make_error(ErrorKind::corrupt, "truncated png data: the file ends before the image does" + detail);
  return make_error(ErrorKind::corrupt, "corrupt png data: the decoder rejected it" + detail);
}

// Alpha compositing over the background, rounded: (a*v + (255-a)*bg) / 255. libvips' flatten
// truncates instead, so alpha pixels may differ from it by one level.
inline std::uint8_t blend(std::uint32_t v, std::uint32_t a, std::uint32_t bg) {
  return static_cast<std::uint8_t>((a * v + (255 - a) * bg + 127) / 255);
}

// sums[e] += row[e] over n elements. Written in blocks of 16 so GCC vectorises it at -O2 (its
// "very cheap" cost model takes only loops whose trip count is a multiple of the vector
// length), with __restrict so no alias check is needed.
void add_to_sums(std::uint32_t* __restrict sums, const std::uint8_t* __restrict row, std::size_t n) {
  std::size_t e = 0;
  for (; e + 16 <= n; e += 16)
    for (std::size_t j = 0; j < 16; ++j) sums[e + j] += row[e + j];
  for (; e < n; ++e) sums[e] += row[e];
}

// Sums rows of 8-bit samples and writes each output row once ky rows (or, at the bottom, the
// rows left) are in: the streaming form of box_shrink, with the same arithmetic, so the
// output is identical to box_shrink of the whole image. Input pixels are `stride` bytes apart
// and the first `bands` of them are kept (RGBA rows are summed whole, alpha then dropped: one
// vectorised pass instead of a repack).
class BoxAccumulator {
 public:
  BoxAccumulator(std::uint32_t width, std::uint32_t height, std::uint32_t stride, std::uint32_t bands,
                 std::uint32_t kx, std::uint32_t ky)
      : width_(width),
        stride_(stride),
        bands_(bands),
        kx_(kx),
        ky_(ky),
        row_len_(std::size_t{width} * stride) {
    out_.bands = bands;
    out_.width = (width + kx - 1) / kx;
    out_.height = (height + ky - 1) / ky;
    out_.data.resize(std::size_t{out_.width} * out_.height * bands);
    if (kx_ > 1 || ky_ > 1) sums_.assign(row_len_, 0u);
    assert(stride_ == bands_ || (stride_ == 4 && bands_ == 3));
  }

  void add_row(const std::uint8_t* row) {
    if (sums_.empty()) {  // 1x1 boxes: the row is the output row
      std::uint8_t* dst = &out_.data[std::size_t{out_y_} * out_.width * bands_];
      if (stride_ == bands_) {
        std::memcpy(dst, row, row_len_);
      } else {  // RGBA8 flattened in place: drop the alpha byte
        for (std::uint32_t x = 0; x < width_; ++x) {
          const std::uint8_t* p = row + std::size_t{x} * stride_;
          std::uint8_t* d = dst + std::size_t{x} * 3;
          d[0] = p[0];
          d[1] = p[1];
          d[2] = p[2];
        }
      }
      ++out_y_;
      return;
    }
    add_to_sums(sums_.data(), row, row_len_);
    if (++rows_in_ == ky_) emit();
  }

  // Writes the partial last group; returns the shrunk image.
  Image8 finish() {
    if (rows_in_ > 0) emit();
    return std::move(out_);
  }

 private:
  void emit() {
    std::uint8_t* dst = &out_.data[std::size_t{out_y_} * out_.width * bands_];
    for (std::uint32_t ox = 0; ox < out_.width; ++ox) {
      const std::uint32_t x0 = ox * kx_, x1 = std::min(width_, x0 + kx_);
      const std::uint64_t n = std::uint64_t{x1 - x0} * rows_in_;
      for (std::uint32_t b = 0; b < bands_; ++b) {
        std::uint64_t s = 0;
        for (std::uint32_t x = x0; x < x1; ++x) s += sums_[std::size_t{x} * stride_ + b];
        dst[std::size_t{ox} * bands_ + b] = static_cast<std::uint8_t>((s + n / 2) / n);
      }
    }
    std::fill(sums_.begin(), sums_.end(), 0u);
    rows_in_ = 0;
    ++out_y_;
  }

  std::uint32_t width_, stride_, bands_, kx_, ky_;
  std::size_t row_len_;
  std::vector<std::uint32_t> sums_;
  std::uint32_t rows_in_ = 0;
  std::uint32_t out_y_ = 0;
  Image8 out_;
};

// flat[x] = lut[raw[x]] for 1- or 3-byte entries. The __restrict pointers let the compiler keep
// everything in registers (a uint8_t store may otherwise alias any object).
void lookup_bytes(const std::uint8_t* __restrict raw, std::uint8_t* __restrict flat,
                  const std::uint8_t* __restrict lut, std::uint32_t w, std::uint32_t bands) {
  if (bands == 1) {
    for (std::uint32_t x = 0; x < w; ++x) flat[x] = lut[3 * std::size_t{raw[x]}];
    return;
  }
  for (std::uint32_t x = 0; x < w; ++x) {
    const std::uint8_t* e = lut + 3 * std::size_t{raw[x]};
    std::uint8_t* d = flat + 3 * std::size_t{x};
    d[0] = e[0];
    d[1] = e[1];
    d[2] = e[2];
  }
}

// How one raw PNG row (SPNG_FMT_RAW: samples as stored, 16-bit big-endian, sub-byte samples
// packed) becomes a row of 8-bit opaque samples.
struct RowConverter {
  spng_ihdr ihdr{};
  std::uint32_t bands = 3;  // of the output
  Rgb bg{};
  // tRNS of grey and RGB images: the one colour that is transparent, as stored.
  bool has_key = false;
  std::uint16_t key_grey = 0, key_r = 0, key_g = 0, key_b = 0;
  // Palette and grey up to 8 bits: each stored sample's output pixel, already flattened.
  std::array<std::uint8_t, 3 * 256> lut{};  // entry i at 3 * i

  void set_lut(std::uint32_t i, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
    lut[3 * i] = r;
    lut[3 * i + 1] = g;
    lut[3 * i + 2] = b;
  }

  // Pixels of the converted row are `stride` bytes apart: 4 for RGBA8, converted in place.
  std::uint32_t stride() const {
    return ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA && ihdr.bit_depth == 8 ? 4 : bands;
  }

  // Returns the converted row: `raw` itself when it already is one (or was converted in place),
  // else `flat`.
  const std::uint8_t* convert(std::uint8_t* raw, std::uint8_t* flat) const {
    const std::uint32_t w = ihdr.width;
    const unsigned depth = ihdr.bit_depth;
    switch (ihdr.color_type) {
      case SPNG_COLOR_TYPE_GRAYSCALE:
        if (depth == 16) {
          for (std::uint32_t x = 0; x < w; ++x) {
            const std::uint8_t hi = raw[2 * x];
            const bool clear = has_key && (std::uint16_t(hi << 8 | raw[2 * x + 1]) == key_grey);
            put_grey(flat, x, clear, hi);
          }
          return flat;
        }
        if (depth == 8 && !has_key) return raw;
        lookup_packed(raw, flat, w, depth);
        return flat;
      case SPNG_COLOR_TYPE_INDEXED:
        lookup_packed(raw, flat, w, depth);
        return flat;
      case SPNG_COLOR_TYPE_TRUECOLOR:
        if (depth == 8) {
          if (!has_key) return raw;
          for (std::uint32_t x = 0; x < w; ++x) {
            const std::uint8_t* p = raw + 3 * std::size_t{x};
            const bool clear = p[0] == key_r && p[1] == key_g && p[2] == key_b;
            std::uint8_t* d = flat + 3 * std::size_t{x};
            d[0] = clear ? bg.r : p[0];
            d[1] = clear ? bg.g : p[1];
            d[2] = clear ? bg.b : p[2];
          }
          return flat;
        }
        for (std::uint32_t x = 0; x < w; ++x) {
          const std::uint8_t* p = raw + 6 * std::size_t{x};
          const bool clear = has_key && std::uint16_t(p[0] << 8 | p[1]) == key_r &&
                             std::uint16_t(p[2] << 8 | p[3]) == key_g &&
                             std::uint16_t(p[4] << 8 | p[5]) == key_b;
          std::uint8_t* d = flat + 3 * std::size_t{x};
          d[0] = clear ? bg.r : p[0];
          d[1] = clear ? bg.g : p[2];
          d[2] = clear ? bg.b : p[4];
        }
        return flat;
      case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA: {
        const std::size_t step = depth == 16 ? 4 : 2, alpha_at = depth == 16 ? 2 : 1;
        for (std::uint32_t x = 0; x < w; ++x) {
          const std::uint8_t* p = raw + step * x;
          const std::uint8_t v = p[0], a = p[alpha_at];
          if (bands == 1) {
            flat[x] = blend(v, a, bg.r);
          } else {
            std::uint8_t* d = flat + 3 * std::size_t{x};
            d[0] = blend(v, a, bg.r);
            d[1] = blend(v, a, bg.g);
            d[2] = blend(v, a, bg.b);
          }
        }
        return flat;
      }
      case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA:
        if (depth == 8) {
          flatten_rgba8_in_place(raw, w);
          return raw;
        } else {
          for (std::uint32_t x = 0; x < w; ++x) {
            const std::uint8_t* p = raw + 8 * std::size_t{x};
            const std::uint8_t a = p[6];
            std::uint8_t* d = flat + 3 * std::size_t{x};
            d[0] = blend(p[0], a, bg.r);
            d[1] = blend(p[2], a, bg.g);
            d[2] = blend(p[4], a, bg.b);
          }
        }
        return flat;
      default:
        return flat;  // not reached: IHDR was validated
    }
  }

 private:
  void put_grey(std::uint8_t* flat, std::uint32_t x, bool clear, std::uint8_t v) const {
    if (bands == 1) {
      flat[x] = clear ? bg.r : v;
    } else {
      std::uint8_t* d = flat + 3 * std::size_t{x};
      d[0] = clear ? bg.r : v;
      d[1] = clear ? bg.g : v;
      d[2] = clear ? bg.b : v;
    }
  }

  // Packed samples of 1, 2, 4 or 8 bits (most significant first) through the lookup table.
  void lookup_packed(const std::uint8_t* raw, std::uint8_t* flat, std::uint32_t w, unsigned depth) const {
    if (depth == 8) {  // the common palette: one byte per pixel
      lookup_bytes(raw, flat, lut.data(), w, bands);
      return;
    }
    const unsigned per_byte = 8 / depth, mask = (1u << depth) - 1;
    for (std::uint32_t x = 0; x < w; ++x) {
      const unsigned shift = 8 - depth * (x % per_byte + 1);
      const unsigned sample = (unsigned{raw[x / per_byte]} >> shift) & mask;
      if (bands == 1) {
        flat[x] = lut[3 * sample];
      } else {
        std::memcpy(flat + 3 * std::size_t{x}, &lut[3 * sample], 3);
      }
    }
  }

  // Blends the pixels that are not opaque in place, leaving RGB + (unused) alpha. Opaque
  // pixels blend to themselves, so runs of them are skipped four at a time.
  void flatten_rgba8_in_place(std::uint8_t* raw, std::uint32_t w) const {
    // The alpha bytes of two pixels read as one word, whatever the byte order.
    constexpr auto kAlpha =
        std::bit_cast<std::uint64_t>(std::array<std::uint8_t, 8>{0, 0, 0, 255, 0, 0, 0, 255});
    std::uint32_t x = 0;
    while (x < w) {
      if (x + 4 <= w) {
        std::uint64_t a, b;
        std::memcpy(&a, raw + 4 * std::size_t{x}, 8);
        std::memcpy(&b, raw + 4 * std::size_t{x} + 8, 8);
        if ((a & b & kAlpha) == kAlpha) {
          x += 4;
          continue;
        }
      }
      const std::uint32_t end = std::min(w, x + 4);
      for (; x < end; ++x) {
        std::uint8_t* p = raw + 4 * std::size_t{x};
        const std::uint32_t a = p[3];
        if (a == 255) continue;
        p[0] = blend(p[0], a, bg.r);
        p[1] = blend(p[1], a, bg.g);
        p[2] = blend(p[2], a, bg.b);
      }
    }
  }
};

// Builds the converter from the header chunks libspng has read (PLTE, tRNS).
RowConverter make_converter(spng_ctx* ctx, const spng_ihdr& ihdr, Rgb bg) {
  RowConverter c;
  c.ihdr = ihdr;
  c.bg = bg;
  const bool grey_bg = bg.r == bg.g && bg.g == bg.b;
  spng_trns trns{};
  const bool has_trns = spng_get_trns(ctx, &trns) == 0;
  switch (ihdr.color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE: {
      // libpng compares the key with the sample as stored, masked to the bit depth.
      const unsigned depth = ihdr.bit_depth;
      const std::uint32_t max = (1u << depth) - 1;
      c.has_key = has_trns;
      c.key_grey = static_cast<std::uint16_t>(trns.gray & max);
      c.bands = (c.has_key && !grey_bg) ? 3 : 1;
      if (depth <= 8) {
        for (std::uint32_t s = 0; s <= max; ++s) {
          // 1, 2 and 4 bits scale to 0..255 exactly (x 255, 85, 17), as libpng expands them.
          const auto v = static_cast<std::uint8_t>(s * (255 / max));
          const bool clear = c.has_key && s == c.key_grey;
          c.set_lut(s, clear ? bg.r : v, clear ? bg.g : v, clear ? bg.b : v);
        }
      }
      break;
    }
    case SPNG_COLOR_TYPE_TRUECOLOR: {
      const std::uint32_t max = ihdr.bit_depth == 16 ? 0xFFFFu : 0xFFu;
      c.has_key = has_trns;
      c.key_r = static_cast<std::uint16_t>(trns.red & max);
      c.key_g = static_cast<std::uint16_t>(trns.green & max);
      c.key_b = static_cast<std::uint16_t>(trns.blue & max);
      c.bands = 3;
      break;
    }
    case SPNG_COLOR_TYPE_INDEXED: {
      // Indices past the palette are opaque black, as in libpng (its palette is 256 entries,
      // zeroed past the PLTE's); entries past tRNS are opaque.
      spng_plte plte{};
      if (spng_get_plte(ctx, &plte) != 0) plte.n_entries = 0;
      const std::uint32_t n_alpha = has_trns ? std::min<std::uint32_t>(trns.n_type3_entries, 256) : 0;
      for (std::uint32_t i = 0; i < 256; ++i) {
        const bool in_palette = i < plte.n_entries;
        const std::uint8_t r = in_palette ? plte.entries[i].red : 0,
                           g = in_palette ? plte.entries[i].green : 0,
                           b = in_palette ? plte.entries[i].blue : 0;
        const std::uint32_t a = i < n_alpha ? trns.type3_alpha[i] : 255;
        c.set_lut(i, blend(r, a, bg.r), blend(g, a, bg.g), blend(b, a, bg.b));
      }
      c.bands = 3;
      break;
    }
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA:
      c.bands = grey_bg ? 1 : 3;
      break;
    default:
      c.bands = 3;
      break;
  }
  return c;
}

Result<std::optional<PngPixels>> decode(std::string_view bytes, std::uint32_t kx, std::uint32_t ky,
                                        Rgb background) {
  // SPNG_CTX_IGNORE_ADLER32: libspng stops inflating after the last row and never reaches the
  // zlib trailer, so the Adler-32 it would compute over every byte of pixel data is never
  // checked; computing it is pure cost. Each IDAT chunk's CRC-32 is still checked (critical
  // chunks fail on a CRC error, libspng's default). The CRC of ancillary chunks is not skipped
  // (SPNG_CRC_USE): in libspng 0.7.3 that setting also turns off the CRC check of IDAT.
  SpngCtx owner(spng_ctx_new(SPNG_CTX_IGNORE_ADLER32));
  if (!owner) return out_of_memory(SPNG_EMEM);
  spng_ctx* ctx = owner.get();
  if (spng_set_image_limits(ctx, kMaxPngSide, kMaxPngSide) != 0 ||
      spng_set_chunk_limits(ctx, kMaxAncillaryChunkBytes, kMaxAncillaryTotalBytes) != 0 ||
      spng_set_png_buffer(ctx, bytes.data(), bytes.size()) != 0)
    return make_error(ErrorKind::internal, "libspng refused its settings");

  spng_ihdr ihdr{};
  if (int rc = spng_get_ihdr(ctx, &ihdr); rc != 0) {
    if (rc == SPNG_EMEM) return out_of_memory(rc);
    return std::optional<PngPixels>{};
  }
  if (ihdr.interlace_method != SPNG_INTERLACE_NONE) return std::optional<PngPixels>{};
  kx = std::min(kx, ihdr.width);  // a box wider than the image is the image
  ky = std::min(ky, ihdr.height);

  // Every chunk up to the first IDAT: a failure here is in the header chunks, which libvips
  // judges on its own terms.
  if (int rc = spng_decode_chunks(ctx); rc != 0) {
    if (rc == SPNG_EMEM) return out_of_memory(rc);
    return std::optional<PngPixels>{};
  }
  // Sets up the row decoder, which already inflates the first filter byte: from here on every
  // failure is in the image data.
  if (int rc = spng_decode_image(ctx, nullptr, 0, SPNG_FMT_RAW, SPNG_DECODE_PROGRESSIVE); rc != 0)
    return data_error(rc);
  std::size_t raw_len = 0;
  if (int rc = spng_decoded_image_size(ctx, SPNG_FMT_RAW, &raw_len); rc != 0)
    return std::optional<PngPixels>{};
  raw_len /= ihdr.height;

  PngPixels px;
  spng_iccp iccp{};
  if (spng_get_iccp(ctx, &iccp) == 0 && iccp.profile != nullptr && iccp.profile_len > 0)
    px.icc_profile.assign(iccp.profile, iccp.profile_len);

  const RowConverter conv = make_converter(ctx, ihdr, background);
  std::vector<std::uint8_t> raw(raw_len);
  std::vector<std::uint8_t> flat(std::size_t{ihdr.width} * conv.bands);
  BoxAccumulator acc(ihdr.width, ihdr.height, conv.stride(), conv.bands, kx, ky);
  for (std::uint32_t y = 0; y < ihdr.height; ++y) {
    const int rc = spng_decode_row(ctx, raw.data(), raw.size());
    if (rc != 0 && !(rc == SPNG_EOI && y + 1 == ihdr.height)) return data_error(rc);
    acc.add_row(conv.convert(raw.data(), flat.data()));
  }
  // The chunks after the image: this checks the CRC of the last IDAT chunks (and IEND). Other
  // complaints about chunks after the image data concern nothing this path uses.
  if (int rc = spng_decode_chunks(ctx); rc == SPNG_ECHUNK_CRC || rc == SPNG_EMEM) return data_error(rc);

  px.image = acc.finish();
  px.src_width = double(ihdr.width) / kx;
  px.src_height = double(ihdr.height) / ky;
  return std::optional<PngPixels>(std::move(px));
}

}  // namespace

Result<std::optional<PngPixels>> decode_png_shrunk(std::string_view bytes, std::uint32_t kx, std::uint32_t ky,
                                                   Rgb background) {
  kx = std::max(kx, 1u);
  ky = std::max(ky, 1u);
  try {
    return decode(bytes, kx, ky, background);
  } catch (const std::bad_alloc&) {
    return out_of_memory(SPNG_EMEM);
  }
}

}  // namespace thumbflow::imaging
