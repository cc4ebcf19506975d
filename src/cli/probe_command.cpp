#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/file_io.hpp"
#include "core/json.hpp"
#include "core/limits.hpp"
#include "imaging/image_ops.hpp"

namespace thumbflow::cli {

Command add_probe_command(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("probe", "Print what an image's header says (format, size, EXIF...) as JSON");
  cmd->add_option("FILE", *file, "Image file to probe")->required();
  cmd->footer("Only the header is read: no pixel is decoded. Exit status 1 if the file is not a readable image.");
  return {cmd, [file] {
    auto bytes = read_file(*file, Limits{}.max_source_bytes);
    if (!bytes) {
      std::cerr << *file << ": " << bytes.error().describe() << "\n";
      return 1;
    }
    auto info = imaging::probe(*bytes);
    if (!info) {
      std::cerr << *file << ": " << info.error().describe() << "\n";
      return 1;
    }
    nlohmann::json j = *info;
    j["file"] = *file;
    j["bytes"] = bytes->size();
    std::cout << j.dump(2) << "\n";
    return 0;
  }};
}

}  // namespace thumbflow::cli
