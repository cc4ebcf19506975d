// storage::key_to_relative_path, the only place an object key becomes a file system path.
// Checks: an accepted key maps to a relative path with no "..", "." or empty component, whose
// components joined with '/' give the key back (nothing dropped or merged), that stays inside
// the store's root once joined to it, and that does not start in the store's private folders.
#include <filesystem>
#include <string>

#include "fuzz_check.hpp"
#include "storage/local_store.hpp"

using namespace thumbflow;
namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view key = fuzz::as_view(data, size);
  auto rel = storage::key_to_relative_path(key);
  if (!rel) {
    FUZZ_CHECK(!rel.error().message.empty());
    return 0;
  }
  const fs::path& p = *rel;
  FUZZ_CHECK(!p.empty());
  FUZZ_CHECK(p.is_relative());
  FUZZ_CHECK(!p.has_root_name() && !p.has_root_directory());
  std::string joined;
  bool first = true;
  for (const auto& part : p) {
    const std::string s = part.string();
    FUZZ_CHECK(!s.empty() && s != "." && s != "..");
    FUZZ_CHECK(s.find('/') == std::string::npos && s.find('\0') == std::string::npos);
    if (first) FUZZ_CHECK(s != ".meta" && s != ".tmp");
    if (!first) joined += '/';
    joined += s;
    first = false;
  }
  FUZZ_CHECK(joined == key);

  const fs::path root = "/srv/thumbflow-data/bucket";
  const fs::path full = (root / p).lexically_normal();
  const fs::path back = full.lexically_relative(root);
  FUZZ_CHECK(!back.empty() && *back.begin() != "..");
  FUZZ_CHECK(full.string().rfind(root.string() + "/", 0) == 0);
  return 0;
}
