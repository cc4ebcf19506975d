// The composition root of the local home: from a Config to the store, catalog and queue the
// pipeline and the CLI commands use. Which implementation runs is configuration only.
//
//   DATA/<bucket>/...                 objects (storage.kind = local)
//   DATA/.thumbflow/catalog.db        ImageMetadata (catalog.kind = sqlite)
//   DATA/.thumbflow/queue.db          the durable job queue
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "catalog/catalog.hpp"
#include "config/config.hpp"
#include "events/job_queue.hpp"
#include "storage/object_store.hpp"

namespace thumbflow::cli {

struct Home {
  config::Config config;
  std::filesystem::path data;
  std::unique_ptr<storage::ObjectStore> store;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<events::JobQueue> queue;
};

std::filesystem::path state_dir(const std::filesystem::path& data);  // DATA/.thumbflow

// Loads the configuration (file, then THUMBFLOW_* environment, then a --data override).
Result<config::Config> load_config(const std::string& config_file, const std::string& data_override);

// Opens what the configuration names. The data folder is created if missing.
Result<Home> open_home(config::Config config);

}  // namespace thumbflow::cli
