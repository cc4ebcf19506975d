// Subcommands of the thumbflow executable. Each registers its options on the CLI11 app and
// returns the process exit status when run.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace thumbflow::cli {

struct Command {
  CLI::App* app = nullptr;    // the subcommand, to ask whether it was chosen
  std::function<int()> run;   // runs it; returns the process exit status
};

Command add_thumbnail_command(CLI::App& app);
Command add_probe_command(CLI::App& app);
Command add_catalog_command(CLI::App& app);
Command add_serve_command(CLI::App& app);
Command add_images_command(CLI::App& app);
Command add_retry_command(CLI::App& app);
Command add_reprocess_command(CLI::App& app);
Command add_lambda_command(CLI::App& app);
Command add_invoke_command(CLI::App& app);
Command add_alarms_command(CLI::App& app);
// Lambda starts the binary as `bootstrap` with AWS_LAMBDA_RUNTIME_API set: run the runtime then.
bool started_as_lambda_bootstrap(const char* argv0);
int run_lambda_bootstrap();

}  // namespace thumbflow::cli
