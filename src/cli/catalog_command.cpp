// thumbflow catalog ...: administration of the ImageMetadata catalog.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "catalog/dynamo_catalog.hpp"
#include "cli/commands.hpp"

namespace thumbflow::cli {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

struct CreateTableOptions {
  std::string endpoint;
  std::string table = catalog::DynamoCatalogConfig{}.table;
  std::string index = catalog::DynamoCatalogConfig{}.gsi;
  std::string region;
};

int create_table(const CreateTableOptions& options) {
  catalog::DynamoCatalogConfig config;
  config.endpoint = options.endpoint;
  config.table = options.table;
  config.gsi = options.index;
  config.region = options.region.empty() ? env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", "us-east-1"))
                                         : options.region;
  config.credentials.access_key_id = env_or("AWS_ACCESS_KEY_ID", "");
  config.credentials.secret_access_key = env_or("AWS_SECRET_ACCESS_KEY", "");
  config.credentials.session_token = env_or("AWS_SESSION_TOKEN", "");
  auto catalog = catalog::DynamoCatalog::open(config);
  if (!catalog) {
    std::cerr << "thumbflow catalog create-table: " << catalog.error().describe() << "\n";
    return 1;
  }
  if (auto s = (*catalog)->create_table(); !s) {
    std::cerr << "thumbflow catalog create-table: " << s.error().describe() << "\n";
    return 1;
  }
  const std::string where = config.endpoint.empty() ? "DynamoDB " + config.region : config.endpoint;
  std::cout << "table " << config.table << " with index " << config.gsi << " is ACTIVE at " << where << "\n";
  return 0;
}

}  // namespace

Command add_catalog_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("catalog", "Administer the ImageMetadata catalog (DynamoDB)");
  cmd->require_subcommand(1);

  auto options = std::make_shared<CreateTableOptions>();
  auto* create = cmd->add_subcommand(
      "create-table", "Create the DynamoDB table and its uploadDate index, and wait until both are ACTIVE");
  create->add_option("--endpoint", options->endpoint,
                     "DynamoDB endpoint URL, e.g. http://127.0.0.1:8000 for a local server "
                     "(default: https://dynamodb.<region>.amazonaws.com)");
  create->add_option("--table", options->table, "Table name")->capture_default_str();
  create->add_option("--index", options->index, "Name of the uploadDate global secondary index")
      ->capture_default_str();
  create->add_option("--region", options->region,
                     "AWS region (default: $AWS_REGION, then $AWS_DEFAULT_REGION, then us-east-1)");
  create->footer(
      "Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (any\n"
      "non-empty keys work with a local DynamoDB such as dynalite).\n"
      "The table is on-demand (PAY_PER_REQUEST), keyed by imageId, with a global secondary index\n"
      "on uploadDay (\"YYYY-MM-DD#<shard>\") and uploadDate, projecting all attributes.\n"
      "Running it again is safe: an existing table with the index counts as success.\n"
      "Exit status: 0 when the table is ACTIVE, 1 otherwise.");

  return {cmd, [options, create] {
            if (create->parsed()) return create_table(*options);
            return 2;
          }};
}

}  // namespace thumbflow::cli
