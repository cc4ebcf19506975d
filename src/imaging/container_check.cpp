#include "imaging/container_check.hpp"

#include <string>
#include <vector>

#include "imaging/gif_scan.hpp"

namespace thumbflow::imaging {
namespace {

Error truncated(SourceFormat format, const std::string& detail) {
  return make_error(ErrorKind::corrupt, "truncated " + std::string(to_string(format)) +
                                            " data: the file ends before the image does (" + detail + ")");
}

std::uint32_t be32(const unsigned char* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

Status check_png(std::string_view b) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  const std::size_t n = b.size();
  std::size_t pos = 8;  // after the signature
  while (n - pos >= 8) {
    const std::uint64_t len = be32(p + pos);
    const std::string type(b.substr(pos + 4, 4));
    if (len + 12 > n - pos)
      return truncated(SourceFormat::png, "the " + type + " chunk at byte " + std::to_string(pos) +
                                              " runs past the end of the file, " + std::to_string(n) + " bytes");
    if (type == "IEND") return ok_status();
    pos += static_cast<std::size_t>(len) + 12;
  }
  return truncated(SourceFormat::png, "no IEND chunk in " + std::to_string(n) + " bytes");
}

Status check_gif(std::string_view b) {
  const GifScan scan = scan_gif(b);
  if (scan.ran_out)
    return truncated(SourceFormat::gif, "the data ends " +
                                            std::string(scan.frames > 0 ? "after " + std::to_string(scan.frames) +
                                                                              " frames, before the trailer"
                                                                        : "before the first frame"));
  return ok_status();
}

Status check_webp(std::string_view b) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  const std::uint64_t declared =
      std::uint64_t{p[4]} | std::uint64_t{p[5]} << 8 | std::uint64_t{p[6]} << 16 | std::uint64_t{p[7]} << 24;
  if (declared + 8 > b.size())
    return truncated(SourceFormat::webp, "the RIFF header declares " + std::to_string(declared + 8) +
                                             " bytes, the file has " + std::to_string(b.size()));
  return ok_status();
}

// Classic TIFF only (BigTIFF is left to libtiff): the first IFD, its out-of-line values, and
// the strips or tiles of the first page.
Status check_tiff(std::string_view b) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  const std::size_t n = b.size();
  const bool le = p[0] == 'I';
  auto u16 = [&](std::size_t at) -> std::uint32_t {
    return le ? std::uint32_t{p[at]} | std::uint32_t{p[at + 1]} << 8 : std::uint32_t{p[at]} << 8 | p[at + 1];
  };
  auto u32 = [&](std::size_t at) -> std::uint32_t {
    return le ? u16(at) | u16(at + 2) << 16 : u16(at) << 16 | u16(at + 2);
  };
  if (n < 8 || u16(2) != 42) return ok_status();
  const std::uint64_t ifd = u32(4);
  if (ifd + 2 > n)
    return truncated(SourceFormat::tiff, "the first IFD at byte " + std::to_string(ifd) + " is past the end of the file, " +
                                             std::to_string(n) + " bytes");
  const std::uint32_t entries = u16(static_cast<std::size_t>(ifd));
  if (ifd + 2 + 12ull * entries + 4 > n)  // the entries, then the next IFD's offset
    return truncated(SourceFormat::tiff, "the first IFD runs past the end of the file, " + std::to_string(n) + " bytes");
  // Values of a SHORT or LONG entry: inline when they fit in 4 bytes, else at an offset.
  auto values = [&](std::size_t entry, std::vector<std::uint64_t>& out) -> bool {
    const std::uint32_t type = u16(entry + 2);
    const std::uint64_t count = u32(entry + 4);
    const std::uint64_t size = type == 3 ? 2 : type == 4 ? 4 : 0;
    if (size == 0) return true;  // another type: not ours to judge
    const std::uint64_t total = size * count;
    std::uint64_t at = total <= 4 ? entry + 8 : u32(entry + 8);
    if (at + total > n) return false;
    out.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i, at += size)
      out.push_back(size == 2 ? u16(static_cast<std::size_t>(at)) : u32(static_cast<std::size_t>(at)));
    return true;
  };
  // Bytes per value of each TIFF 6 field type (0: unknown, not ours to judge).
  auto type_size = [](std::uint32_t type) -> std::uint64_t {
    switch (type) {
      case 1: case 2: case 6: case 7: return 1;
      case 3: case 8: return 2;
      case 4: case 9: case 11: case 13: return 4;
      case 5: case 10: case 12: return 8;
      default: return 0;
    }
  };
  std::vector<std::uint64_t> offsets, counts;
  const char* unit = "strip";
  for (std::uint32_t i = 0; i < entries; ++i) {
    const std::size_t e = static_cast<std::size_t>(ifd) + 2 + 12 * std::size_t{i};
    const std::uint32_t tag = u16(e);
    // Every value stored out of line (an ICC profile, JPEG tables, the strip arrays) must be
    // within the file.
    const std::uint64_t bytes_of_values = type_size(u16(e + 2)) * u32(e + 4);
    if (bytes_of_values > 4 && std::uint64_t{u32(e + 8)} + bytes_of_values > n)
      return truncated(SourceFormat::tiff, "the values of tag " + std::to_string(tag) + " (bytes " +
                                               std::to_string(u32(e + 8)) + " to " +
                                               std::to_string(std::uint64_t{u32(e + 8)} + bytes_of_values) +
                                               ") are past the end of the file, " + std::to_string(n) + " bytes");
    std::vector<std::uint64_t>* into = tag == 273 || tag == 324 ? &offsets : tag == 279 || tag == 325 ? &counts : nullptr;
    if (into == nullptr) continue;
    if (tag == 324) unit = "tile";
    if (!values(e, *into))
      return truncated(SourceFormat::tiff, "the values of tag " + std::to_string(tag) + " are past the end of the file, " +
                                               std::to_string(n) + " bytes");
  }
  if (offsets.size() != counts.size()) return ok_status();  // malformed: libtiff reports it
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    if (offsets[i] + counts[i] > n)
      return truncated(SourceFormat::tiff, std::string(unit) + " " + std::to_string(i) + " of " +
                                               std::to_string(offsets.size()) + " (bytes " + std::to_string(offsets[i]) +
                                               " to " + std::to_string(offsets[i] + counts[i]) +
                                               ") is past the end of the file, " + std::to_string(n) + " bytes");
  }
  return ok_status();
}

}  // namespace

Status check_complete(SourceFormat format, std::string_view bytes) {
  switch (format) {
    case SourceFormat::png: return check_png(bytes);
    case SourceFormat::gif: return check_gif(bytes);
    case SourceFormat::webp: return check_webp(bytes);
    case SourceFormat::tiff: return check_tiff(bytes);
    default: return ok_status();
  }
}

}  // namespace thumbflow::imaging
