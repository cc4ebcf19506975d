#include "imaging/jpeg_dc.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace thumbflow::imaging {
namespace {

// Thrown inside the decoder for anything it does not take; caught in decode_jpeg_dc, which then
// answers "not this path". Never escapes this file.
struct NotThisPath {};

[[noreturn]] void give_up() { throw NotThisPath{}; }

constexpr int kMaxComponents = 4;

// A DC Huffman table in the canonical form of the JPEG standard (F.2.2.3): for each code length,
// the largest code and where its symbols start, plus a 9-bit lookahead for the short codes.
struct DcTable {
  bool defined = false;
  std::array<std::int32_t, 18> maxcode{};   // by length 1..16; -1 when no code has that length; [17] sentinel
  std::array<std::int32_t, 17> valoffset{};
  std::array<std::uint8_t, 256> values{};
  std::array<std::uint16_t, 512> fast{};    // (length << 8) | symbol for codes of <= 9 bits, 0 otherwise
};

// Builds the table from a DHT's 16 counts and its symbols; gives up on a table libjpeg would
// call bogus (codes that do not fit their length) or a DC symbol over 15.
void build_dc_table(const std::uint8_t* counts, const std::uint8_t* symbols, int total, DcTable& t) {
  t = DcTable{};
  std::int32_t code = 0;
  int k = 0;
  for (int len = 1; len <= 16; ++len) {
    const int n = counts[len - 1];
    if (n == 0) {
      t.maxcode[static_cast<std::size_t>(len)] = -1;
    } else {
      t.valoffset[static_cast<std::size_t>(len)] = k - code;
      for (int i = 0; i < n; ++i, ++k, ++code) {
        if (code >= (std::int32_t{1} << len)) give_up();
        const std::uint8_t sym = symbols[k];
        if (sym > 15) give_up();
        t.values[static_cast<std::size_t>(k)] = sym;
        if (len <= 9) {
          const int shift = 9 - len;
          for (int fill = 0; fill < (1 << shift); ++fill)
            t.fast[static_cast<std::size_t>((code << shift) | fill)] = static_cast<std::uint16_t>((len << 8) | sym);
        }
      }
      t.maxcode[static_cast<std::size_t>(len)] = code - 1;
    }
    code <<= 1;
  }
  if (k != total) give_up();
  t.maxcode[17] = 0x7FFFFFFF;
  t.defined = true;
}

// Reads entropy-coded bits: stuffed bytes (FF 00) are data, any other FF xx is a marker, where
// the reader stops. The buffer is left-aligned in 64 bits.
class BitReader {
 public:
  BitReader(const std::uint8_t* data, std::size_t size, std::size_t pos) : p_(data), n_(size), pos_(pos) {}

  std::uint32_t bit() {
    need(1);
    const auto v = static_cast<std::uint32_t>(buf_ >> 63);
    buf_ <<= 1;
    --bits_;
    return v;
  }

  std::uint32_t bits(int k) {
    need(k);
    const auto v = static_cast<std::uint32_t>(buf_ >> (64 - k));
    buf_ <<= k;
    bits_ -= k;
    return v;
  }

  int symbol(const DcTable& t) {
    if (bits_ < 16) fill();
    const std::uint16_t hit = t.fast[static_cast<std::size_t>(buf_ >> 55)];
    int len = hit >> 8;
    int sym = hit & 0xFF;
    if (len == 0) {
      len = 10;
      auto code = static_cast<std::int32_t>(buf_ >> 54);
      while (code > t.maxcode[static_cast<std::size_t>(len)]) {
        if (++len > 16) give_up();  // no code of any length: bad Huffman code
        code = static_cast<std::int32_t>(buf_ >> (64 - len));
      }
      const std::int32_t index = t.valoffset[static_cast<std::size_t>(len)] + code;
      if (index < 0 || index > 255) give_up();
      sym = t.values[static_cast<std::size_t>(index)];
    }
    if (len > bits_) give_up();  // the code runs past the data
    buf_ <<= len;
    bits_ -= len;
    return sym;
  }

