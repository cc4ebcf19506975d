// The files of web/, compiled into the binary at build time (embed_assets.cmake writes
// web_assets.cpp from them), so the page needs no file lookup at run time.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace thumbflow::console {

struct WebAsset {
  std::string_view name;          // path under web/, e.g. "app.js"
  std::string_view content_type;  // from the extension
  std::string_view body;
};

std::span<const WebAsset> web_assets();
std::optional<WebAsset> find_web_asset(std::string_view name);

}  // namespace thumbflow::console
