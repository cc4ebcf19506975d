// The SMTP sink (smtp_sink.py, Debian python3-aiosmtpd) as a test fixture: started on a port,
// read back as files.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace thumbflow::test {

inline bool smtp_sink_available() {
  return run_process({"/usr/bin/python3", "-c", "import aiosmtpd"}).exit_code == 0;
}

class SmtpSink {
 public:
  SmtpSink(const std::filesystem::path& dir, int port, std::vector<std::string> extra = {}) : dir_(dir), port_(port) {
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     (source_dir() / "tests/integration/monitoring/smtp_sink.py").string(),
                                     std::to_string(port), (dir / "mail").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::filesystem::create_directories(dir);
    proc_ = std::make_unique<BackgroundProcess>(argv, dir / ("sink" + std::to_string(port)));
    ready_ = eventually([&] { return proc_->out().find("ready") != std::string::npos || !proc_->running(); },
                        std::chrono::seconds(20)) &&
             proc_->running();
  }
  bool ready() const { return ready_; }
  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return proc_->err(); }
  // Every message received so far, oldest first.
  std::vector<std::string> messages() const {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_ / "mail", ec))
      if (e.path().extension() == ".eml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(read_bytes(f));
    return out;
  }

 private:
  std::filesystem::path dir_;
  int port_;
  std::unique_ptr<BackgroundProcess> proc_;
  bool ready_ = false;
};

}  // namespace thumbflow::test
