// Reading the Lambda home's numeric settings from environment variables: whole numbers in a
// range, with errors that name the variable (bad configuration is refused at init).
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.hpp"
#include "core/error.hpp"

namespace thumbflow::lambda::detail {

// Sets `out` from variable `name` when it is set; leaves it alone otherwise.
template <typename T>
Status read_uint(const aws::EnvLookup& env, std::string_view name, T& out, std::uint64_t min, std::uint64_t max) {
  auto text = env(name);
  if (!text) return ok_status();
  std::uint64_t v = 0;
  const char* first = text->data();
  const char* last = first + text->size();
  auto [end, ec] = std::from_chars(first, last, v);
  if (text->empty() || ec != std::errc() || end != last)
    return make_error(ErrorKind::invalid_argument, std::string(name) + "='" + *text + "' is not a whole number");
  if (v < min || v > max)
    return make_error(ErrorKind::invalid_argument, std::string(name) + "=" + *text + " is out of range " +
                                                       std::to_string(min) + ".." + std::to_string(max));
  out = static_cast<T>(v);
  return ok_status();
}

}  // namespace thumbflow::lambda::detail