  // At a restart or the end of a scan: the rest of the current byte is padding; whole bytes not
  // read are extraneous data (libjpeg warns; this path gives up). Returns the marker code that
  // follows and moves past it.
  int next_marker() {
    if (bits_ >= 8) give_up();
    buf_ = 0;
    bits_ = 0;
    if (!at_marker_) {
      if (pos_ >= n_ || p_[pos_] != 0xFF) give_up();
      std::size_t q = pos_ + 1;
      while (q < n_ && p_[q] == 0xFF) ++q;
      if (q >= n_ || p_[q] == 0x00) give_up();
      marker_ = p_[q];
      pos_ = q + 1;
    }
    at_marker_ = false;
    return marker_;
  }

  std::size_t position() const { return pos_; }

 private:
  void need(int k) {
    if (bits_ < k) fill();
    if (bits_ < k) give_up();  // the data ends (or a marker comes) before the scan does
  }

  void fill() {
    while (bits_ <= 56 && !at_marker_ && pos_ < n_) {
      std::uint8_t c = p_[pos_];
      if (c == 0xFF) {
        std::size_t q = pos_ + 1;
        while (q < n_ && p_[q] == 0xFF) ++q;
        if (q >= n_) return;  // the file ends in fill bytes
        if (p_[q] != 0x00) {
          at_marker_ = true;
          marker_ = p_[q];
          pos_ = q + 1;
          return;
        }
        pos_ = q + 1;  // FF 00: a data byte of value FF
      } else {
        ++pos_;
      }
      buf_ |= std::uint64_t{c} << (56 - bits_);
      bits_ += 8;
    }
  }

  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t pos_;
  std::uint64_t buf_ = 0;
  int bits_ = 0;
  bool at_marker_ = false;
  int marker_ = 0;
};

struct Component {
  int id = 0;
  int h = 1, v = 1;
  int quant = 0;                 // quantisation table number
  int dc_quant = -1;             // latched at the component's first scan, as libjpeg does
  int dc_al = -1;                // precision still missing from the DC (the last DC scan's Al); -1 before any
  std::uint32_t blocks_w = 0;    // blocks the component's own data covers
  std::uint32_t blocks_h = 0;
  std::uint32_t stride = 0;      // blocks per row in the buffer (MCU-padded)
  std::vector<std::int16_t> dc;  // DC coefficient of every block, MCU-padded
};

struct Frame {
  bool seen = false;
  std::uint32_t width = 0, height = 0;
  int count = 0;
  std::array<Component, kMaxComponents> comps{};
  int hmax = 1, vmax = 1;
  std::uint32_t mcus_x = 0, mcus_y = 0;
};

std::uint32_t ceil_div(std::uint64_t a, std::uint64_t b) { return static_cast<std::uint32_t>((a + b - 1) / b); }

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

// libjpeg's YCbCr to RGB arithmetic (jdcolor.c: 16-bit fixed point, the same rounding).
struct YccTables {
  std::array<int, 256> cr_r{}, cb_b{}, cr_g{}, cb_g{};
  YccTables() {
    constexpr int kScale = 16;
    constexpr auto fix = [](double x) { return static_cast<std::int32_t>(x * (1L << kScale) + 0.5); };
    constexpr std::int32_t half = std::int32_t{1} << (kScale - 1);
    for (int i = 0; i < 256; ++i) {
      const std::int32_t x = i - 128;
      cr_r[static_cast<std::size_t>(i)] = static_cast<int>((fix(1.40200) * x + half) >> kScale);
      cb_b[static_cast<std::size_t>(i)] = static_cast<int>((fix(1.77200) * x + half) >> kScale);
      cr_g[static_cast<std::size_t>(i)] = -fix(0.71414) * x;
      cb_g[static_cast<std::size_t>(i)] = -fix(0.34414) * x + half;
    }
  }
};

std::uint8_t clamp8(int v) { return static_cast<std::uint8_t>(std::clamp(v, 0, 255)); }

class DcDecoder {
 public:
  explicit DcDecoder(std::string_view bytes)
      : p_(reinterpret_cast<const std::uint8_t*>(bytes.data())), n_(bytes.size()), bytes_(bytes) {}

