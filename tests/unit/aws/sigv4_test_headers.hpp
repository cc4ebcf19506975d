// What the SigV4 tests ask of a header list: one header's value, or "<missing>".
#pragma once

#include <string>
#include <string_view>

#include "aws/sigv4.hpp"

namespace thumbflow::aws {

inline std::string header(const Headers& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (h.name == name) return h.value;
  }
  return "<missing>";
}

}  // namespace thumbflow::aws
