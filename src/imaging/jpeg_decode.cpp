#include "imaging/jpeg_decode.hpp"

#include "imaging/exif_fields.hpp"

// clang-format off
#include <cstdio>  // jpeglib.h uses FILE and size_t without including their headers
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <libexif/exif-data.h>

#include <algorithm>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <utility>

namespace thumbflow::imaging {
namespace {

// libjpeg reports through error_exit, which must not return: it jumps back to the frame that
// called setjmp. That frame (decode_frame below) holds no object with a destructor, so the jump
// skips nothing; everything with a destructor lives in the caller.
struct ErrorManager {
  jpeg_error_mgr pub{};
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX] = {};
  int code = 0;
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  err->code = cinfo->err->msg_code;
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Policy: a warning is a failure. libjpeg warns for data it can skip over (a premature end, a
// bad Huffman code, extraneous bytes); libvips with fail_on=error fails on the first one too, and
// a thumbnail made from damaged data is what this project refuses to make.
void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) on_error(cinfo);
}

// Which rows (and, the same set, columns) of an 8x8 coefficient block libjpeg-turbo 2.1's
// scaled inverse DCTs read, by output block size. jidctred.c: the 1x1 IDCT reads the DC alone;
// the 2x2 one reads rows and columns 0, 1, 3, 5 and 7; the 4x4 one every row and column but 4.
// Any other size (8x8 and the uncommon 3, 5, 6, 7) is taken to read all 64.
bool idct_reads(int size, int index) {
  switch (size) {
    case 1: return index == 0;
    case 2: return index == 0 || index == 1 || index == 3 || index == 5 || index == 7;
    case 4: return index != 4;
    default: return true;
  }
}

// In progressive mode coef_bits[c][k] is the precision still missing from coefficient k of
// component c (the Al of the last scan that carried it), -1 before any. The scaled output is
// final once every coefficient its IDCT reads is at full precision (0) in every component:
// later scans refine only coefficients the IDCT never reads.
bool needed_coefficients_complete(const jpeg_decompress_struct& cinfo) {
  for (int c = 0; c < cinfo.num_components; ++c) {
    const int size = cinfo.comp_info[c].DCT_scaled_size;
    for (int k = 0; k < DCTSIZE2; ++k) {
      if (idct_reads(size, k / DCTSIZE) && idct_reads(size, k % DCTSIZE) && cinfo.coef_bits[c][k] != 0) return false;
    }
  }
  return true;
}

enum class Outcome { decoded, fallback, failed };

// What the setjmp frame reports back; plain data only.
struct FrameResult {
  int scans = 0;
  std::size_t consumed = 0;   // bytes libjpeg read
  int pending_marker = 0;     // a marker code libjpeg read but did not process
  bool stopped_early = false; // a progressive file whose remaining scans were not decoded
  int components = 0;
  bool oom = false;
};

// The setjmp frame: no C++ object with a destructor is created here.
Outcome decode_frame(const unsigned char* data, std::size_t size, int shrink, JpegPixels& out, ErrorManager& err,
                     FrameResult& fr) {
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  if (setjmp(err.jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return Outcome::failed;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xFFFF);  // ICC profile chunks
  jpeg_read_header(&cinfo, TRUE);

  switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
      cinfo.out_color_space = JCS_GRAYSCALE;
      out.colour = JpegColour::grey;
      break;
    case JCS_YCbCr:
    case JCS_RGB:
      cinfo.out_color_space = JCS_RGB;
      out.colour = JpegColour::rgb;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo.out_color_space = JCS_CMYK;
      out.colour = JpegColour::cmyk;
      break;
    default:  // unusual component layouts: libvips' loader handles them
      jpeg_destroy_decompress(&cinfo);
      return Outcome::fallback;
  }
  cinfo.scale_num = 1;
  cinfo.scale_denom = static_cast<unsigned>(shrink);
  // Every coefficient the scaled IDCT reads is complete before output, so block smoothing
  // (which estimates missing ones) has nothing to do.
  cinfo.do_block_smoothing = FALSE;
  const bool progressive = cinfo.progressive_mode != 0;
  cinfo.buffered_image = progressive ? TRUE : FALSE;
  fr.components = cinfo.num_components;

  JOCTET* icc = nullptr;
  unsigned icc_len = 0;
  if (jpeg_read_icc_profile(&cinfo, &icc, &icc_len) && icc != nullptr) {
    bool stored = true;
    try {
      out.icc_profile.assign(reinterpret_cast<const char*>(icc), icc_len);
    } catch (const std::bad_alloc&) {
      stored = false;
    }
    std::free(icc);
    if (!stored) {
      fr.oom = true;
      jpeg_destroy_decompress(&cinfo);
      return Outcome::failed;
    }
  }

  jpeg_start_decompress(&cinfo);
  out.width = cinfo.output_width;
  out.height = cinfo.output_height;
  out.bands = static_cast<std::uint32_t>(cinfo.output_components);
  const std::size_t stride = std::size_t{out.width} * out.bands;
  try {
    out.data.resize(stride * out.height);
  } catch (const std::bad_alloc&) {
    fr.oom = true;
    jpeg_destroy_decompress(&cinfo);
    return Outcome::failed;
  }

  if (progressive) {
    // Absorb scans until the ones the scaled output reads are complete, or the file ends.
    for (;;) {
      const int r = jpeg_consume_input(&cinfo);
      if (r == JPEG_REACHED_EOI) break;
      if (r == JPEG_SUSPENDED) {  // cannot happen with a memory source, which fakes an EOI
        cinfo.err->msg_code = JERR_INPUT_EOF;
        on_error(reinterpret_cast<j_common_ptr>(&cinfo));
      }
      if (r == JPEG_SCAN_COMPLETED) {
        ++fr.scans;
        if (needed_coefficients_complete(cinfo)) {
          fr.stopped_early = true;  // the tail, EOI included, is left to check_jpeg_tail
          break;
        }
      }
    }
    jpeg_start_output(&cinfo, cinfo.input_scan_number);
  } else {
    fr.scans = 1;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[4];
    int n = 0;
    for (; n < 4 && cinfo.output_scanline + static_cast<unsigned>(n) < cinfo.output_height; ++n)
      rows[n] = out.data.data() + stride * (cinfo.output_scanline + static_cast<unsigned>(n));
    jpeg_read_scanlines(&cinfo, rows, static_cast<JDIMENSION>(n));
  }
  if (progressive) {
    if (fr.stopped_early) {
      fr.pending_marker = cinfo.unread_marker;
    } else {
      jpeg_finish_output(&cinfo);
      jpeg_finish_decompress(&cinfo);
    }
  } else {
    // Reads the markers after the image up to EOI: a truncated file warns here.
    jpeg_finish_decompress(&cinfo);
  }
  if (out.colour == JpegColour::cmyk && cinfo.saw_Adobe_marker) {
    // Adobe writes CMYK inverted (0 is full ink); libvips' loader undoes it the same way.
    for (auto& v : out.data) v = static_cast<std::uint8_t>(255 - v);
  }
  fr.consumed = size - cinfo.src->bytes_in_buffer;
  jpeg_destroy_decompress(&cinfo);
  return Outcome::decoded;
}

// What probe_frame reads: plain data only.
struct HeaderFacts {
  std::uint32_t width = 0, height = 0;
  int components = 0;
  J_COLOR_SPACE colour = JCS_UNKNOWN;
  bool progressive = false;
  bool icc = false;
  const unsigned char* exif = nullptr;  // the first APP1 starting "Exif" (as libvips), in libjpeg's pool
  unsigned exif_len = 0;
};

// The setjmp frame for the header read. libjpeg keeps saved markers in its own pool, freed by
// jpeg_destroy_decompress, so the caller's parse_exif reads the EXIF payload before that.
template <typename ParseExif>
bool probe_frame(const unsigned char* data, std::size_t size, ErrorManager& err, HeaderFacts& h, ParseExif&& parse_exif) {
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  if (setjmp(err.jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  h.width = cinfo.image_width;
  h.height = cinfo.image_height;
  h.components = cinfo.num_components;
  h.colour = cinfo.jpeg_color_space;
  h.progressive = cinfo.progressive_mode != 0;
  const bool eight_bit = cinfo.data_precision == 8;
  JOCTET* icc = nullptr;
  unsigned icc_len = 0;
  if (jpeg_read_icc_profile(&cinfo, &icc, &icc_len) && icc != nullptr) h.icc = true;
  std::free(icc);
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (h.exif == nullptr && m->marker == JPEG_APP0 + 1 && m->data_length > 4 && std::memcmp(m->data, "Exif", 4) == 0) {
      h.exif = m->data;
      h.exif_len = m->data_length;
    }
  }
  parse_exif(h);  // must not longjmp: libexif does not call back into libjpeg
  jpeg_destroy_decompress(&cinfo);
  return eight_bit;
}

// libvips' rules for an EXIF number (exif.c: the entry written as text by vips_exif_to_s, then
// atoi): an ASCII entry's own text; the first component of an integer or rational entry with
// under 10 components (a rational's text starts with its numerator); else libexif's text.
int exif_int(ExifData* ed, ExifEntry* e) {
  const ExifByteOrder bo = exif_data_get_byte_order(ed);
  if (e->data == nullptr) return 0;
  if (e->format == EXIF_FORMAT_ASCII) {
    char text[256] = {};
    std::memcpy(text, e->data, std::min<std::size_t>(254, e->size));
    return std::atoi(text);
  }
  if (e->components > 0 && e->components < 10 && e->size >= exif_format_get_size(e->format)) {
    switch (e->format) {
      case EXIF_FORMAT_SHORT: return exif_get_short(e->data, bo);
      case EXIF_FORMAT_SSHORT: return exif_get_sshort(e->data, bo);
      case EXIF_FORMAT_LONG: return static_cast<int>(exif_get_long(e->data, bo));
      case EXIF_FORMAT_SLONG: return exif_get_slong(e->data, bo);
      case EXIF_FORMAT_RATIONAL: return static_cast<int>(exif_get_rational(e->data, bo).numerator);
      case EXIF_FORMAT_SRATIONAL: return exif_get_srational(e->data, bo).numerator;
      default: break;
    }
  }
  char text[256] = {};
  exif_entry_get_value(e, text, sizeof text);
  return std::atoi(text);
}

// libvips' text of an ASCII entry: its bytes up to the first NUL, at most 254 of them.
std::optional<std::string> exif_text(ExifEntry* e) {
  if (e == nullptr) return std::nullopt;
  if (e->format == EXIF_FORMAT_ASCII) {
    if (e->data == nullptr) return std::nullopt;
    const std::size_t n = std::min<std::size_t>(254, e->size);
    const auto* p = reinterpret_cast<const char*>(e->data);
    return clean_exif_text(std::string_view(p, strnlen(p, n)));
  }
  char text[256] = {};
  exif_entry_get_value(e, text, sizeof text);
  return clean_exif_text(text);
}

Error truncated(const std::string& detail) {
  return make_error(ErrorKind::corrupt,
                    "truncated jpeg data: the file ends before the image does (libjpeg: " + detail + ")");
}

Error corrupt(const std::string& detail) {
  return make_error(ErrorKind::corrupt, "corrupt jpeg data: the decoder rejected it (libjpeg: " + detail + ")");
}

bool is_rst(unsigned char m) { return m >= 0xD0 && m <= 0xD7; }

}  // namespace

std::optional<ImageInfo> probe_jpeg(std::string_view bytes) {
  ErrorManager err;
  HeaderFacts h;
  ImageInfo info;
  bool exif_ok = true;
  auto parse_exif = [&info, &exif_ok](const HeaderFacts& facts) {
    if (facts.exif == nullptr) return;
    ExifData* ed = exif_data_new();
    if (ed == nullptr) {
      exif_ok = false;
      return;
    }
    // As libvips reads it: loaded without defaults for missing fields, then fixed.
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(ed, facts.exif, facts.exif_len);
    exif_data_fix(ed);
    if (ExifEntry* o = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION)) {
      const int v = exif_int(ed, o);
      info.orientation = v >= 1 && v <= 8 ? v : 1;
    }
    info.camera_make = exif_text(exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_MAKE));
    info.camera_model = exif_text(exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_MODEL));
    info.capture_time =
        exif_datetime_iso(exif_text(exif_content_get_entry(ed->ifd[EXIF_IFD_EXIF], EXIF_TAG_DATE_TIME_ORIGINAL)));
    exif_data_unref(ed);
  };
  if (!probe_frame(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), err, h, parse_exif) || !exif_ok)
    return std::nullopt;
  info.format = SourceFormat::jpeg;
  info.width = h.width;
  info.height = h.height;
  info.frames = 1;
  info.bits_per_sample = 8;
  info.has_alpha = false;
  info.has_icc_profile = h.icc;
  info.progressive = h.progressive;
  if (h.components == 1 && h.colour == JCS_GRAYSCALE) {
    info.bands = 1;
    info.colour_space = "b-w";
  } else if (h.components == 3 && (h.colour == JCS_YCbCr || h.colour == JCS_RGB)) {
    info.bands = 3;
    info.colour_space = "srgb";
  } else if (h.components == 4 && (h.colour == JCS_CMYK || h.colour == JCS_YCCK)) {
    info.bands = 4;
    info.colour_space = "cmyk";
  } else {
    return std::nullopt;
  }
  return info;
}

