#include "hostile_corpus.hpp"

#include <array>
#include <stdexcept>

#include "test_support.hpp"

namespace thumbflow::test::hostile {
namespace {

void put_be16(std::string& s, std::uint32_t v) {
  s.push_back(static_cast<char>((v >> 8) & 0xFF));
  s.push_back(static_cast<char>(v & 0xFF));
}
void put_be32(std::string& s, std::uint32_t v) {
  put_be16(s, v >> 16);
  put_be16(s, v & 0xFFFF);
}
void put_le16(std::string& s, std::uint32_t v) {
  s.push_back(static_cast<char>(v & 0xFF));
  s.push_back(static_cast<char>((v >> 8) & 0xFF));
}
void put_le32(std::string& s, std::uint32_t v) {
  put_le16(s, v & 0xFFFF);
  put_le16(s, v >> 16);
}
void set_be16(std::string& s, std::size_t at, std::uint32_t v) {
  s[at] = static_cast<char>((v >> 8) & 0xFF);
  s[at + 1] = static_cast<char>(v & 0xFF);
}
void set_be32(std::string& s, std::size_t at, std::uint32_t v) {
  set_be16(s, at, v >> 16);
  set_be16(s, at + 2, v & 0xFFFF);
}
std::uint32_t be16_at(const std::string& s, std::size_t at) {
  return std::uint32_t{static_cast<unsigned char>(s[at])} << 8 | static_cast<unsigned char>(s[at + 1]);
}

std::uint32_t crc32(std::string_view data) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) c = table[(c ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::uint32_t adler32(std::string_view data) {
  std::uint32_t a = 1, b = 0;
  for (char ch : data) {
    const auto c = static_cast<unsigned char>(ch);
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  return b << 16 | a;
}

void png_chunk(std::string& out, const char* type, const std::string& data) {
  put_be32(out, static_cast<std::uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  out += body;
  put_be32(out, crc32(body));
}

// zlib stream of stored (uncompressed) deflate blocks: no compressor needed, still valid.
std::string zlib_stored(const std::string& raw) {
  std::string z = "\x78\x01";
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min<std::size_t>(raw.size() - pos, 65535);
    const bool last = pos + n == raw.size();
    z.push_back(last ? '\x01' : '\x00');
    put_le16(z, static_cast<std::uint32_t>(n));
    put_le16(z, static_cast<std::uint32_t>(~n & 0xFFFF));
    z.append(raw, pos, n);
    pos += n;
  } while (pos < raw.size());
  put_be32(z, adler32(raw));
  return z;
}

// JPEG entropy-coded data, MSB first, 0xFF bytes stuffed, the last byte padded with ones.
class JpegBits {
 public:
  void put(std::uint32_t value, int bits) {
    for (int i = bits - 1; i >= 0; --i) {
      acc_ = static_cast<std::uint8_t>(static_cast<std::uint32_t>(acc_) << 1u | ((value >> static_cast<unsigned>(i)) & 1u));
      if (++n_ == 8) flush_byte();
    }
  }
  // n zero bits, fast (a DC scan of a huge image is millions of them).
  void zeros(std::size_t n) {
    while (n > 0 && n_ != 0) {
      put(0, 1);
      --n;
    }
    out_.append(n / 8, '\0');
    for (std::size_t i = 0; i < n % 8; ++i) put(0, 1);
  }
  std::string finish() {
    while (n_ != 0) put(1, 1);
    return std::move(out_);
  }

 private:
  void flush_byte() {
    out_.push_back(static_cast<char>(acc_));
    if (acc_ == 0xFF) out_.push_back('\0');
    acc_ = 0;
    n_ = 0;
  }
  std::string out_;
  std::uint8_t acc_ = 0;
  int n_ = 0;
};

void jpeg_segment(std::string& out, unsigned marker, const std::string& body) {
  out.push_back('\xFF');
  out.push_back(static_cast<char>(marker));
  put_be16(out, static_cast<std::uint32_t>(body.size() + 2));
  out += body;
}

// SOI, a flat quantisation table, a one-component frame header (SOF0 or SOF2).
std::string jpeg_head(unsigned sof, std::uint32_t w, std::uint32_t h) {
  std::string out = "\xFF\xD8";
  jpeg_segment(out, 0xDB, std::string(1, '\0') + std::string(64, '\x01'));
  std::string frame;
  frame.push_back(8);  // precision
  put_be16(frame, h);
  put_be16(frame, w);
  frame += std::string("\x01\x01\x11\x00", 4);  // one component: id 1, 1x1 sampling, table 0
  jpeg_segment(out, sof, frame);
  return out;
}

// A Huffman table given as (code length, symbols of that length) pairs.
void jpeg_huffman(std::string& out, unsigned class_id, const std::vector<std::pair<int, std::string>>& codes) {
  std::string body(1, static_cast<char>(class_id));
  std::string counts(16, '\0'), symbols;
  for (const auto& [len, syms] : codes) {
    counts[static_cast<std::size_t>(len - 1)] = static_cast<char>(syms.size());
    symbols += syms;
  }
  jpeg_segment(out, 0xC4, body + counts + symbols);
}

void jpeg_scan_header(std::string& out, unsigned ss, unsigned se, unsigned ah, unsigned al) {
  std::string sos = std::string("\x01\x01\x00", 3);
  sos.push_back(static_cast<char>(ss));
  sos.push_back(static_cast<char>(se));
  sos.push_back(static_cast<char>(ah << 4 | al));
  jpeg_segment(out, 0xDA, sos);
}

std::size_t blocks_of(std::uint32_t w, std::uint32_t h) {
  return std::size_t{(w + 7) / 8} * std::size_t{(h + 7) / 8};
}

// End-of-band runs covering `blocks` blocks: symbol 0xR0 (4-bit code R) then R extra bits,
// a run of 2^R + extra blocks, at most 32767 per symbol.
std::string eob_runs(std::size_t blocks) {
  JpegBits bits;
  while (blocks > 0) {
    const std::size_t run = std::min<std::size_t>(blocks, 32767);
    int r = 0;
    while ((std::size_t{2} << r) <= run) ++r;
    bits.put(static_cast<std::uint32_t>(r), 4);
    if (r > 0) bits.put(static_cast<std::uint32_t>(run - (std::size_t{1} << r)), r);
    blocks -= run;
  }
  return bits.finish();
}

std::string gif_header(std::uint16_t w, std::uint16_t h) {
  std::string g = "GIF89a";
  put_le16(g, w);
  put_le16(g, h);
  g += std::string("\x80\x00\x00", 3);              // a global colour table of 2 entries
  g += std::string("\x00\x00\x00\xFF\xFF\xFF", 6);  // black, white
  return g;
}

// One 1x1 frame at (x, y) of colour 0: LZW minimum code size 2, codes clear(4) 0 end(5) in
// 3 bits each, packed LSB first: 0x44 0x01.
void gif_pixel_frame(std::string& g, std::uint16_t x, std::uint16_t y) {
  g.push_back(',');
  put_le16(g, x);
  put_le16(g, y);
  put_le16(g, 1);
  put_le16(g, 1);
  g.push_back('\0');
  g += std::string("\x02\x02\x44\x01\x00", 5);
}

// Where each format's header ends: the cut that leaves the header and no image data.
std::size_t header_end(const std::string& b, const std::string& format) {
  if (format == "jpeg") {
    const std::size_t sos = b.find("\xFF\xDA");
    if (sos == std::string::npos) throw std::runtime_error("no SOS in a corpus JPEG");
    return sos + 2 + be16_at(b, sos + 2);
  }
  if (format == "png") return 8 + 25;  // signature + IHDR chunk
  if (format == "gif") {
    const auto packed = static_cast<unsigned char>(b[10]);
    return 13 + ((packed & 0x80) ? 3u * (2u << (packed & 7u)) : 0u);
  }
  if (format == "webp") return 30;  // RIFF header, chunk header, VP8 frame header
  if (format == "tiff") return 8;   // byte order, magic and the first IFD's offset, past the end
  if (format == "avif") {
    const std::size_t mdat = b.find("mdat");
    if (mdat == std::string::npos) throw std::runtime_error("no mdat in a corpus AVIF");
    return mdat + 4;  // every box before the media data, and the media data box's header
  }
  throw std::runtime_error("no header rule for " + format);
}

std::string minimal_zip(const std::string& name, const std::string& content) {
  const std::uint32_t crc = crc32(content);
  std::string local = "PK\x03\x04";
  put_le16(local, 10);  // version needed
  put_le16(local, 0);   // flags
  put_le16(local, 0);   // stored
  put_le32(local, 0);   // time, date
  put_le32(local, crc);
  put_le32(local, static_cast<std::uint32_t>(content.size()));
  put_le32(local, static_cast<std::uint32_t>(content.size()));
  put_le16(local, static_cast<std::uint32_t>(name.size()));
  put_le16(local, 0);
  local += name + content;
  std::string central = "PK\x01\x02";
  put_le16(central, 20);
  put_le16(central, 10);
  put_le16(central, 0);
  put_le16(central, 0);
  put_le32(central, 0);
  put_le32(central, crc);
  put_le32(central, static_cast<std::uint32_t>(content.size()));
  put_le32(central, static_cast<std::uint32_t>(content.size()));
  put_le16(central, static_cast<std::uint32_t>(name.size()));
  put_le16(central, 0);  // extra
  put_le16(central, 0);  // comment
  put_le16(central, 0);  // disk
  put_le16(central, 0);  // internal attributes
  put_le32(central, 0);  // external attributes
  put_le32(central, 0);  // local header offset (relative to the zip's start)
  central += name;
  std::string end = "PK\x05\x06";
  put_le16(end, 0);
  put_le16(end, 0);
  put_le16(end, 1);
  put_le16(end, 1);
  put_le32(end, static_cast<std::uint32_t>(central.size()));
  put_le32(end, static_cast<std::uint32_t>(local.size()));
  put_le16(end, 0);
  return local + central + end;
}

std::string minimal_pdf() {
  // A one-page PDF that draws a rectangle: what poppler would render if the policy let it.
  std::string objs[] = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
      "<< /Length 24 >>\nstream\n0 0 1 rg 10 10 100 100 re f\nendstream",
  };
  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < 4; ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 5\n0000000000 65535 f \n";
  for (std::size_t off : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

std::string billion_laughs_svg() {
  std::string s = "<?xml version=\"1.0\"?>\n<!DOCTYPE svg [\n<!ENTITY lol \"lol\">\n";
  std::string prev = "lol";
  for (int i = 1; i <= 9; ++i) {
    std::string name = "lol" + std::to_string(i);
    s += "<!ENTITY " + name + " \"";
    for (int k = 0; k < 10; ++k) s += "&" + prev + ";";
    s += "\">\n";
    prev = name;
  }
  s += "]>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"100\"><text>&lol9;</text></svg>\n";
  return s;
}

}  // namespace

std::string png_image(std::uint32_t w, std::uint32_t h, std::uint8_t grey) {
  std::string png = "\x89PNG\r\n\x1A\n";
  std::string ihdr;
  put_be32(ihdr, w);
  put_be32(ihdr, h);
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit greyscale, deflate, no filter, no interlace
  png_chunk(png, "IHDR", ihdr);
  std::string raw;
  raw.reserve(std::size_t{h} * (w + 1));
  for (std::uint32_t y = 0; y < h; ++y) {
    raw.push_back('\0');  // filter type none
    raw.append(w, static_cast<char>(grey));
  }
  png_chunk(png, "IDAT", zlib_stored(raw));
  png_chunk(png, "IEND", "");
  return png;
}

std::string png_declaring(std::uint32_t w, std::uint32_t h) {
  std::string png = png_image(8, 8);
  // Signature (8) + IHDR length (4) + "IHDR" (4): width at 16, height at 20, CRC at 29.
  set_be32(png, 16, w);
  set_be32(png, 20, h);
  set_be32(png, 29, crc32(std::string_view(png).substr(12, 17)));
  return png;
}

std::string jpeg_image(std::uint32_t w, std::uint32_t h) {
  std::string out = jpeg_head(0xC0, w, h);
  jpeg_huffman(out, 0x00, {{1, std::string(1, '\0')}});  // DC: category 0 only, code "0"
  jpeg_huffman(out, 0x10, {{1, std::string(1, '\0')}});  // AC: end of block only, code "0"
  jpeg_scan_header(out, 0, 63, 0, 0);
  JpegBits bits;
  bits.zeros(2 * blocks_of(w, h));  // every block: DC difference 0, end of block
  out += bits.finish();
  out += "\xFF\xD9";
  return out;
}

std::string jpeg_declaring(std::uint32_t w, std::uint32_t h) {
  std::string jpg = jpeg_image(8, 8);
  const std::size_t sof = jpg.find("\xFF\xC0");
  set_be16(jpg, sof + 5, h);
  set_be16(jpg, sof + 7, w);
  return jpg;
}

int progressive_jpeg_scans() { return 1 + 63 * 14; }

std::string progressive_jpeg(std::uint32_t w, std::uint32_t h, int scans) {
  if (scans < 1 || scans > progressive_jpeg_scans()) throw std::invalid_argument("progressive_jpeg: 1..883 scans");
  const std::size_t blocks = blocks_of(w, h);
  std::string out = jpeg_head(0xC2, w, h);
  jpeg_huffman(out, 0x00, {{1, std::string(1, '\0')}});
  std::string eob_symbols;
  for (int r = 0; r <= 14; ++r) eob_symbols.push_back(static_cast<char>(r << 4));
  jpeg_huffman(out, 0x10, {{4, eob_symbols}});  // EOB0..EOB14, 4-bit codes 0..14
  jpeg_scan_header(out, 0, 0, 0, 0);
  JpegBits dc;
  dc.zeros(blocks);
  out += dc.finish();
  const std::string runs = eob_runs(blocks);  // the same for every AC scan, first or refinement
  int written = 1;
  for (unsigned k = 1; k <= 63 && written < scans; ++k) {
    for (unsigned a = 14; a >= 1 && written < scans; --a, ++written) {
      // a == 14: the band's first scan (Ah 0, Al 13); then refinements Ah a, Al a - 1.
      if (a == 14) jpeg_scan_header(out, k, k, 0, 13);
      else jpeg_scan_header(out, k, k, a, a - 1);
      out += runs;
    }
  }
  out += "\xFF\xD9";
  return out;
}

std::string gif_animation(std::uint32_t frames, std::uint16_t screen_w, std::uint16_t screen_h) {
  std::string g = gif_header(screen_w, screen_h);
  g.reserve(g.size() + std::size_t{frames} * 16 + 1);
  for (std::uint32_t i = 0; i < frames; ++i)
    gif_pixel_frame(g, static_cast<std::uint16_t>(i % screen_w), static_cast<std::uint16_t>((i / screen_w) % screen_h));
  g.push_back(';');
  return g;
}

std::vector<Case> corpus() {
  std::vector<Case> cases;
  auto add = [&](std::string name, std::string ext, std::string bytes, std::optional<ErrorKind> kind, std::string phrase,
                 std::string why) {
    cases.push_back(Case{name, "uploads/hostile/" + name + ext, std::move(bytes), kind, std::move(phrase), std::move(why)});
  };
  const auto unsupported = ErrorKind::unsupported_format;
  const auto corrupt = ErrorKind::corrupt;
  const auto too_large = ErrorKind::too_large;

  add("zero_bytes", ".jpg", "", unsupported, "empty file (0 bytes)", "no data is no image");
  add("text_named_jpg", ".jpg", "Dear reviewer,\nthis is a text file, not a photo.\n", unsupported, "not an image",
      "the name claims JPEG, the first bytes say text");
  add("mvg_script_named_png", ".png",
      "push graphic-context\nviewbox 0 0 640 480\nfill 'url(https://127.0.0.1:1/x.jpg\"|touch \"/tmp/tf-pwned)'\n"
      "image over 0,0 0,0 'ephemeral:/etc/passwd'\npop graphic-context\n",
      unsupported, "not an image", "an ImageMagick script (ImageTragick): ImageMagick is never loaded");
  add("svg_external_references", ".png",
      "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
      "width=\"64\" height=\"64\">\n<image xlink:href=\"file:///etc/passwd\" width=\"64\" height=\"64\"/>\n"
      "<image href=\"http://127.0.0.1:1/probe.png\" width=\"64\" height=\"64\"/>\n"
      "<use xlink:href=\"http://127.0.0.1:1/defs.svg#x\"/>\n</svg>\n",
      unsupported, "svg input is refused by the imaging policy",
      "SVG is refused from its first bytes, so librsvg never fetches file:// or http://");
  add("svg_entity_bomb", ".svg", billion_laughs_svg(), unsupported, "svg input is refused by the imaging policy",
      "billion laughs: refused before any XML parser expands an entity");
  add("pdf_named_jpg", ".jpg", minimal_pdf(), unsupported, "pdf input is refused by the imaging policy",
      "a document, not an image: poppler is not loaded");

  // Declarations over the limits, from the header alone.
  add("png_declares_30000x30000", ".png", png_declaring(30000, 30000), too_large, "30000x30000",
      "900 MP (2.7 GB decoded) declared in a few hundred bytes: over max_pixels");
  add("jpeg_declares_30000x30000", ".jpg", jpeg_declaring(30000, 30000), too_large, "30000x30000",
      "900 MP declared in a few hundred bytes: over max_pixels");
  add("gif_10000_frames", ".gif", gif_animation(10000, 1000, 1000), too_large, "10000 frames",
      "10,000 frames on a 1000x1000 screen (10 GP composited naively) in 160 KB: over max_frames");
  add("progressive_jpeg_600mp", ".jpg", progressive_jpeg(24000, 25000), too_large, "24000x25000",
      "a whole progressive file of 600 MP and 883 scans: its coefficient buffer alone would be 1.2 GB; over max_pixels");
  add("progressive_jpeg_883_scans", ".jpg", progressive_jpeg(4000, 4000), too_large, "883 scans",
      "16 MP within max_pixels, but 883 scans: a decoder that runs them all makes 883 passes over 250,000 blocks; "
      "over max_jpeg_scans");

  // Polyglots.
  add("jpeg_with_zip_appended", ".jpg", jpeg_image(64, 48) + minimal_zip("payload.txt", "PAYLOAD-ZIP-CONTENT"),
      std::nullopt, "", "a whole JPEG first: the ZIP after EOI is never read and never reaches the thumbnail");
  add("png_with_trailing_html", ".png",
      png_image(40, 30) + "<html><body><script>alert('PAYLOAD-HTML')</script></body></html>\n", std::nullopt, "",
      "a whole PNG first: bytes after IEND are never read and never reach the thumbnail");
  {
    // GIF/JavaScript: the screen width's bytes "/*" open a JavaScript comment that the bytes
    // after the trailer close; as JavaScript the file is `GIF89a/*...*/=alert(1);`.
    std::string g = gif_header(0x2A2F, 1);  // 10799 x 1: "/*" as a little-endian width
    gif_pixel_frame(g, 0, 0);
    g += ";*/=alert('PAYLOAD-JS');\n";
    add("gif_javascript_polyglot", ".gif", std::move(g), std::nullopt, "",
        "a whole GIF (10799x1, within the limits): the script is only the screen width's bytes and a tail");
  }
  add("html_then_png", ".png", "<html><!-- " + png_image(16, 16) + " --></html>\n", unsupported, "not an image",
      "starts as HTML: what the first bytes are decides, an image inside does not make it one");
  add("zip_holding_jpeg", ".jpg", minimal_zip("photo.jpg", jpeg_image(16, 16)), unsupported, "not an image",
      "a ZIP archive (a JAR, an office file) with a JPEG inside is an archive");
  add("pdf_then_jpeg", ".jpg", minimal_pdf() + jpeg_image(16, 16), unsupported,
      "pdf input is refused by the imaging policy", "starts as a PDF: refused like any PDF");

  // Truncations of a real file of every format in the shared corpus, at three cut points: the
  // header alone, half the file, and one byte short of the end.
  struct Source {
    const char* file;
    const char* label;
    const char* format;
  };
  const Source sources[] = {
      {"plasma_FallenLeaf_screenshot.jpg", "jpeg_baseline", "jpeg"},
      {"mate_FreshFlower.jpg", "jpeg_progressive", "jpeg"},
      {"plasma_Grey_2560x1600.jpg", "jpeg_grey", "jpeg"},
      {"skimage_coins.png", "png_grey", "png"},
      {"skimage_logo.png", "png_rgba", "png"},
      {"debian_spacefun_background.png", "png_palette", "png"},
      {"skimage_no_time_for_that_tiny.gif", "gif_animated", "gif"},
      {"syn_photo_skimage_chelsea.gif", "gif_photo", "gif"},
      {"syn_photo_mate_RainDrops.webp", "webp_lossy", "webp"},
      {"skimage_chessboard_GRAY_U16.tif", "tiff_grey16", "tiff"},
      {"syn_lzw_mate_TwoWings.tif", "tiff_lzw", "tiff"},
      {"syn_jpegtiff_l16_friends.tif", "tiff_jpeg_tiled", "tiff"},
      {"syn_photo_mate_Blinds.avif", "avif", "avif"},
  };
  for (const Source& s : sources) {
    const std::string& whole = corpus_bytes(s.file);
    const std::string ext = std::string(".") + (std::string(s.format) == "jpeg" ? "jpg" : s.format);
    const std::pair<const char*, std::size_t> cuts[] = {
        {"header_only", header_end(whole, s.format)}, {"half", whole.size() / 2}, {"one_byte_short", whole.size() - 1}};
    for (const auto& [cut_name, at] : cuts) {
      add(std::string("truncated_") + s.label + "_" + cut_name, ext, whole.substr(0, at), corrupt,
          "truncated " + std::string(s.format),
          std::string("the first ") + std::to_string(at) + " of " + std::to_string(whole.size()) + " bytes of " + s.file +
              ": a thumbnail is never made from part of a file");
    }
  }
  add("truncated_jpeg_from_skimage", ".jpg", corpus_bytes("skimage_truncated.jpg"), corrupt, "truncated jpeg",
      "scikit-image's own truncated JPEG sample");
  return cases;
}

}  // namespace thumbflow::test::hostile
