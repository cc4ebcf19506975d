// The loop shared by the in-process corpus benchmarks (thumbflow and the libjpeg floor): read
// every file into memory first (or, with --load-each, each file just before its image, so the
// peak RSS is what a worker needs rather than the whole corpus), then let N worker threads each
// take the next image until the list is done, timing each call (the read is outside the timer). Output is one JSON object per line per image and a final
// summary line, the same shape sharp_bench.mjs and pillow_bench.py print, so run.py reads all
// tools alike. No third-party dependency here: the floor must not link libvips.
#pragma once

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace thumbflow::bench {

struct Options {
  unsigned threads = 1;  // worker threads, one image each at a time
  unsigned repeat = 1;   // passes over the file list
  bool quiet = false;    // summary line only
  bool load_each = false;  // read each file right before its image and drop it after
  std::vector<std::string> files;
};

struct Input {
  std::string path;
  std::string bytes;
};

struct Sample {
  std::size_t input = 0;
  double ms = 0;
  std::string error;  // empty when the image went through
};

// Processes one image; returns an empty string on success, else what went wrong.
using WorkFn = std::function<std::string(std::string_view bytes)>;

inline void print_usage(const char* tool) {
  std::fprintf(stderr, "usage: %s [--threads N] [--repeat K] [--quiet] [--load-each] FILE...\n", tool);
}

inline bool parse_unsigned(std::string_view arg, unsigned& out) {
  std::string text(arg);
  char* end = nullptr;
  unsigned long v = std::strtoul(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || v == 0 || v > 4096) return false;
  out = static_cast<unsigned>(v);
  return true;
}

// Returns false (after printing usage) on a malformed command line.
inline bool parse_options(int argc, char** argv, Options& opt) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  bool good = true;
  for (std::size_t i = 0; good && i < args.size(); ++i) {
    std::string_view a = args[i];
    bool has_value = i + 1 < args.size();
    if (a == "--threads" && has_value) {
      good = parse_unsigned(args[++i], opt.threads);
    } else if (a == "--repeat" && has_value) {
      good = parse_unsigned(args[++i], opt.repeat);
    } else if (a == "--quiet") {
      opt.quiet = true;
    } else if (a == "--load-each") {
      opt.load_each = true;
    } else if (a.starts_with("-")) {
      good = false;
    } else {
      opt.files.emplace_back(a);
    }
  }
  if (!good || opt.files.empty()) {
    print_usage(argv[0]);
    return false;
  }
  return true;
}

// CPU seconds used by every thread of this process so far.
inline double process_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

inline std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

// An unreadable file is reported as a failed image, not a crash: the corpus holds odd files.
// Sized from the file first: growing a string by doubling would hold up to three times the
// file at once, which the peak RSS would then charge to the tool.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::string bytes;
  if (in) {
    bytes.resize(static_cast<std::size_t>(std::max<std::streamoff>(0, in.tellg())));
    in.seekg(0);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  if (!in) std::fprintf(stderr, "warning: cannot read %s\n", path.c_str());
  return bytes;
}

inline std::vector<Input> read_inputs(const std::vector<std::string>& files, bool load_each) {
  std::vector<Input> inputs;
  inputs.reserve(files.size());
  for (const auto& f : files) inputs.push_back(Input{f, load_each ? std::string() : read_file(f)});
  return inputs;
}

// Runs the benchmark and prints the JSON lines; the exit code is 0 even when images fail
// (failures are a result, counted in the summary), 2 for a bad command line.
inline int run(std::string_view tool, int argc, char** argv, const WorkFn& work) {
  Options opt;
  if (!parse_options(argc, argv, opt)) return 2;
  std::vector<Input> inputs = read_inputs(opt.files, opt.load_each);

  // One untimed call, so one-off start-up (library init, first allocations) is not charged
  // to the first image.
  (void)work(opt.load_each ? read_file(inputs.front().path) : inputs.front().bytes);

  std::size_t total = inputs.size() * opt.repeat;
  std::vector<Sample> samples(total);
  std::atomic<std::size_t> next{0};
  using Clock = std::chrono::steady_clock;
  auto worker = [&] {
    for (std::size_t i = next.fetch_add(1); i < total; i = next.fetch_add(1)) {
      Sample& s = samples[i];
      s.input = i % inputs.size();
      const std::string loaded = opt.load_each ? read_file(inputs[s.input].path) : std::string();
      auto t0 = Clock::now();
      s.error = work(opt.load_each ? loaded : inputs[s.input].bytes);
      s.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    }
  };
  double cpu_start = process_cpu_s();
  auto start = Clock::now();
  {
    std::vector<std::jthread> pool;
    for (unsigned t = 0; t < opt.threads; ++t) pool.emplace_back(worker);
  }
  double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  double cpu_s = process_cpu_s() - cpu_start;

  std::size_t failed = 0;
  for (const Sample& s : samples) {
    if (!s.error.empty()) ++failed;
    if (opt.quiet) continue;
    std::string line = R"({"tool":")" + json_escape(tool) + R"(","file":")" +
                       json_escape(inputs[s.input].path) + R"(","ms":)" + std::to_string(s.ms) + R"(,"ok":)" +
                       (s.error.empty() ? "true" : "false");
    if (!s.error.empty()) line += R"(,"error":")" + json_escape(s.error) + "\"";
    std::puts((line + "}").c_str());
  }
  std::printf(R"({"tool":"%s","summary":true,"threads":%u,"repeat":%u,"images":%zu,"ok":%zu,"failed":%zu,)"
              R"("wall_s":%.6f,"cpu_s":%.6f,"images_per_s":%.3f})"
              "\n",
              json_escape(tool).c_str(), opt.threads, opt.repeat, total, total - failed, failed, wall_s,
              cpu_s, wall_s > 0 ? static_cast<double>(total) / wall_s : 0.0);
  return 0;
}

}  // namespace thumbflow::bench
