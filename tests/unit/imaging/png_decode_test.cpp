// The PNG fast path against libvips' own PNG loader (libpng): the same pixels once alpha is
// flattened onto white, and, shrunk while decoding, exactly the box shrink of the full decode.
// Exact where there is no alpha; within one level where alpha is blended, because libvips'
// flatten truncates (a*v + (255-a)*bg) / 255 and this path rounds it.
#include "imaging/png_decode.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>
#include <vips/vips8>

#include "imaging/policy.hpp"
#include "imaging/resample.hpp"
#include "test_support.hpp"

// A namespace of its own: the test files are compiled as one unity source.
namespace thumbflow::imaging::png_decode_test {
namespace {
using vips::VImage;

constexpr Rgb kWhite{255, 255, 255};

std::vector<std::string> corpus_pngs() {
  std::vector<std::string> names;
  for (const auto& path : test::corpus_files())
    if (path.extension() == ".png") names.push_back(path.filename().string());
  return names;
}

PngPixels decode_ok(const std::string& bytes, std::uint32_t kx, std::uint32_t ky, Rgb bg = kWhite) {
  auto r = decode_png_shrunk(bytes, kx, ky, bg);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  if (!r.ok()) return {};
  EXPECT_TRUE(r->has_value()) << "left to libvips";
  if (!r->has_value()) return {};
  return std::move(**r);
}

// libvips' decode as the renderer sees it: alpha flattened onto `bg`, 16-bit to 8-bit as its
// RGB16 -> sRGB conversion does (v >> 8).
VImage libvips_reference(const std::string& bytes, Rgb bg = kWhite) {
  VImage ref = VImage::new_from_buffer(bytes.data(), bytes.size(), "",
                                       VImage::option()->set("fail_on", VIPS_FAIL_ON_ERROR));
  if (ref.has_alpha()) {
    std::vector<double> background{double(bg.r), double(bg.g), double(bg.b)};
    if (ref.bands() == 2) background = {double(bg.r)};
    if (ref.format() == VIPS_FORMAT_USHORT)
      for (double& v : background) v *= 257;
    ref = ref.flatten(VImage::option()->set("background", background));
  }
  if (ref.format() == VIPS_FORMAT_USHORT) ref = (ref >> 8).cast(VIPS_FORMAT_UCHAR);
  return ref;
}

// The largest per-sample difference from libvips' decode (same size and bands required).
double max_diff(const VImage& ref, const Image8& img) {
  EXPECT_EQ(ref.width(), int(img.width));
  EXPECT_EQ(ref.height(), int(img.height));
  EXPECT_EQ(ref.bands(), int(img.bands));
  if (ref.width() != int(img.width) || ref.height() != int(img.height) || ref.bands() != int(img.bands))
    return 1e9;
  VImage mine = VImage::new_from_memory(const_cast<std::uint8_t*>(img.data.data()), img.data.size(),
                                        int(img.width), int(img.height), int(img.bands), VIPS_FORMAT_UCHAR);
  return (ref.cast(VIPS_FORMAT_FLOAT) - mine.cast(VIPS_FORMAT_FLOAT)).abs().max();
}

// --- Small PNGs written byte by byte, for the layouts the corpus lacks. -------------------------

void put_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void chunk(std::string& png, const char* type, const std::string& data) {
  put_be32(png, static_cast<std::uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  png += body;
  put_be32(png, static_cast<std::uint32_t>(
                    ::crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

std::string deflate(const std::string& raw) {
  uLongf len = compressBound(static_cast<uLong>(raw.size()));
  std::string out(len, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &len, reinterpret_cast<const Bytef*>(raw.data()),
                      static_cast<uLong>(raw.size()), 6),
            Z_OK);
  out.resize(len);
  return out;
}

struct PngSpec {
  std::uint32_t width = 0, height = 0;
  int depth = 8, colour = 0;
  std::vector<std::string> rows;  // each row's packed samples, without the filter byte
  std::string plte, trns;
  std::size_t rows_in_idat = SIZE_MAX;  // fewer than height: an IDAT stream that ends early
};

std::string make_png(const PngSpec& s) {
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put_be32(ihdr, s.width);
  put_be32(ihdr, s.height);
  ihdr += static_cast<char>(s.depth);
  ihdr += static_cast<char>(s.colour);
  ihdr += std::string(3, '\0');
  chunk(png, "IHDR", ihdr);
  if (!s.plte.empty()) chunk(png, "PLTE", s.plte);
  if (!s.trns.empty()) chunk(png, "tRNS", s.trns);
  std::string raw;
  for (std::size_t y = 0; y < s.rows.size() && y < s.rows_in_idat; ++y) raw += '\0' + s.rows[y];
  chunk(png, "IDAT", deflate(raw));
  chunk(png, "IEND", "");
  return png;
}

// Packs samples of `depth` bits, most significant first.
std::string pack(const std::vector<unsigned>& samples, int depth) {
  std::string out;
  if (depth == 16) {
    for (unsigned v : samples) out += {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)};
    return out;
  }
  unsigned acc = 0;
  int bits = 0;
  for (unsigned v : samples) {
    acc = (acc << depth) | v;
    bits += depth;
    if (bits == 8) {
      out += static_cast<char>(acc);
      acc = 0;
      bits = 0;
    }
  }
  if (bits > 0) out += static_cast<char>(acc << (8 - bits));
  return out;
}

// A deterministic pseudo-random sample stream.
unsigned next_sample(std::uint32_t& state, unsigned max) {
  state = state * 1664525u + 1013904223u;
  return (state >> 8) % (max + 1);
}

PngSpec random_png(std::uint32_t w, std::uint32_t h, int depth, int colour, int channels,
                   std::uint32_t seed) {
  PngSpec s;
  s.width = w;
  s.height = h;
  s.depth = depth;
  s.colour = colour;
  const unsigned max = (1u << depth) - 1;
  for (std::uint32_t y = 0; y < h; ++y) {
    std::vector<unsigned> samples;
    for (std::uint32_t i = 0; i < w * std::uint32_t(channels); ++i) samples.push_back(next_sample(seed, max));
    s.rows.push_back(pack(samples, depth));
  }
  return s;
}

// Flips one byte inside the data of the n-th IDAT chunk (CRC left as it was).
std::string corrupt_idat(std::string png, int n) {
  std::size_t pos = 8;
  int seen = 0;
  while (pos + 12 <= png.size()) {
    const std::uint32_t len = std::uint32_t(std::uint8_t(png[pos])) << 24 |
                              std::uint32_t(std::uint8_t(png[pos + 1])) << 16 |
                              std::uint32_t(std::uint8_t(png[pos + 2])) << 8 | std::uint8_t(png[pos + 3]);
    if (png.compare(pos + 4, 4, "IDAT") == 0 && seen++ == n) {
      png[pos + 8 + len / 2] = static_cast<char>(png[pos + 8 + len / 2] ^ 0x55);
      return png;
    }
    pos += 12 + len;
  }
  ADD_FAILURE() << "no IDAT number " << n;
  return png;
}

int count_idat(const std::string& png) {
  std::size_t pos = 8;
  int n = 0;
  while (pos + 12 <= png.size()) {
    const std::uint32_t len = std::uint32_t(std::uint8_t(png[pos])) << 24 |
                              std::uint32_t(std::uint8_t(png[pos + 1])) << 16 |
                              std::uint32_t(std::uint8_t(png[pos + 2])) << 8 | std::uint8_t(png[pos + 3]);
    if (png.compare(pos + 4, 4, "IDAT") == 0) ++n;
    pos += 12 + len;
  }
  return n;
}

void expect_corrupt(const std::string& bytes, const std::string& phrase) {
  auto r = decode_png_shrunk(bytes, 1, 1, kWhite);
  ASSERT_FALSE(r.ok()) << "decoded";
  EXPECT_EQ(r.error().kind, ErrorKind::corrupt) << r.error().describe();
  EXPECT_NE(r.error().message.find(phrase), std::string::npos) << r.error().message;
}

}  // namespace

TEST(PngDecode, every_corpus_png_decodes_to_the_pixels_libvips_gives_flattened_onto_white) {
  ASSERT_TRUE(init_imaging().ok());
  const auto names = corpus_pngs();
  ASSERT_GE(names.size(), 10u);
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const std::string& bytes = test::corpus_bytes(name);
    const PngPixels px = decode_ok(bytes, 1, 1);
    const VImage ref = libvips_reference(bytes);
    const VImage raw = VImage::new_from_buffer(bytes.data(), bytes.size(), "");
    // Exact without alpha; blending rounds here and truncates in libvips.
    EXPECT_LE(max_diff(ref, px.image), raw.has_alpha() ? 1.0 : 0.0);
    EXPECT_EQ(px.src_width, double(px.image.width));
    EXPECT_EQ(px.src_height, double(px.image.height));
    if (raw.get_typeof(VIPS_META_ICC_NAME) != 0) {
      const void* data = nullptr;
      std::size_t len = 0;
      ASSERT_EQ(vips_image_get_blob(raw.get_image(), VIPS_META_ICC_NAME, &data, &len), 0);
      EXPECT_EQ(px.icc_profile, std::string(static_cast<const char*>(data), len));
    } else {
      EXPECT_TRUE(px.icc_profile.empty());
    }
  }
}

TEST(PngDecode, shrinking_while_decoding_equals_box_shrink_of_the_full_decode_and_the_same_lanczos_result) {
  ASSERT_TRUE(init_imaging().ok());
  for (const auto& name : corpus_pngs()) {
    SCOPED_TRACE(name);
    const std::string& bytes = test::corpus_bytes(name);
    const PngPixels full = decode_ok(bytes, 1, 1);
    // Unoptimised sanitizer builds take seconds per 15 MP decode; the small files cover the code.
    if (test::kAddressSanitizer && std::size_t{full.image.width} * full.image.height > 4'000'000) continue;
    // The factors of a 128x128 thumbnail (aspect kept), and odd ones that leave partial boxes.
    const double scale = std::min(128.0 / full.image.width, 128.0 / full.image.height);
    const auto out_w = static_cast<std::uint32_t>(std::max(1.0, std::round(full.image.width * scale)));
    const auto out_h = static_cast<std::uint32_t>(std::max(1.0, std::round(full.image.height * scale)));
    const std::uint32_t kx = box_factor(full.image.width, out_w), ky = box_factor(full.image.height, out_h);
    for (auto [fx, fy] : {std::pair{kx, ky}, std::pair{3u, 7u}}) {
      SCOPED_TRACE(std::to_string(fx) + "x" + std::to_string(fy));
      const PngPixels small = decode_ok(bytes, fx, fy);
      const Image8 expected = box_shrink(full.image, fx, fy);
      EXPECT_EQ(small.image.width, expected.width);
      EXPECT_EQ(small.image.height, expected.height);
      EXPECT_EQ(small.image.bands, expected.bands);
      EXPECT_TRUE(small.image.data == expected.data);
      EXPECT_DOUBLE_EQ(small.src_width, double(full.image.width) / fx);
      EXPECT_DOUBLE_EQ(small.src_height, double(full.image.height) / fy);
    }
    const PngPixels small = decode_ok(bytes, kx, ky);
    const Image8 via_decoder =
        resample_lanczos3(small.image, small.src_width, small.src_height, out_w, out_h);
    const Image8 via_resampler = resample_lanczos3(full.image, full.src_width, full.src_height, out_w, out_h);
    EXPECT_TRUE(via_decoder.data == via_resampler.data);
  }
}

TEST(PngDecode, palette_with_trns_is_flattened_as_libpng_expands_it) {
  ASSERT_TRUE(init_imaging().ok());
  for (int depth : {1, 2, 4, 8}) {
    SCOPED_TRACE(depth);
    const unsigned entries = 1u << depth;
    PngSpec s = random_png(37, 11, depth, 3, 1, 7u + unsigned(depth));
    for (unsigned i = 0; i < entries; ++i) {
      s.plte += {static_cast<char>(i * 53), static_cast<char>(255 - i * 31), static_cast<char>(i * 97)};
      if (i + 1 < entries) s.trns += static_cast<char>(i * 71);  // the last entry stays opaque
    }
    const std::string png = make_png(s);
    const PngPixels px = decode_ok(png, 1, 1);
    EXPECT_EQ(px.image.bands, 3u);
    EXPECT_LE(max_diff(libvips_reference(png), px.image), 1.0);
    const Rgb teal{0, 128, 128};
    EXPECT_LE(max_diff(libvips_reference(png, teal), decode_ok(png, 1, 1, teal).image), 1.0);
  }
}

TEST(PngDecode, grey_of_1_2_4_and_8_bits_scales_to_0_255_and_stays_one_band) {
  ASSERT_TRUE(init_imaging().ok());
  for (int depth : {1, 2, 4, 8}) {
    SCOPED_TRACE(depth);
    const std::string png = make_png(random_png(29, 13, depth, 0, 1, 100u + unsigned(depth)));
    const PngPixels px = decode_ok(png, 1, 1);
    EXPECT_EQ(px.image.bands, 1u);
    EXPECT_EQ(max_diff(libvips_reference(png), px.image), 0.0);
    EXPECT_TRUE(decode_ok(png, 2, 3).image.data == box_shrink(px.image, 2, 3).data);
  }
}

TEST(PngDecode, grey_and_rgb_with_trns_make_that_colour_the_background) {
  ASSERT_TRUE(init_imaging().ok());
  for (int depth : {1, 2, 4, 8, 16}) {
    SCOPED_TRACE(depth);
    PngSpec s = random_png(31, 9, depth, 0, 1, 200u + unsigned(depth));
    const unsigned key = depth == 16 ? 0x1234 : (1u << depth) / 2;
    s.rows[0] = pack(std::vector<unsigned>(31, key), depth);  // make sure the key occurs
    s.trns = std::string{static_cast<char>(key >> 8), static_cast<char>(key & 0xFF)};
    const std::string png = make_png(s);
    const PngPixels white = decode_ok(png, 1, 1);
    EXPECT_EQ(white.image.bands, 1u);  // a grey background keeps grey grey
    EXPECT_EQ(white.image.data[0], 255);
    EXPECT_EQ(max_diff(libvips_reference(png), white.image), 0.0);
    const Rgb orange{255, 128, 0};
    const PngPixels coloured = decode_ok(png, 1, 1, orange);
    ASSERT_EQ(coloured.image.bands, 3u);
    EXPECT_EQ(coloured.image.data[0], 255);
    EXPECT_EQ(coloured.image.data[1], 128);
    EXPECT_EQ(coloured.image.data[2], 0);
  }
  for (int depth : {8, 16}) {
    SCOPED_TRACE("rgb " + std::to_string(depth));
    PngSpec s = random_png(23, 7, depth, 2, 3, 300u + unsigned(depth));
    const std::vector<unsigned> key =
        depth == 16 ? std::vector<unsigned>{0x1111, 0x2222, 0x3333} : std::vector<unsigned>{17, 34, 51};
    std::vector<unsigned> row;
    for (int x = 0; x < 23; ++x) row.insert(row.end(), key.begin(), key.end());
    s.rows[3] = pack(row, depth);
    s.trns = pack(key, 16);
    const std::string png = make_png(s);
    const PngPixels px = decode_ok(png, 1, 1);
    EXPECT_EQ(max_diff(libvips_reference(png), px.image), 0.0);
    EXPECT_EQ(px.image.data[3 * 23 * 3], 255);
  }
}

TEST(PngDecode, sixteen_bit_keeps_the_high_byte_and_alpha_blends_within_a_level_of_libvips) {
  ASSERT_TRUE(init_imaging().ok());
  // grey, RGB (exact: v >> 8 as libvips' RGB16 -> sRGB), grey+alpha and RGBA (blended from the
  // high bytes here, in 16 bits by libvips).
  for (auto [colour, channels] : {std::pair{0, 1}, std::pair{2, 3}, std::pair{4, 2}, std::pair{6, 4}}) {
    SCOPED_TRACE(colour);
    const std::string png = make_png(random_png(19, 17, 16, colour, channels, 400u + unsigned(colour)));
    const PngPixels px = decode_ok(png, 1, 1);
    EXPECT_EQ(px.image.bands, colour == 0 || colour == 4 ? 1u : 3u);
    EXPECT_LE(max_diff(libvips_reference(png), px.image), colour >= 4 ? 1.0 : 0.0);
  }
  // 8-bit grey+alpha over a coloured background becomes RGB: libvips made RGBA, then flattened.
  const std::string ga = make_png(random_png(19, 17, 8, 4, 2, 500u));
  const Rgb teal{0, 128, 128};
  const PngPixels px = decode_ok(ga, 1, 1, teal);
  EXPECT_EQ(px.image.bands, 3u);
  const VImage rgba = VImage::new_from_buffer(ga.data(), ga.size(), "").colourspace(VIPS_INTERPRETATION_sRGB);
  ASSERT_EQ(rgba.bands(), 4);
  EXPECT_LE(
      max_diff(rgba.flatten(VImage::option()->set("background", std::vector<double>{0, 128, 128})), px.image),
      1.0);
}

TEST(PngDecode, a_truncated_or_short_image_data_stream_fails_as_truncated_png_data) {
  const std::string& camera = test::corpus_bytes("skimage_camera.png");
  expect_corrupt(camera.substr(0, camera.size() * 6 / 10), "truncated png data");
  PngSpec s = random_png(40, 30, 8, 2, 3, 600u);
  s.rows_in_idat = 20;
  expect_corrupt(make_png(s), "truncated png data");
}

TEST(PngDecode, a_crc_error_in_any_idat_or_a_damaged_zlib_stream_fails_as_corrupt_png_data) {
  const std::string& camera = test::corpus_bytes("skimage_camera.png");
  const int n = count_idat(camera);
  ASSERT_GT(n, 2);
  for (int i : {0, n / 2, n - 1}) {
    SCOPED_TRACE(i);
    expect_corrupt(corrupt_idat(camera, i), "corrupt png data");
  }
  // Valid chunk CRCs around a zlib stream that is not one.
  PngSpec s = random_png(16, 16, 8, 0, 1, 700u);
  std::string png = make_png(s);
  const std::size_t idat = png.find("IDAT");
  png[idat + 4 + 2] = static_cast<char>(0xFF);  // first deflate block header: invalid block type
  png[idat + 4 + 3] = static_cast<char>(0xFF);
  const std::uint32_t len =
      std::uint32_t(std::uint8_t(png[idat - 1])) | std::uint32_t(std::uint8_t(png[idat - 2])) << 8;
  const std::uint32_t crc =
      static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(png.data() + idat), len + 4));
  for (int b = 0; b < 4; ++b)
    png[idat + 4 + len + std::size_t(b)] = static_cast<char>((crc >> (24 - 8 * b)) & 0xFF);
  expect_corrupt(png, "corrupt png data");
  auto r = decode_png_shrunk(png, 1, 1, kWhite);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("("), std::string::npos) << "libspng's message in parentheses";
}

