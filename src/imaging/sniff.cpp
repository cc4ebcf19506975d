#include "imaging/sniff.hpp"

#include <algorithm>
#include <array>

namespace thumbflow::imaging {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// HEIF family (ISO BMFF): "ftyp" box at offset 4, then the major brand and compatible brands.
SourceFormat sniff_bmff(std::string_view b) {
  if (b.size() < 16 || b.substr(4, 4) != "ftyp") return SourceFormat::unknown;
  auto box_size = static_cast<std::size_t>(static_cast<unsigned char>(b[0])) << 24 |
                  static_cast<std::size_t>(static_cast<unsigned char>(b[1])) << 16 |
                  static_cast<std::size_t>(static_cast<unsigned char>(b[2])) << 8 |
                  static_cast<std::size_t>(static_cast<unsigned char>(b[3]));
  box_size = std::clamp<std::size_t>(box_size, 16, std::min<std::size_t>(b.size(), 256));
  static constexpr std::array<std::string_view, 2> avif = {"avif", "avis"};
  static constexpr std::array<std::string_view, 8> heif = {"heic", "heix", "hevc", "hevx",
                                                           "heim", "heis", "mif1", "msf1"};
  auto is = [](auto& list, std::string_view brand) {
    return std::find(list.begin(), list.end(), brand) != list.end();
  };
  std::string_view major = b.substr(8, 4);
  if (is(avif, major)) return SourceFormat::avif;
  if (is(heif, major) && major != "mif1" && major != "msf1") return SourceFormat::heif;
  // Generic major brand (mif1): look at the compatible brands after the minor version.
  bool any_heif = is(heif, major);
  for (std::size_t off = 16; off + 4 <= box_size; off += 4) {
    std::string_view brand = b.substr(off, 4);
    if (is(avif, brand)) return SourceFormat::avif;
    any_heif = any_heif || is(heif, brand);
  }
  return any_heif ? SourceFormat::heif : SourceFormat::unknown;
}

bool looks_like_svg(std::string_view b) {
  std::string_view head = b.substr(0, 1024);
  if (starts_with(head, "\xEF\xBB\xBF")) head.remove_prefix(3);
  auto first = head.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return false;
  head.remove_prefix(first);
  if (!starts_with(head, "<")) return false;
  return head.find("<svg") != std::string_view::npos;
}

}  // namespace

SourceFormat sniff_format(std::string_view b) {
  if (starts_with(b, "\xFF\xD8\xFF")) return SourceFormat::jpeg;
  if (starts_with(b, "\x89PNG\r\n\x1A\n")) return SourceFormat::png;
  if (starts_with(b, "GIF87a") || starts_with(b, "GIF89a")) return SourceFormat::gif;
  if (b.size() >= 12 && starts_with(b, "RIFF") && b.substr(8, 4) == "WEBP") return SourceFormat::webp;
  if (starts_with(b, std::string_view("II*\0", 4)) || starts_with(b, std::string_view("MM\0*", 4)) ||
      starts_with(b, std::string_view("II+\0", 4)) || starts_with(b, std::string_view("MM\0+", 4)))
    return SourceFormat::tiff;
  if (starts_with(b, "%PDF-")) return SourceFormat::pdf;
  if (auto f = sniff_bmff(b); f != SourceFormat::unknown) return f;
  if (looks_like_svg(b)) return SourceFormat::svg;
  return SourceFormat::unknown;
}

}  // namespace thumbflow::imaging