std::size_t skip_jpeg_entropy(std::string_view b, std::size_t pos, int& marker) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  while (pos < b.size()) {
    const void* hit = std::memchr(p + pos, 0xFF, b.size() - pos);
    if (hit == nullptr) return b.size();
    pos = static_cast<std::size_t>(static_cast<const unsigned char*>(hit) - p) + 1;
    while (pos < b.size() && p[pos] == 0xFF) ++pos;
    if (pos >= b.size()) return b.size();
    const unsigned char m = p[pos++];
    if (m == 0x00 || is_rst(m)) continue;
    marker = m;
    return pos;
  }
  return b.size();
}

// Policy for the part of a progressive file the fast path does not decode: its scans refine
// only coefficients the thumbnail never reads, so their entropy-coded data is not checked, but
// the file must still be whole. Every marker after the decoded scans must be one that may
// appear between scans (DHT, DQT, DRI, APPn, COM, DNL, SOS), each with a length that fits in the
// file; every SOS header must be well formed (1 to 4 components of the frame, spectral range
// and successive approximation within bounds); and the data must end with EOI. So a file cut
// anywhere, even inside the unread tail, fails as truncated, as it does through a full decode.
Status check_jpeg_tail(std::string_view bytes, std::size_t pos, int pending_marker, int components) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  int marker = pending_marker;
  if (marker == 0) pos = skip_jpeg_entropy(bytes, pos, marker);  // libjpeg may stop inside a scan's last bytes
  for (;;) {
    if (marker == 0) return truncated("Premature end of JPEG file: no EOI marker after the last scan");
    if (marker == 0xD9) return ok_status();  // EOI; what follows it is ignored, as libjpeg does
    if (marker == 0xD8 || (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xCC) ||
        is_rst(static_cast<unsigned char>(marker)) || marker == 0x01)
      return corrupt("Invalid JPEG file structure: unexpected marker 0x" + [&] {
        char hex[12];
        std::snprintf(hex, sizeof hex, "%02X", static_cast<unsigned>(marker));
        return std::string(hex);
      }() + " after the scans");
    if (n - pos < 2) return truncated("Premature end of JPEG file inside a marker");
    const std::size_t len = std::size_t{p[pos]} << 8 | p[pos + 1];
    if (len < 2) return corrupt("Invalid JPEG file structure: marker length " + std::to_string(len));
    if (n - pos < len) return truncated("Premature end of JPEG file inside a marker segment");
    if (marker == 0xDA) {  // SOS
      const std::size_t ns = len >= 3 ? p[pos + 2] : 0;
      if (ns < 1 || ns > 4 || static_cast<int>(ns) > components || len != 6 + 2 * ns)
        return corrupt("Invalid JPEG file structure: bad scan header");
      const std::size_t q = pos + 3 + 2 * ns;
      const unsigned ss = p[q], se = p[q + 1], ah = p[q + 2] >> 4, al = p[q + 2] & 15u;
      if (ss > 63 || se > 63 || ss > se || ah > 13 || al > 13)
        return corrupt("Invalid JPEG file structure: bad progressive scan parameters");
      marker = 0;
      pos = skip_jpeg_entropy(bytes, pos + len, marker);
      continue;
    }
    pos += len;
    // The next marker: fill bytes first, and nothing else may come between segments.
    if (pos >= n) return truncated("Premature end of JPEG file after a marker segment");
    if (p[pos] != 0xFF) return corrupt("Invalid JPEG file structure: data between marker segments");
    while (pos < n && p[pos] == 0xFF) ++pos;
    if (pos >= n) return truncated("Premature end of JPEG file in fill bytes");
    marker = p[pos++];
  }
}