  // Runs to the scan that completes every component's DC; returns where the unread rest starts
  // (just after a marker's code, that marker in pending).
  void run(std::size_t& rest, int& pending) {
    if (n_ < 4 || p_[0] != 0xFF || p_[1] != 0xD8) give_up();
    std::size_t pos = 2;
    int marker = read_marker(pos);
    for (;;) {
      switch (marker) {
        case 0xC2: frame_header(pos); break;
        case 0xC4: huffman_tables(pos); break;
        case 0xDB: quant_tables(pos); break;
        case 0xDD: restart_interval(pos); break;
        case 0xDA: {
          marker = scan(pos);
          if (dc_complete()) {
            rest = pos;
            pending = marker;
            return;
          }
          continue;  // the scan ended at this marker
        }
        case 0xFE: skip_segment(pos); break;
        default:
          if (marker >= 0xE0 && marker <= 0xEF) {
            app_segment(marker, pos);
            break;
          }
          // SOF of another process (sequential, lossless, arithmetic), EOI before the DC is
          // complete, DNL, SOI, or anything unknown: libjpeg's business.
          give_up();
      }
      marker = read_marker(pos);
    }
  }

  const Frame& frame() const { return frame_; }
  bool saw_jfif() const { return jfif_; }
  int adobe_transform() const { return adobe_transform_; }
  int scans() const { return scans_; }
  std::size_t decoded_end() const { return decoded_end_; }

  // APP2 ICC_PROFILE chunks before the first scan joined in sequence order, with libjpeg's rules
  // (jpeg_read_icc_profile): every chunk agrees on the count, numbers 1..count each once.
  std::string icc_profile() const {
    if (icc_chunks_.empty()) return {};
    const int count = icc_chunks_.front().second.first;
    if (count == 0 || static_cast<int>(icc_chunks_.size()) != count) return {};
    std::vector<std::string_view> ordered(static_cast<std::size_t>(count));
    for (const auto& [data, meta] : icc_chunks_) {
      const auto [n, seq] = meta;
      if (n != count || seq < 1 || seq > count || !ordered[static_cast<std::size_t>(seq - 1)].empty()) return {};
      ordered[static_cast<std::size_t>(seq - 1)] = data.empty() ? std::string_view("\0", 0) : data;
    }
    std::string joined;
    for (auto part : ordered) joined.append(part);
    return joined;
  }

 private:
  // Reads the marker at pos (fill bytes first); nothing but a marker may be there.
  int read_marker(std::size_t& pos) const {
    if (pos >= n_ || p_[pos] != 0xFF) give_up();
    while (pos < n_ && p_[pos] == 0xFF) ++pos;
    if (pos >= n_) give_up();
    return p_[pos++];
  }

  // The segment at pos (its length field first): returns its body and moves pos past it.
  std::string_view segment(std::size_t& pos) const {
    if (n_ - pos < 2) give_up();
    const std::size_t len = be16(p_ + pos);
    if (len < 2 || n_ - pos < len) give_up();
    std::string_view body = bytes_.substr(pos + 2, len - 2);
    pos += len;
    return body;
  }

  void skip_segment(std::size_t& pos) const { (void)segment(pos); }

  void app_segment(int marker, std::size_t& pos) {
    const std::string_view s = segment(pos);
    const auto* b = reinterpret_cast<const std::uint8_t*>(s.data());
    if (marker == 0xE0 && s.size() >= 5 && std::memcmp(b, "JFIF\0", 5) == 0) jfif_ = true;
    if (marker == 0xEE && s.size() >= 12 && std::memcmp(b, "Adobe", 5) == 0) adobe_transform_ = b[11];
    if (marker == 0xE2 && scans_ == 0 && s.size() >= 14 && std::memcmp(b, "ICC_PROFILE\0", 12) == 0)
      icc_chunks_.emplace_back(s.substr(14), std::pair<int, int>{b[13], b[12]});
  }

