// Errors as values. Every failure thumbflow expects carries a kind, and the kind alone decides
// whether a retry can help: that is what separates "retry later" from "dead letter".
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace thumbflow {

enum class ErrorKind {
  unsupported_format,  // not an image, or a format we refuse by policy
  corrupt,             // damaged or truncated data; decoding it again will fail again
  too_large,           // over a configured limit (bytes, pixels, dimension, frames)
  invalid_argument,    // a caller or configuration mistake
  not_found,           // the object or record does not exist
  already_exists,      // a conditional write found the object or record already there
  precondition_failed, // If-Match / If-None-Match / a condition did not hold
  access_denied,       // credentials missing, wrong or not allowed
  io,                  // local file system failure (disk full, permissions)
  unavailable,         // a remote service is down, timed out or throttled us
  internal,            // a bug or an unexpected library failure
};

std::string_view to_string(ErrorKind kind);

// Whether the same request can succeed later without anyone changing the input.
constexpr bool is_retryable(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::unavailable:
    case ErrorKind::io:
    case ErrorKind::internal:
      return true;
    case ErrorKind::unsupported_format:
    case ErrorKind::corrupt:
    case ErrorKind::too_large:
    case ErrorKind::invalid_argument:
    case ErrorKind::not_found:
    case ErrorKind::already_exists:
    case ErrorKind::precondition_failed:
    case ErrorKind::access_denied:
      return false;
  }
  return false;
}

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
  // The remote service's own error code where there is one ("NoSuchKey",
  // "ConditionalCheckFailedException", "SlowDown"), for logs and for callers that must tell
  // apart cases sharing a kind.
  std::string code;

  bool retryable() const { return is_retryable(kind); }
  // "<kind>: <message>", the form used in logs and on stderr.
  std::string describe() const;
};

inline Error make_error(ErrorKind kind, std::string message, std::string code = {}) {
  return Error{kind, std::move(message), std::move(code)};
}

// A small std::expected stand-in (C++20): either a value or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace thumbflow