std::uint32_t count_jpeg_scans(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return 0;
  std::size_t pos = 2;
  std::uint32_t scans = 0;
  int marker = 0;
  for (;;) {
    if (marker == 0) {
      if (pos >= n || p[pos] != 0xFF) return scans;
      while (pos < n && p[pos] == 0xFF) ++pos;
      if (pos >= n) return scans;
      marker = p[pos++];
    }
    if (marker == 0xD9) return scans;
    if (marker == 0xD8 || marker == 0x01 || is_rst(static_cast<unsigned char>(marker))) {  // no length
      marker = 0;
      continue;
    }
    if (n - pos < 2) return scans;
    const std::size_t len = std::size_t{p[pos]} << 8 | p[pos + 1];
    if (len < 2 || n - pos < len) return scans;
    if (marker == 0xDA) {
      ++scans;
      marker = 0;
      pos = skip_jpeg_entropy(bytes, pos + len, marker);
      if (marker == 0) return scans;
      continue;
    }
    pos += len;
    marker = 0;
  }
}

Result<std::optional<JpegPixels>> decode_jpeg(std::string_view bytes, int shrink) {
  JpegPixels out;
  ErrorManager err;
  FrameResult fr;
  const Outcome outcome =
      decode_frame(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), shrink, out, err, fr);
  if (fr.oom || (outcome == Outcome::failed && err.code == JERR_OUT_OF_MEMORY))
    return make_error(ErrorKind::internal, "out of memory decoding jpeg");
  if (outcome == Outcome::failed) {
    const std::string detail = err.message[0] != '\0' ? err.message : "libjpeg error";
    return err.code == JWRN_JPEG_EOF ? truncated(detail) : corrupt(detail);
  }
  if (outcome == Outcome::fallback) return std::optional<JpegPixels>{};
  out.scans_read = fr.scans;
  out.bytes_decoded = fr.consumed;
  if (fr.stopped_early) {
    if (auto st = check_jpeg_tail(bytes, fr.consumed, fr.pending_marker, fr.components); !st) return st.error();
  }
  return std::optional<JpegPixels>(std::move(out));
}

}  // namespace thumbflow::imaging