  void frame_header(std::size_t& pos) {
    if (frame_.seen) give_up();
    const std::string_view s = segment(pos);
    const auto* b = reinterpret_cast<const std::uint8_t*>(s.data());
    if (s.size() < 6 || b[0] != 8) give_up();  // 8-bit samples only
    frame_.height = be16(b + 1);
    frame_.width = be16(b + 3);
    frame_.count = b[5];
    if (frame_.width == 0 || frame_.height == 0) give_up();
    if ((frame_.count != 1 && frame_.count != 3) || s.size() != 6 + 3 * std::size_t(frame_.count)) give_up();
    for (int c = 0; c < frame_.count; ++c) {
      Component& comp = frame_.comps[static_cast<std::size_t>(c)];
      const std::uint8_t* q = b + 6 + 3 * c;
      comp.id = q[0];
      comp.h = q[1] >> 4;
      comp.v = q[1] & 15;
      comp.quant = q[2];
      if (comp.h < 1 || comp.h > 4 || comp.v < 1 || comp.v > 4 || comp.quant > 3) give_up();
      for (int d = 0; d < c; ++d)
        if (frame_.comps[static_cast<std::size_t>(d)].id == comp.id) give_up();
      frame_.hmax = std::max(frame_.hmax, comp.h);
      frame_.vmax = std::max(frame_.vmax, comp.v);
    }
    frame_.mcus_x = ceil_div(frame_.width, 8u * static_cast<unsigned>(frame_.hmax));
    frame_.mcus_y = ceil_div(frame_.height, 8u * static_cast<unsigned>(frame_.vmax));
    for (int c = 0; c < frame_.count; ++c) {
      Component& comp = frame_.comps[static_cast<std::size_t>(c)];
      // Each component's samples must map onto whole luma-grid pixels.
      if (frame_.hmax % comp.h != 0 || frame_.vmax % comp.v != 0) give_up();
      comp.blocks_w = ceil_div(ceil_div(std::uint64_t{frame_.width} * unsigned(comp.h), unsigned(frame_.hmax)), 8);
      comp.blocks_h = ceil_div(ceil_div(std::uint64_t{frame_.height} * unsigned(comp.v), unsigned(frame_.vmax)), 8);
      comp.stride = frame_.mcus_x * static_cast<std::uint32_t>(comp.h);
      comp.dc.assign(std::size_t{comp.stride} * frame_.mcus_y * static_cast<std::uint32_t>(comp.v), 0);
    }
    frame_.seen = true;
  }

  void huffman_tables(std::size_t& pos) {
    const std::string_view s = segment(pos);
    const auto* b = reinterpret_cast<const std::uint8_t*>(s.data());
    std::size_t i = 0;
    while (i < s.size()) {
      if (s.size() - i < 17) give_up();
      const int cls = b[i] >> 4, index = b[i] & 15;
      if (cls > 1 || index > 3) give_up();
      int total = 0;
      for (int k = 1; k <= 16; ++k) total += b[i + static_cast<std::size_t>(k)];
      if (total > 256 || s.size() - i - 17 < static_cast<std::size_t>(total)) give_up();
      if (cls == 0) build_dc_table(b + i + 1, b + i + 17, total, dc_tables_[static_cast<std::size_t>(index)]);
      i += 17 + static_cast<std::size_t>(total);
    }
  }

