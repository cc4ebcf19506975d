// config::parse_toml on arbitrary text (toml11 underneath), with THUMBFLOW_* environment
// overrides taken from the input too: everything after a line "%%ENV" is NAME=VALUE lines.
// Checks: no exception escapes (toml11 throws; parse_toml must turn every throw into an error
// naming the source), an error says which source, and an accepted configuration validates and
// parses to the same result a second time.
#include <string>

#include "config/config.hpp"
#include "fuzz_check.hpp"

using namespace thumbflow;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(fuzz::as_view(data, size));
  config::Environment env;
  if (const auto at = text.find("\n%%ENV\n"); at != std::string::npos) {
    std::string_view rest = std::string_view(text).substr(at + 7);
    while (!rest.empty()) {
      const auto nl = rest.find('\n');
      const std::string_view line = rest.substr(0, nl);
      if (const auto eq = line.find('='); eq != std::string_view::npos)
        env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
    text.resize(at + 1);
  }
  auto cfg = config::parse_toml(text, "fuzz.toml", env);
  if (!cfg) {
    FUZZ_CHECK(!cfg.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(cfg->validate().ok());
  auto again = config::parse_toml(text, "fuzz.toml", env);
  FUZZ_CHECK(again.ok());
  return 0;
}
