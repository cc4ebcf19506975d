#include "cli/home.hpp"

#include <cstdlib>

#include "catalog/dynamo_catalog.hpp"
#include "catalog/sqlite_catalog.hpp"
#include "aws/credentials.hpp"
#include "storage/local_store.hpp"
#include "storage/s3_store.hpp"

namespace thumbflow::cli {
namespace fs = std::filesystem;

fs::path state_dir(const fs::path& data) { return data / ".thumbflow"; }

Result<config::Config> load_config(const std::string& config_file, const std::string& data_override) {
  std::optional<fs::path> file;
  if (!config_file.empty()) file = config_file;
  auto cfg = config::load(file, config::process_environment());
  if (!cfg) return cfg.error();
  if (!data_override.empty()) cfg->server.data = data_override;
  return cfg;
}

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

Result<std::unique_ptr<catalog::Catalog>> open_catalog(const config::Config& c, const fs::path& data) {
  if (c.catalog.kind == "sqlite") {
    auto cat = catalog::SqliteCatalog::open(state_dir(data) / "catalog.db");
    if (!cat) return cat.error();
    return std::unique_ptr<catalog::Catalog>(std::move(*cat));
  }
  catalog::DynamoCatalogConfig dc;
  dc.endpoint = c.catalog.endpoint;
  dc.region = c.catalog.region.empty() ? env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", "us-east-1")) : c.catalog.region;
  dc.table = c.catalog.table;
  // The standard chain (environment, shared files and profiles, container endpoint), refreshed
  // before container credentials expire.
  auto provider = aws::CredentialProvider::create({}, {});
  if (!provider) return provider.error();
  dc.credential_source = (*provider)->source();
  auto cat = catalog::DynamoCatalog::open(dc);
  if (!cat) return cat.error();
  return std::unique_ptr<catalog::Catalog>(std::move(*cat));
}

Result<std::unique_ptr<storage::ObjectStore>> open_store(const config::Config& c, const fs::path& data) {
  if (c.storage.kind == "local") return std::unique_ptr<storage::ObjectStore>(std::make_unique<storage::LocalStore>(data));
  // Any S3-compatible endpoint; credentials and region the standard AWS way.
  storage::S3Config s3;
  s3.endpoint = c.storage.endpoint;
  s3.path_style = c.storage.path_style;
  if (!c.storage.region.empty()) {
    s3.region = c.storage.region;
  } else if (auto region = aws::resolve_region(); region && !region->empty()) {
    s3.region = *region;
  }
  auto provider = aws::CredentialProvider::create({}, {});
  if (!provider) return provider.error();
  s3.credential_source = (*provider)->source();
  auto store = storage::S3Store::create(s3);
  if (!store) return store.error();
  return std::unique_ptr<storage::ObjectStore>(std::move(*store));
}

}  // namespace

Result<Home> open_home(config::Config config) {
  Home h;
  h.data = config.server.data;
  std::error_code ec;
  fs::create_directories(state_dir(h.data), ec);
  if (ec) return make_error(ErrorKind::io, "cannot create data folder " + h.data.string() + ": " + ec.message());
  auto store = open_store(config, h.data);
  if (!store) return store.error();
  auto cat = open_catalog(config, h.data);
  if (!cat) return cat.error();
  events::QueueOptions q;
  q.max_attempts = config.workers.max_attempts;
  q.lease = std::chrono::milliseconds(config.workers.lease_ms);
  q.backoff_base = std::chrono::milliseconds(config.workers.backoff_base_ms);
  q.backoff_max = std::chrono::milliseconds(config.workers.backoff_max_ms);
  auto queue = events::JobQueue::open(state_dir(h.data) / "queue.db", q);
  if (!queue) return queue.error();
  h.store = std::move(*store);
  h.catalog = std::move(*cat);
  h.queue = std::move(*queue);
  h.config = std::move(config);
  return h;
}

}  // namespace thumbflow::cli
