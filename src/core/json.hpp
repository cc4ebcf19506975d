// JSON forms of the domain types (nlohmann-json ADL hooks), shared by the CLI, the catalog
// and the API so that every surface names the fields the same way.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/image_info.hpp"
#include "core/image_record.hpp"

namespace thumbflow {

// Field names are the catalog's attribute names (camelCase, as in the ImageMetadata table).
void to_json(nlohmann::json& j, const ImageInfo& info);
void from_json(const nlohmann::json& j, ImageInfo& info);
void to_json(nlohmann::json& j, const RenditionRecord& r);
void from_json(const nlohmann::json& j, RenditionRecord& r);
void to_json(nlohmann::json& j, const ImageRecord& r);
void from_json(const nlohmann::json& j, ImageRecord& r);  // throws nlohmann::json::exception
void to_json(nlohmann::json& j, const Error& e);

Result<SourceFormat> parse_source_format(std::string_view text);

}  // namespace thumbflow
