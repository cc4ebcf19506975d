// JSON forms of the domain types (nlohmann-json ADL hooks), shared by the CLI, the catalog
// and the API so that every surface names the fields the same way.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/image_info.hpp"

namespace thumbflow {

void to_json(nlohmann::json& j, const ImageInfo& info);
void to_json(nlohmann::json& j, const Error& e);

}  // namespace thumbflow
