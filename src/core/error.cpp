#include "core/error.hpp"

namespace thumbflow {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::unsupported_format: return "unsupported_format";
    case ErrorKind::corrupt: return "corrupt";
    case ErrorKind::too_large: return "too_large";
    case ErrorKind::invalid_argument: return "invalid_argument";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::already_exists: return "already_exists";
    case ErrorKind::precondition_failed: return "precondition_failed";
    case ErrorKind::access_denied: return "access_denied";
    case ErrorKind::io: return "io";
    case ErrorKind::unavailable: return "unavailable";
    case ErrorKind::internal: return "internal";
  }
  return "internal";
}

std::string Error::describe() const {
  std::string out(to_string(kind));
  out += ": ";
  out += message;
  return out;
}

}  // namespace thumbflow