  void quant_tables(std::size_t& pos) {
    const std::string_view s = segment(pos);
    const auto* b = reinterpret_cast<const std::uint8_t*>(s.data());
    std::size_t i = 0;
    while (i < s.size()) {
      const int precision = b[i] >> 4, index = b[i] & 15;
      if (precision > 1 || index > 3) give_up();
      const std::size_t size = precision == 0 ? 64 : 128;
      if (s.size() - i - 1 < size) give_up();
      // The first value in zigzag order is the DC's.
      quant_dc_[static_cast<std::size_t>(index)] = precision == 0 ? b[i + 1] : be16(b + i + 1);
      quant_defined_[static_cast<std::size_t>(index)] = true;
      i += 1 + size;
    }
  }

  void restart_interval(std::size_t& pos) {
    const std::string_view s = segment(pos);
    if (s.size() != 2) give_up();
    restart_interval_ = be16(reinterpret_cast<const std::uint8_t*>(s.data()));
  }

  bool dc_complete() const {
    for (int c = 0; c < frame_.count; ++c)
      if (frame_.comps[static_cast<std::size_t>(c)].dc_al != 0) return false;
    return true;
  }

  // One scan: a DC scan is decoded, an AC scan's data skipped. Returns the marker after it.
  int scan(std::size_t& pos) {
    if (!frame_.seen) give_up();
    const std::string_view s = segment(pos);
    const auto* b = reinterpret_cast<const std::uint8_t*>(s.data());
    if (s.empty()) give_up();
    const int ns = b[0];
    if (ns < 1 || ns > frame_.count || s.size() != 4 + 2 * std::size_t(ns)) give_up();
    std::array<int, kMaxComponents> in_scan{};
    std::array<int, kMaxComponents> table{};
    for (int k = 0; k < ns; ++k) {
      const int id = b[1 + 2 * k];
      int found = -1;
      for (int c = 0; c < frame_.count; ++c)
        if (frame_.comps[static_cast<std::size_t>(c)].id == id) found = c;
      if (found < 0) give_up();
      for (int j = 0; j < k; ++j)
        if (in_scan[static_cast<std::size_t>(j)] == found) give_up();
      in_scan[static_cast<std::size_t>(k)] = found;
      table[static_cast<std::size_t>(k)] = b[2 + 2 * k] >> 4;
      if (table[static_cast<std::size_t>(k)] > 3) give_up();
    }
    const std::uint8_t* t = b + 1 + 2 * ns;
    const int ss = t[0], se = t[1], ah = t[2] >> 4, al = t[2] & 15;
    // libjpeg's progression rules (jdphuff.c), which it enforces or warns about.
    const bool dc = ss == 0;
    if (dc ? se != 0 : (ss > se || se > 63 || ns != 1)) give_up();
    if ((ah != 0 && al != ah - 1) || al > 13) give_up();
    for (int k = 0; k < ns; ++k) {
      Component& comp = frame_.comps[static_cast<std::size_t>(in_scan[static_cast<std::size_t>(k)])];
      if (comp.dc_quant < 0) {
        if (!quant_defined_[static_cast<std::size_t>(comp.quant)]) give_up();
        comp.dc_quant = quant_dc_[static_cast<std::size_t>(comp.quant)];
      }
      if (dc) {
        if (ah != std::max(comp.dc_al, 0)) give_up();
        if (ah == 0 && comp.dc_al >= 0) give_up();  // a second first scan
      } else if (comp.dc_al < 0) {
        give_up();  // AC before DC
      }
    }
    ++scans_;
    if (!dc) {
      int marker = 0;
      pos = skip_jpeg_entropy(bytes_, pos, marker);
      if (marker == 0) give_up();  // ends without EOI: libjpeg calls it truncated
      return marker;
    }
    if (ah == 0) {
      for (int k = 0; k < ns; ++k)
        if (!dc_tables_[static_cast<std::size_t>(table[static_cast<std::size_t>(k)])].defined) give_up();
    }
    BitReader br(p_, n_, pos);
    std::array<int, kMaxComponents> pred{};
    const std::uint32_t interval = restart_interval_;
    std::uint32_t to_go = interval;
    int next_rst = 0;
    const auto restart = [&] {
      if (br.next_marker() != 0xD0 + next_rst) give_up();
      next_rst = (next_rst + 1) & 7;
      pred.fill(0);
      to_go = interval;
    };
    const auto decode_block = [&](int k, std::int16_t& coef) {
      if (ah == 0) {
        const DcTable& tab = dc_tables_[static_cast<std::size_t>(table[static_cast<std::size_t>(k)])];
        int diff = 0;
        if (const int cat = br.symbol(tab); cat != 0) {
          const auto r = static_cast<int>(br.bits(cat));
          diff = r < (1 << (cat - 1)) ? r - (1 << cat) + 1 : r;
        }
        int& p = pred[static_cast<std::size_t>(k)];
        // libjpeg-turbo refuses a DC that leaves the int range (JERR_BAD_DCT_COEF).
        if ((p >= 0 && diff > INT_MAX - p) || (p < 0 && diff < INT_MIN - p)) give_up();
        p += diff;
        // libjpeg keeps the coefficient in a 16-bit JCOEF, shifted by Al.
        coef = static_cast<std::int16_t>(static_cast<std::uint32_t>(p) << al);
      } else if (br.bit() != 0) {
        coef = static_cast<std::int16_t>(coef | (1 << al));
      }
    };
    if (ns == 1) {
      // Non-interleaved: the component's own blocks, row by row, no MCU padding.
      Component& comp = frame_.comps[static_cast<std::size_t>(in_scan[0])];
      for (std::uint32_t by = 0; by < comp.blocks_h; ++by) {
        std::int16_t* row = comp.dc.data() + std::size_t{by} * comp.stride;
        for (std::uint32_t bx = 0; bx < comp.blocks_w; ++bx) {
          if (interval != 0) {
            if (to_go == 0) restart();
            --to_go;
          }
          decode_block(0, row[bx]);
        }
      }
    } else {
      for (std::uint32_t my = 0; my < frame_.mcus_y; ++my) {
        for (std::uint32_t mx = 0; mx < frame_.mcus_x; ++mx) {
          if (interval != 0) {
            if (to_go == 0) restart();
            --to_go;
          }
          for (int k = 0; k < ns; ++k) {
            Component& comp = frame_.comps[static_cast<std::size_t>(in_scan[static_cast<std::size_t>(k)])];
            for (int yy = 0; yy < comp.v; ++yy) {
              std::int16_t* row =
                  comp.dc.data() + (std::size_t{my} * unsigned(comp.v) + unsigned(yy)) * comp.stride + std::size_t{mx} * unsigned(comp.h);
              for (int xx = 0; xx < comp.h; ++xx) decode_block(k, row[xx]);
            }
          }
        }
      }
    }
    const int marker = br.next_marker();
    pos = br.position();
    decoded_end_ = pos;
    for (int k = 0; k < ns; ++k) frame_.comps[static_cast<std::size_t>(in_scan[static_cast<std::size_t>(k)])].dc_al = al;
    return marker;
  }

