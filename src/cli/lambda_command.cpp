// `thumbflow lambda` (the Lambda custom runtime), `thumbflow invoke --event FILE` (one event
// through the same handler, locally), and the `bootstrap` entry Lambda starts.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/file_io.hpp"
#include "events/event_decoder.hpp"
#include "lambda/lambda_home.hpp"

namespace thumbflow::cli {

bool started_as_lambda_bootstrap(const char* argv0) {
  const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
  return argv0 && api && *api && std::filesystem::path(argv0).filename() == "bootstrap";
}

int run_lambda_bootstrap() { return lambda::run_runtime(std::cout); }

Command add_lambda_command(CLI::App& app) {
  auto max_invocations = std::make_shared<std::uint64_t>(0);
  auto* cmd = app.add_subcommand("lambda", "Run as an AWS Lambda custom runtime (the Runtime API loop)");
  cmd->add_option("--max-invocations", *max_invocations, "Stop after this many invocations (0 = never, as in Lambda)");
  cmd->footer(
      "Reads AWS_LAMBDA_RUNTIME_API, THUMBFLOW_TABLE (required), THUMBFLOW_S3_ENDPOINT, THUMBFLOW_DYNAMODB_ENDPOINT,\n"
      "THUMBFLOW_* settings and the standard AWS credentials and region. Metrics (CloudWatch EMF) and JSON logs\n"
      "go to stdout. Started as 'bootstrap' with AWS_LAMBDA_RUNTIME_API set, the binary runs this without a command.");
  return {cmd, [max_invocations] { return lambda::run_runtime(std::cout, *max_invocations); }};
}

Command add_invoke_command(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto timeout_s = std::make_shared<unsigned>(900);
  auto* cmd = app.add_subcommand("invoke", "Run one event document through the Lambda handler, locally");
  cmd->add_option("--event", *file, "S3, SQS or EventBridge event document (JSON); '-' reads stdin")->required();
  cmd->add_option("--timeout", *timeout_s, "The invocation's deadline, in seconds from now")->check(CLI::Range(1u, 86400u));
  cmd->footer(
      "Uses the same configuration as 'thumbflow lambda' (THUMBFLOW_TABLE, THUMBFLOW_S3_ENDPOINT,\n"
      "THUMBFLOW_DYNAMODB_ENDPOINT, AWS credentials and region). Prints the handler's response on stdout\n"
      "(metrics and logs on stderr). Exit status 1 when the handler answers an error, 2 for bad configuration.");
  return {cmd, [file, timeout_s] {
    std::string doc;
    if (*file == "-") {
      doc.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      auto bytes = read_file(*file, events::kMaxEventDocumentBytes);
      if (!bytes) {
        std::cerr << *file << ": " << bytes.error().describe() << "\n";
        return 2;
      }
      doc = std::move(*bytes);
    }
    return lambda::run_invoke(doc, std::chrono::seconds(*timeout_s), std::cout, std::cerr);
  }};
}

}  // namespace thumbflow::cli
