// Small local-file helpers for the CLI (the object stores do the same for the pipeline).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace thumbflow::cli {

// Reads a regular file, refusing it before reading when it is larger than max_bytes.
Result<std::string> read_file(const std::filesystem::path& path, std::uint64_t max_bytes);

// Writes through a temporary file and a rename, so a reader never sees half a file.
Status write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace thumbflow::cli
