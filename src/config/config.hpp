// thumbflow's configuration: thumbflow.toml, then THUMBFLOW_* environment variables over it.
// Every field has a documented default (see thumbflow.example.toml); bad configuration is
// refused at start with a message naming the field and the reason, and unknown fields are
// refused too (a typo must not silently fall back to a default).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/limits.hpp"
#include "core/rendition.hpp"

namespace thumbflow::config {

struct ServerConfig {
  std::string data = "thumbflow-data";        // data folder: buckets, queue, catalog, keys
  std::string s3_listen = "127.0.0.1:9000";   // the local S3-compatible endpoint
  std::string console_listen = "127.0.0.1:9001";
  std::string bucket = "image-processing-local";  // created at start with uploads/ and thumbnails/
};

struct StorageConfig {
  std::string kind = "local";  // local | s3
  std::string endpoint;        // s3: empty = AWS
  std::string region;          // s3: empty = from AWS_REGION / AWS_DEFAULT_REGION
  bool path_style = true;
};

struct CatalogConfig {
  std::string kind = "sqlite";  // sqlite | dynamodb
  std::string table = "ImageMetadata";
  std::string endpoint;         // dynamodb: empty = AWS
  std::string region;
};

struct TriggerSection {
  std::string input_prefix = "uploads/";
  std::string output_prefix = "thumbnails/";
  std::vector<std::string> suffixes;
};

struct WorkersConfig {
  unsigned min = 1;
  unsigned max = 0;             // 0 = number of cores
  std::uint32_t idle_timeout_ms = 10'000;
  std::uint32_t scale_up_age_ms = 2'000;
  int max_attempts = 5;
  std::uint32_t lease_ms = 300'000;
  std::uint32_t backoff_base_ms = 1'000;
  std::uint32_t backoff_max_ms = 300'000;
};

struct Config {
  ServerConfig server;
  StorageConfig storage;
  CatalogConfig catalog;
  TriggerSection trigger;
  std::vector<RenditionSpec> renditions = {RenditionSpec{}};
  Limits limits;
  WorkersConfig workers;
  std::string cache_control = "public, max-age=31536000, immutable";

  Status validate() const;
};

// Environment variables, passed explicitly so tests do not depend on the process environment.
using Environment = std::map<std::string, std::string>;
Environment process_environment();

// Defaults, then the file (if given), then the environment. Errors name the field.
Result<Config> load(const std::optional<std::filesystem::path>& file, const Environment& env);
Result<Config> parse_toml(const std::string& text, const std::string& source_name, const Environment& env);

}  // namespace thumbflow::config
