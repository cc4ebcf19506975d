// The EXIF text fields ImageInfo keeps, cleaned the same way whichever reader found them
// (libvips' exif-ifdN-* strings or libexif directly, jpeg_decode.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace thumbflow::imaging {

// libvips writes a field as "value (formatted, type, n components, n bytes)": the value is what
// comes before the first " (". Trailing blanks and NULs go; an empty value is no value.
inline std::optional<std::string> clean_exif_text(std::string_view raw) {
  std::string s(raw);
  if (auto paren = s.find(" ("); paren != std::string::npos) s.resize(paren);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  if (s.empty()) return std::nullopt;
  return s;
}

// EXIF writes "YYYY:MM:DD HH:MM:SS"; the catalog keeps "YYYY-MM-DDTHH:MM:SS", and only when the
// value has that shape and a year.
inline std::optional<std::string> exif_datetime_iso(const std::optional<std::string>& t) {
  if (!t || t->size() < 19) return std::nullopt;
  std::string iso = t->substr(0, 19);
  const bool shape = iso[4] == ':' && iso[7] == ':' && iso[10] == ' ' && iso[13] == ':' && iso[16] == ':';
  if (!shape || iso.substr(0, 4) == "0000") return std::nullopt;
  iso[4] = '-';
  iso[7] = '-';
  iso[10] = 'T';
  return iso;
}

}  // namespace thumbflow::imaging
