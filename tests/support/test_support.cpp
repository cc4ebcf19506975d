#include "test_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace thumbflow::test {
namespace fs = std::filesystem;

fs::path corpus_dir() {
  if (const char* env = std::getenv("THUMBFLOW_CORPUS_DIR")) return env;
  return THUMBFLOW_CORPUS_DIR;
}
fs::path source_dir() { return THUMBFLOW_SOURCE_DIR; }
fs::path binary_dir() { return THUMBFLOW_BINARY_DIR; }

std::vector<fs::path> corpus_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(corpus_dir()))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

const std::map<std::string, ManifestRow>& manifest() {
  static const std::map<std::string, ManifestRow> rows = [] {
    std::map<std::string, ManifestRow> m;
    std::ifstream in(corpus_dir().parent_path() / "MANIFEST.tsv");
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      std::string cell;
      while (std::getline(ss, cell, '\t')) f.push_back(cell);
      if (f.size() < 11) continue;
      ManifestRow r;
      r.file = f[0];
      r.format = f[3];
      r.mode = f[4];
      r.width = static_cast<std::uint32_t>(std::stoul(f[5]));
      r.height = static_cast<std::uint32_t>(std::stoul(f[6]));
      r.size_class = f[8];
      r.notes = f[10];
      m[r.file] = r;
    }
    return m;
  }();
  return rows;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("thumbflow-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC))
    throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  ProcessResult r;
  std::size_t written = 0;
  if (stdin_data.empty()) {
    close(in_pipe[1]);
    in_pipe[1] = -1;
  }
  std::array<pollfd, 3> fds{pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0},
                            pollfd{in_pipe[1], POLLOUT, 0}};
  int open_reads = 2;
  char buf[65536];
  while (open_reads > 0) {
    nfds_t n = in_pipe[1] >= 0 ? 3 : 2;
    if (poll(fds.data(), n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[static_cast<std::size_t>(i)].fd >= 0 && fds[static_cast<std::size_t>(i)].revents) {
        ssize_t k = read(fds[static_cast<std::size_t>(i)].fd, buf, sizeof buf);
        if (k <= 0) {
          close(fds[static_cast<std::size_t>(i)].fd);
          fds[static_cast<std::size_t>(i)].fd = -1;
          --open_reads;
        } else {
          (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(k));
        }
      }
    }
    if (in_pipe[1] >= 0 && fds[2].revents) {
      ssize_t k = write(in_pipe[1], stdin_data.data() + written, stdin_data.size() - written);
      if (k > 0) written += static_cast<std::size_t>(k);
      if (k <= 0 || written == stdin_data.size()) {
        close(in_pipe[1]);
        in_pipe[1] = -1;
      }
    }
  }
  if (in_pipe[1] >= 0) close(in_pipe[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::map<std::string, std::string> peer_env(const std::string& name) {
  std::map<std::string, std::string> env;
  std::ifstream in(fs::path(THUMBFLOW_PEER_STATE) / (name + ".env"));
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos || line.empty() || line[0] == '#') continue;
    env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace thumbflow::test
