// thumbflow: upload-triggered image thumbnailing. One binary, every subcommand.
#include <CLI/CLI.hpp>

#include <iostream>
#include <vector>

#include "cli/commands.hpp"
#include "core/fault_point.hpp"

int main(int argc, char** argv) {
  // Whole-process fault tests arm points through THUMBFLOW_FAULTS (test builds only; see
  // core/fault_point.hpp). A bad spec stops the start: a test must not run unarmed by mistake.
  if (auto st = thumbflow::fault::arm_from_environment(); !st) {
    std::cerr << "thumbflow: " << st.error().message << "\n";
    return 2;
  }
  if (argc > 0 && thumbflow::cli::started_as_lambda_bootstrap(argv[0])) return thumbflow::cli::run_lambda_bootstrap();
  CLI::App app{
      "thumbflow: safe, fast image thumbnails for uploads to an object store.\n"
      "Run 'thumbflow COMMAND --help' for the options of each command."};
  app.name("thumbflow");
  app.set_version_flag("--version", "thumbflow 0.1.0");
  app.require_subcommand(1);

  const std::vector<thumbflow::cli::Command> commands = {
      thumbflow::cli::add_thumbnail_command(app),
      thumbflow::cli::add_probe_command(app),
      thumbflow::cli::add_catalog_command(app),
      thumbflow::cli::add_serve_command(app),
      thumbflow::cli::add_images_command(app),
      thumbflow::cli::add_retry_command(app),
      thumbflow::cli::add_reprocess_command(app),
      thumbflow::cli::add_lambda_command(app),
      thumbflow::cli::add_invoke_command(app),
      thumbflow::cli::add_alarms_command(app),
  };

  CLI11_PARSE(app, argc, argv);
  for (const auto& cmd : commands)
    if (cmd.app->parsed()) return cmd.run();
  return 2;
}