  const std::uint8_t* p_;
  std::size_t n_;
  std::string_view bytes_;
  Frame frame_;
  std::array<DcTable, 4> dc_tables_{};
  std::array<int, 4> quant_dc_{};
  std::array<bool, 4> quant_defined_{};
  std::uint32_t restart_interval_ = 0;
  bool jfif_ = false;
  int adobe_transform_ = -1;
  int scans_ = 0;
  std::size_t decoded_end_ = 0;
  std::vector<std::pair<std::string_view, std::pair<int, int>>> icc_chunks_;  // data, (count, seq)

};

// libjpeg's choice of colour space for three components (jdapimin.c default_decompress_parms):
// JFIF means YCbCr; else an Adobe marker's transform (0 is RGB); else component ids R, G, B
// mean RGB; else YCbCr.
bool three_components_are_rgb(const DcDecoder& d) {
  if (d.saw_jfif()) return false;
  if (d.adobe_transform() >= 0) return d.adobe_transform() == 0;
  const Frame& f = d.frame();
  return f.comps[0].id == 'R' && f.comps[1].id == 'G' && f.comps[2].id == 'B';
}

// The block value at 1/8 scale: libjpeg's 1x1 IDCT (jidctred.c jpeg_idct_1x1), DESCALE by 3
// of the dequantised DC, level-shifted by 128 and range-limited.
void block_values(const Component& comp, std::vector<std::uint8_t>& out) {
  out.resize(comp.dc.size());
  const int q = comp.dc_quant;
  for (std::size_t i = 0; i < comp.dc.size(); ++i) {
    const int v = (comp.dc[i] * q + 4) >> 3;
    out[i] = clamp8(v + 128);
  }
}

}  // namespace

