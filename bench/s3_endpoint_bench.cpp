// Load generator for S3 endpoints: N concurrent clients (one keep-alive connection each) PUT and
// then GET objects of a fixed size, every request SigV4-signed with the payload hashed, as the
// AWS SDKs do over plain HTTP. Prints one JSON line with throughput (MB/s, requests/s) and
// latency percentiles per phase. Run by s3_endpoint_bench.sh against thumbflow serve and s3rver.
//
//   thumbflow_s3_endpoint_bench --endpoint http://127.0.0.1:9000 --access-key K --secret-key S
//       [--bucket B] [--create-bucket] [--clients 8] [--objects 800] [--size 102400] [--label name]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "aws/sigv4.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string endpoint, access_key, secret_key, bucket = "bench", label = "server";
  bool create_bucket = false;
  int clients = 8, objects = 800;
  std::size_t size = 100 * 1024;
};

struct Target {
  std::string host;
  int port = 80;
};

Target parse_endpoint(const std::string& url) {
  std::string rest = url.substr(url.find("://") + 3);
  Target t;
  const auto colon = rest.rfind(':');
  t.host = rest.substr(0, colon);
  t.port = std::atoi(rest.substr(colon + 1).c_str());
  return t;
}

class Signer {
 public:
  Signer(const Options& o, const Target& t) : o_(o), host_(t.host + ":" + std::to_string(t.port)) {}
  httplib::Headers sign(const std::string& method, const std::string& path, const std::string& body_sha256) const {
    thumbflow::aws::Request r;
    r.method = method;
    r.path = path;
    r.headers = {{"Host", host_}};
    r.payload_hash = body_sha256;
    auto s = thumbflow::aws::sign_request(r, {o_.access_key, o_.secret_key, ""}, {"us-east-1", "s3"},
                                          std::chrono::system_clock::now());
    if (!s) {
      std::cerr << "signing failed: " << s.error().message << "\n";
      std::exit(1);
    }
    httplib::Headers h;
    for (const auto& x : s->headers_to_set) h.emplace(x.name, x.value);
    return h;
  }

 private:
  const Options& o_;
  std::string host_;
};

struct Phase {
  double seconds = 0;
  std::uint64_t bytes = 0;
  int requests = 0, errors = 0;
  std::vector<double> latencies_ms;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

template <typename Fn>
Phase run_phase(const Options& o, const Target& t, Fn request) {
  Phase phase;
  std::atomic<int> next{0};
  std::vector<Phase> per(static_cast<std::size_t>(o.clients));
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client cli(t.host, t.port);
      cli.set_keep_alive(true);
      cli.set_read_timeout(60, 0);
      Phase& mine = per[static_cast<std::size_t>(c)];
      for (int i = next++; i < o.objects; i = next++) {
        const auto t0 = Clock::now();
        const std::uint64_t n = request(cli, i);
        mine.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        ++mine.requests;
        if (n == 0) ++mine.errors;
        mine.bytes += n;
      }
    });
  }
  for (auto& th : threads) th.join();
  phase.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& p : per) {
    phase.bytes += p.bytes;
    phase.requests += p.requests;
    phase.errors += p.errors;
    phase.latencies_ms.insert(phase.latencies_ms.end(), p.latencies_ms.begin(), p.latencies_ms.end());
  }
  return phase;
}

std::string json_phase(const char* name, const Phase& p) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "\"%s\": {\"mb_per_s\": %.2f, \"requests_per_s\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, "
                "\"requests\": %d, \"errors\": %d, \"seconds\": %.3f}",
                name, static_cast<double>(p.bytes) / 1e6 / p.seconds, p.requests / p.seconds,
                percentile(p.latencies_ms, 0.5), percentile(p.latencies_ms, 0.99), p.requests, p.errors, p.seconds);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--endpoint") o.endpoint = value();
    else if (a == "--access-key") o.access_key = value();
    else if (a == "--secret-key") o.secret_key = value();
    else if (a == "--bucket") o.bucket = value();
    else if (a == "--label") o.label = value();
    else if (a == "--clients") o.clients = std::atoi(value().c_str());
    else if (a == "--objects") o.objects = std::atoi(value().c_str());
    else if (a == "--size") o.size = static_cast<std::size_t>(std::atoll(value().c_str()));
    else if (a == "--create-bucket") o.create_bucket = true;
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  if (o.endpoint.empty() || o.access_key.empty() || o.secret_key.empty() || o.clients < 1 || o.objects < 1) {
    std::cerr << "usage: thumbflow_s3_endpoint_bench --endpoint URL --access-key K --secret-key S [--bucket B] "
                 "[--create-bucket] [--clients 8] [--objects 800] [--size 102400] [--label NAME]\n";
    return 2;
  }
  const Target t = parse_endpoint(o.endpoint);
  const Signer signer(o, t);
  if (o.create_bucket) {
    httplib::Client cli(t.host, t.port);
    const std::string path = "/" + o.bucket;
    auto res = cli.Put(path, signer.sign("PUT", path, std::string(thumbflow::aws::kEmptyPayloadSha256)), "", "");
    if (!res || (res->status != 200 && res->status != 409)) {
      std::cerr << "cannot create bucket " << o.bucket << ": " << (res ? std::to_string(res->status) : "no response")
                << "\n";
      return 1;
    }
  }
  // One body per client slot, varied so no layer can dedupe; hashes computed up front (the
  // clients' signing is timed, their hashing of the body is not the server's cost).
  std::vector<std::string> bodies(16);
  std::vector<std::string> hashes(16);
  std::mt19937 rng(42);
  for (std::size_t b = 0; b < bodies.size(); ++b) {
    bodies[b].resize(o.size);
    for (auto& c : bodies[b]) c = static_cast<char>(rng() & 0xFF);
    hashes[b] = thumbflow::aws::sha256_hex(bodies[b]);
  }
  auto key_path = [&](int i) { return "/" + o.bucket + "/bench/obj-" + std::to_string(i); };

  const Phase put = run_phase(o, t, [&](httplib::Client& cli, int i) -> std::uint64_t {
    const std::string path = key_path(i);
    const std::size_t b = static_cast<std::size_t>(i) % bodies.size();
    auto res = cli.Put(path, signer.sign("PUT", path, hashes[b]), bodies[b], "application/octet-stream");
    return res && res->status == 200 ? bodies[b].size() : 0;
  });
  const Phase get = run_phase(o, t, [&](httplib::Client& cli, int i) -> std::uint64_t {
    const std::string path = key_path(i);
    auto res = cli.Get(path, signer.sign("GET", path, std::string(thumbflow::aws::kEmptyPayloadSha256)));
    const std::size_t b = static_cast<std::size_t>(i) % bodies.size();
    return res && res->status == 200 && res->body == bodies[b] ? res->body.size() : 0;
  });
  std::cout << "{\"server\": \"" << o.label << "\", \"clients\": " << o.clients << ", \"objects\": " << o.objects
            << ", \"object_bytes\": " << o.size << ", " << json_phase("put", put) << ", " << json_phase("get", get)
            << "}" << std::endl;
  return put.errors + get.errors == 0 ? 0 : 1;
}
