// ASCII helpers for protocol text (HTTP header names and values, AWS and S3 fields, config
// lines): byte-wise and locale-free, so UTF-8 passes through unchanged.
#pragma once

#include <string>
#include <string_view>

namespace thumbflow {

// Lower-cases A-Z only.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Strips HTTP optional whitespace (SP and HTAB, RFC 9110 "OWS") from both ends.
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Strips ASCII whitespace (SP, HTAB, CR, LF, VT, FF) from both ends: for lines of text files.
inline std::string_view trim_space(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

}  // namespace thumbflow