Result<std::optional<JpegPixels>> decode_jpeg_dc(std::string_view bytes) {
  JpegPixels out;
  std::size_t rest = 0;
  int pending = 0;
  int components = 0;
  try {
    DcDecoder d(bytes);
    d.run(rest, pending);
    const Frame& f = d.frame();
    components = f.count;
    out.width = ceil_div(f.width, 8);
    out.height = ceil_div(f.height, 8);
    out.scans_read = d.scans();
    out.bytes_decoded = d.decoded_end();
    out.icc_profile = d.icc_profile();
    std::array<std::vector<std::uint8_t>, 3> planes;
    for (int c = 0; c < f.count; ++c) block_values(f.comps[static_cast<std::size_t>(c)], planes[static_cast<std::size_t>(c)]);
    const std::size_t w = out.width, h = out.height;
    if (f.count == 1) {
      out.colour = JpegColour::grey;
      out.bands = 1;
      out.data.resize(w * h);
      const Component& c = f.comps[0];
      for (std::size_t y = 0; y < h; ++y)
        std::memcpy(out.data.data() + y * w, planes[0].data() + y * c.stride, w);
    } else {
      out.colour = JpegColour::rgb;
      out.bands = 3;
      out.data.resize(w * h * 3);
      const bool rgb = three_components_are_rgb(d);
      static const YccTables ycc;
      std::array<int, 3> fx{}, fy{};
      for (std::size_t c = 0; c < 3; ++c) {
        fx[c] = f.hmax / f.comps[c].h;
        fy[c] = f.vmax / f.comps[c].v;
      }
      for (std::size_t y = 0; y < h; ++y) {
        const std::uint8_t* rows[3];
        for (std::size_t c = 0; c < 3; ++c)
          rows[c] = planes[c].data() + (y / static_cast<std::size_t>(fy[c])) * f.comps[c].stride;
        std::uint8_t* dst = out.data.data() + y * w * 3;
        for (std::size_t x = 0; x < w; ++x) {
          const int a = rows[0][x / static_cast<std::size_t>(fx[0])];
          const int b = rows[1][x / static_cast<std::size_t>(fx[1])];
          const int c = rows[2][x / static_cast<std::size_t>(fx[2])];
          if (rgb) {
            dst[3 * x] = static_cast<std::uint8_t>(a);
            dst[3 * x + 1] = static_cast<std::uint8_t>(b);
            dst[3 * x + 2] = static_cast<std::uint8_t>(c);
          } else {
            const auto cb = static_cast<std::size_t>(b), cr = static_cast<std::size_t>(c);
            dst[3 * x] = clamp8(a + ycc.cr_r[cr]);
            dst[3 * x + 1] = clamp8(a + ((ycc.cb_g[cb] + ycc.cr_g[cr]) >> 16));
            dst[3 * x + 2] = clamp8(a + ycc.cb_b[cb]);
          }
        }
      }
    }
  } catch (const NotThisPath&) {
    return std::optional<JpegPixels>{};
  } catch (const std::bad_alloc&) {
    return make_error(ErrorKind::internal, "out of memory decoding jpeg");
  }
  if (auto st = check_jpeg_tail(bytes, rest, pending, components); !st) return st.error();
  return std::optional<JpegPixels>(std::move(out));
}

}  // namespace thumbflow::imaging
