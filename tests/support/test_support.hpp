// Shared helpers for tests: corpus access, file reading, temporary folders, running programs.
#pragma once

#include <cstdint>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace thumbflow::test {

// True in the ASan builds (asan, asan-all): freed blocks wait in ASan's quarantine and every
// allocation carries redzones, so bounds on resident memory do not hold there. Tests of memory
// growth check it in the other builds; LeakSanitizer looks for lost blocks in these.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif

std::filesystem::path corpus_dir();
std::filesystem::path source_dir();
std::filesystem::path binary_dir();
std::vector<std::filesystem::path> corpus_files();  // every file in corpus/public, sorted
std::string read_bytes(const std::filesystem::path& path);
// A corpus file's bytes by name, read once per process and kept (tests use the same files often).
const std::string& corpus_bytes(const std::string& name);
void write_bytes(const std::filesystem::path& path, const std::string& bytes);

// One row of ../shared/corpus/MANIFEST.tsv, keyed by file name.
struct ManifestRow {
  std::string file, format, mode, size_class, notes;
  std::uint32_t width = 0, height = 0;
};
const std::map<std::string, ManifestRow>& manifest();

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct ProcessResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs argv[0] with arguments (no shell), feeding stdin_data; waits for it.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data = {});

// A child process running in the background (a server under test). Its stdout and stderr go
// to files; the destructor kills it (SIGKILL) if it is still running.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_prefix,
                    const std::map<std::string, std::string>& extra_env = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  int pid() const { return pid_; }
  bool running();
  void signal(int sig);
  int wait();  // exit status, 128+signal when killed
  std::string out() const;
  std::string err() const;

 private:
  int pid_ = -1;
  int status_ = -1;
  std::filesystem::path out_, err_;
};

// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
int free_port();

// Polls pred every 50 ms until it holds or the time is up.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit);

// The KEY=VALUE pairs a peer's start script wrote (scripts/peers/<name>.sh); empty if the
// peer is not running. Tests that need a peer declare it (PEERS in thumbflow_add_test).
std::map<std::string, std::string> peer_env(const std::string& name);

// Peak resident set size of this process so far, in KiB.
long peak_rss_kib();

}  // namespace thumbflow::test
