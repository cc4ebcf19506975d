#include "cli/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace thumbflow::cli {
namespace fs = std::filesystem;

Result<std::string> read_file(const fs::path& path, std::uint64_t max_bytes) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return make_error(ErrorKind::not_found, "no such file");
  if (!fs::is_regular_file(status)) return make_error(ErrorKind::invalid_argument, "not a regular file");
  auto size = fs::file_size(path, ec);
  if (ec) return make_error(ErrorKind::io, "cannot stat: " + ec.message());
  if (size > max_bytes)
    return make_error(ErrorKind::too_large, "file is " + std::to_string(size) +
                                                " bytes, over the max_source_bytes limit of " +
                                                std::to_string(max_bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::io, std::string("cannot open: ") + std::strerror(errno));
  std::string data(static_cast<std::size_t>(size), '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(in.gcount()) != size)
    return make_error(ErrorKind::io, "short read (the file changed while being read)");
  return data;
}

Status write_file_atomic(const fs::path& path, std::string_view bytes) {
  static std::atomic<unsigned> counter{0};
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(ErrorKind::io, "cannot create " + tmp.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(ErrorKind::io, "cannot write " + path.string() + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return make_error(ErrorKind::io, "cannot write " + path.string() + ": " + std::strerror(err));
  }
  return ok_status();
}

}  // namespace thumbflow::cli