TEST(PngDecode, interlaced_files_are_left_to_libvips) {
  ASSERT_TRUE(init_imaging().ok());
  VImage img = VImage::new_from_buffer(test::corpus_bytes("skimage_coins.png").data(),
                                       test::corpus_bytes("skimage_coins.png").size(), "");
  void* buf = nullptr;
  std::size_t len = 0;
  ASSERT_EQ(vips_pngsave_buffer(img.get_image(), &buf, &len, "interlace", TRUE, nullptr), 0);
  const std::string png(static_cast<const char*>(buf), len);
  g_free(buf);
  auto r = decode_png_shrunk(png, 2, 2, kWhite);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_FALSE(r->has_value());
}

TEST(PngDecode, damaged_files_never_crash_and_fail_naming_png_or_go_to_libvips) {
  // Every cut and a spread of byte flips of two small corpus files: each either decodes, is
  // left to libvips, or fails with a png message; nothing crashes (ASan builds check reads).
  for (const char* name : {"skimage_coins.png", "skimage_logo.png"}) {
    const std::string& bytes = test::corpus_bytes(name);
    std::vector<std::string> cases;
    for (std::size_t cut = 0; cut < bytes.size(); cut += std::max<std::size_t>(1, bytes.size() / 97))
      cases.push_back(bytes.substr(0, cut));
    for (std::size_t at = 8; at < bytes.size(); at += std::max<std::size_t>(1, bytes.size() / 151)) {
      std::string b = bytes;
      b[at] = static_cast<char>(b[at] ^ 0xA5);
      cases.push_back(std::move(b));
    }
    for (const auto& c : cases) {
      auto r = decode_png_shrunk(c, 3, 3, kWhite);
      if (!r.ok()) {
        EXPECT_NE(r.error().message.find("png"), std::string::npos) << r.error().message;
      }
    }
  }
}

}  // namespace thumbflow::imaging::png_decode_test
