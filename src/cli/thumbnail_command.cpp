#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "cli/file_io.hpp"
#include "core/limits.hpp"
#include "core/rendition.hpp"
#include "imaging/image_ops.hpp"
#include "imaging/policy.hpp"

namespace thumbflow::cli {
namespace fs = std::filesystem;
namespace {

struct ThumbnailOptions {
  std::vector<std::string> files;
  std::string out_dir;
  std::string size = "128x128";
  std::string format = "jpeg";
  int quality = 80;
  unsigned jobs = 0;
  bool upscale = false;
  std::string background = "#ffffff";
  Limits limits;
};

// Serialises everything written to the terminal: the progress line and failure lines.
class Reporter {
 public:
  Reporter(std::size_t total, bool tty) : total_(total), tty_(tty) {}

  void success() { finish(nullptr); }
  void failure(const std::string& line) { finish(&line); }
  std::size_t failed() const { return failed_; }
  std::size_t done() const { return done_; }

 private:
  void finish(const std::string* failure_line) {
    std::lock_guard lock(mu_);
    ++done_;
    if (failure_line) ++failed_;
    if (tty_) std::fputs("\r\033[K", stderr);
    if (failure_line) std::fprintf(stderr, "%s\n", failure_line->c_str());
    if (tty_) {
      std::fprintf(stderr, "[%zu/%zu] %zu failed", done_, total_, failed_);
      if (done_ == total_) std::fputs("\r\033[K", stderr);
    }
    std::fflush(stderr);
  }

  std::mutex mu_;
  std::size_t total_;
  bool tty_;
  std::size_t done_ = 0;
  std::size_t failed_ = 0;
};

int run(const ThumbnailOptions& o) {
  auto size = parse_size(o.size);
  auto format = parse_output_format(o.format);
  auto background = parse_rgb(o.background);
  for (const Error* e : {size ? nullptr : &size.error(), format ? nullptr : &format.error(),
                         background ? nullptr : &background.error()}) {
    if (e) {
      std::cerr << "thumbflow thumbnail: " << e->message << "\n";
      return 2;
    }
  }
  RenditionSpec spec;
  spec.width = size->width;
  spec.height = size->height;
  spec.format = *format;
  spec.quality = o.quality;
  spec.upscale = o.upscale;
  spec.background = *background;
  if (auto st = spec.validate(); !st) {
    std::cerr << "thumbflow thumbnail: " << st.error().message << "\n";
    return 2;
  }
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec || !fs::is_directory(o.out_dir)) {
    std::cerr << "thumbflow thumbnail: cannot create output folder " << o.out_dir << ": " << ec.message() << "\n";
    return 2;
  }
  if (auto st = imaging::init_imaging(); !st) {
    std::cerr << "thumbflow thumbnail: " << st.error().message << "\n";
    return 2;
  }

  // Output names are decided up front so two inputs never race for one output file.
  std::vector<fs::path> outputs(o.files.size());
  std::vector<std::string> name_clash(o.files.size());
  std::map<fs::path, std::size_t> taken;
  for (std::size_t i = 0; i < o.files.size(); ++i) {
    fs::path name = fs::path(o.files[i]).stem();
    name += ".";
    name += std::string(file_extension(spec.format));
    outputs[i] = fs::path(o.out_dir) / name;
    auto [it, inserted] = taken.emplace(outputs[i], i);
    if (!inserted)
      name_clash[i] = "output " + outputs[i].string() + " would overwrite the thumbnail of " + o.files[it->second];
  }

  unsigned jobs = o.jobs ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  jobs = static_cast<unsigned>(std::min<std::size_t>(jobs, std::max<std::size_t>(1, o.files.size())));
  Reporter reporter(o.files.size(), ::isatty(STDERR_FILENO) == 1);
  std::atomic<std::size_t> next{0};
  auto started = std::chrono::steady_clock::now();

  auto worker = [&] {
    for (std::size_t i = next++; i < o.files.size(); i = next++) {
      const std::string& file = o.files[i];
      auto fail = [&](const Error& e) { reporter.failure(file + ": " + e.describe()); };
      if (!name_clash[i].empty()) {
        fail(make_error(ErrorKind::invalid_argument, name_clash[i]));
        continue;
      }
      auto bytes = read_file(file, o.limits.max_source_bytes);
      if (!bytes) {
        fail(bytes.error());
        continue;
      }
      auto result = imaging::render(*bytes, spec, o.limits);
      if (!result) {
        fail(result.error());
        continue;
      }
      if (auto st = write_file_atomic(outputs[i], result->renditions.front().bytes); !st) {
        fail(st.error());
        continue;
      }
      reporter.success();
    }
  };
  std::vector<std::jthread> pool;
  for (unsigned t = 0; t < jobs; ++t) pool.emplace_back(worker);
  pool.clear();  // joins

  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::size_t ok = reporter.done() - reporter.failed();
  std::fprintf(stderr, "thumbnailed %zu of %zu files into %s (%zu failed) in %.2f s, %u jobs\n", ok,
               o.files.size(), o.out_dir.c_str(), reporter.failed(), secs, jobs);
  return reporter.failed() ? 1 : 0;
}

}  // namespace

Command add_thumbnail_command(CLI::App& app) {
  auto o = std::make_shared<ThumbnailOptions>();
  auto* cmd = app.add_subcommand("thumbnail", "Make thumbnails of image files into a folder");
  cmd->add_option("FILE", o->files, "Image files (JPEG, PNG, WebP, GIF, TIFF, HEIF, AVIF)")->required();
  cmd->add_option("-o,--out", o->out_dir, "Output folder (created if missing); writes OUTDIR/<name>.<ext>")
      ->required();
  cmd->add_option("--size", o->size, "Fit inside WxH, aspect kept (N means NxN)")->capture_default_str();
  cmd->add_option("--format", o->format, "Output format: jpeg, webp, png or avif")->capture_default_str();
  cmd->add_option("--quality", o->quality, "Encoder quality 1-100 (JPEG, WebP, AVIF)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->add_option("--jobs", o->jobs, "Images processed in parallel (default: one per core)");
  cmd->add_flag("--upscale", o->upscale, "Enlarge images smaller than --size (default: never enlarge)");
  cmd->add_option("--background", o->background, "Colour alpha is flattened onto for JPEG (#rrggbb)")
      ->capture_default_str();
  cmd->add_option("--max-pixels", o->limits.max_pixels, "Refuse images with more pixels (all frames summed)")
      ->capture_default_str();
  cmd->add_option("--max-bytes", o->limits.max_source_bytes, "Refuse files larger than this")
      ->capture_default_str();
  cmd->add_option("--max-dimension", o->limits.max_dimension, "Refuse images wider or taller than this")
      ->capture_default_str();
  cmd->add_option("--max-frames", o->limits.max_frames, "Refuse images with more frames or pages")
      ->capture_default_str();
  cmd->footer(
      "Each failure is printed on stderr as '<file>: <kind>: <message>' and processing goes on;\n"
      "the exit status is 1 when any file failed. Animated images give their first frame.");
  return {cmd, [o] { return run(*o); }};
}

}  // namespace thumbflow::cli
