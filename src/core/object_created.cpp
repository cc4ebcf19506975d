#include "core/object_created.hpp"

#include <algorithm>

namespace thumbflow {

int compare_sequencers(const std::string& a, const std::string& b) {
  // S3 documents sequencers as hexadecimal values to be compared after padding the shorter one
  // with leading zeros.
  std::size_t n = std::max(a.size(), b.size());
  std::string pa = std::string(n - a.size(), '0') + a;
  std::string pb = std::string(n - b.size(), '0') + b;
  std::transform(pa.begin(), pa.end(), pa.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::transform(pb.begin(), pb.end(), pb.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return pa < pb ? -1 : (pa > pb ? 1 : 0);
}

}  // namespace thumbflow
