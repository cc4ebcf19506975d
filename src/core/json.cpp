#include "core/json.hpp"

namespace thumbflow {

void to_json(nlohmann::json& j, const ImageInfo& info) {
  j = nlohmann::json{
      {"format", to_string(info.format)},
      {"width", info.width},
      {"height", info.height},
      {"frames", info.frames},
      {"orientation", info.orientation},
      {"uprightWidth", info.upright_width()},
      {"uprightHeight", info.upright_height()},
      {"hasAlpha", info.has_alpha},
      {"bitsPerSample", info.bits_per_sample},
      {"bands", info.bands},
      {"colourSpace", info.colour_space},
      {"hasIccProfile", info.has_icc_profile},
      {"progressive", info.progressive},
      {"captureTime", info.capture_time ? nlohmann::json(*info.capture_time) : nlohmann::json(nullptr)},
      {"cameraMake", info.camera_make ? nlohmann::json(*info.camera_make) : nlohmann::json(nullptr)},
      {"cameraModel", info.camera_model ? nlohmann::json(*info.camera_model) : nlohmann::json(nullptr)},
  };
}

namespace {
template <typename T>
std::optional<T> opt(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}
template <typename T>
T value_or(const nlohmann::json& j, const char* name, T fallback) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}
}  // namespace

Result<SourceFormat> parse_source_format(std::string_view text) {
  for (auto f : {SourceFormat::unknown, SourceFormat::jpeg, SourceFormat::png, SourceFormat::webp, SourceFormat::gif,
                 SourceFormat::tiff, SourceFormat::heif, SourceFormat::avif, SourceFormat::svg, SourceFormat::pdf})
    if (to_string(f) == text) return f;
  return make_error(ErrorKind::invalid_argument, "unknown source format '" + std::string(text) + "'");
}

void from_json(const nlohmann::json& j, ImageInfo& info) {
  info = ImageInfo{};
  auto fmt = parse_source_format(value_or<std::string>(j, "format", "unknown"));
  info.format = fmt ? *fmt : SourceFormat::unknown;
  info.width = value_or<std::uint32_t>(j, "width", 0);
  info.height = value_or<std::uint32_t>(j, "height", 0);
  info.frames = value_or<std::uint32_t>(j, "frames", 1);
  info.orientation = value_or<int>(j, "orientation", 1);
  info.has_alpha = value_or<bool>(j, "hasAlpha", false);
  info.bits_per_sample = value_or<int>(j, "bitsPerSample", 8);
  info.bands = value_or<int>(j, "bands", 3);
  info.colour_space = value_or<std::string>(j, "colourSpace", "");
  info.has_icc_profile = value_or<bool>(j, "hasIccProfile", false);
  info.progressive = value_or<bool>(j, "progressive", false);
  info.capture_time = opt<std::string>(j, "captureTime");
  info.camera_make = opt<std::string>(j, "cameraMake");
  info.camera_model = opt<std::string>(j, "cameraModel");
}

void to_json(nlohmann::json& j, const RenditionRecord& r) {
  j = nlohmann::json{{"name", r.name},   {"key", r.key},       {"format", r.format},
                     {"width", r.width}, {"height", r.height}, {"bytes", r.bytes}};
}

void from_json(const nlohmann::json& j, RenditionRecord& r) {
  r.name = j.at("name").get<std::string>();
  r.key = j.at("key").get<std::string>();
  r.format = value_or<std::string>(j, "format", "");
  r.width = value_or<std::uint32_t>(j, "width", 0);
  r.height = value_or<std::uint32_t>(j, "height", 0);
  r.bytes = value_or<std::uint64_t>(j, "bytes", 0);
}

void to_json(nlohmann::json& j, const ImageRecord& r) {
  j = nlohmann::json{
      {"imageId", r.image_id},
      {"bucket", r.bucket},
      {"originalImage", r.original_key},
      {"thumbnailImage", r.thumbnail_key},
      {"renditions", r.renditions},
      {"uploadDate", r.upload_date},
      {"status", to_string(r.status)},
      {"attempts", r.attempts},
      {"sourceBytes", r.source_bytes},
      {"etag", r.etag},
      {"versionId", r.version_id},
      {"processingMs", r.processing_ms},
      {"renderMs", r.render_ms},
      {"updatedAt", r.updated_at},
  };
  if (!r.error_kind.empty()) j["errorKind"] = r.error_kind;
  if (!r.error_message.empty()) j["errorMessage"] = r.error_message;
  if (!r.dominant_colour.empty()) j["dominantColour"] = r.dominant_colour;
  if (!r.blurhash.empty()) j["blurhash"] = r.blurhash;
  if (r.info) j["image"] = *r.info;
}

void from_json(const nlohmann::json& j, ImageRecord& r) {
  r = ImageRecord{};
  r.image_id = j.at("imageId").get<std::string>();
  r.bucket = value_or<std::string>(j, "bucket", "");
  r.original_key = j.at("originalImage").get<std::string>();
  r.thumbnail_key = value_or<std::string>(j, "thumbnailImage", "");
  if (auto it = j.find("renditions"); it != j.end() && it->is_array()) r.renditions = it->get<std::vector<RenditionRecord>>();
  r.upload_date = j.at("uploadDate").get<std::string>();
  auto st = parse_record_status(value_or<std::string>(j, "status", "processed"));
  if (!st) throw nlohmann::json::other_error::create(501, st.error().message, &j);
  r.status = *st;
  r.error_kind = value_or<std::string>(j, "errorKind", "");
  r.error_message = value_or<std::string>(j, "errorMessage", "");
  r.attempts = value_or<int>(j, "attempts", 1);
  r.source_bytes = value_or<std::uint64_t>(j, "sourceBytes", 0);
  r.etag = value_or<std::string>(j, "etag", "");
  r.version_id = value_or<std::string>(j, "versionId", "");
  r.dominant_colour = value_or<std::string>(j, "dominantColour", "");
  r.blurhash = value_or<std::string>(j, "blurhash", "");
  r.processing_ms = value_or<double>(j, "processingMs", 0.0);
  r.render_ms = value_or<double>(j, "renderMs", 0.0);
  r.updated_at = value_or<std::string>(j, "updatedAt", "");
  if (auto it = j.find("image"); it != j.end() && it->is_object()) r.info = it->get<ImageInfo>();
}

void to_json(nlohmann::json& j, const Error& e) {
  j = nlohmann::json{{"kind", to_string(e.kind)}, {"message", e.message}, {"retryable", e.retryable()}};
  if (!e.code.empty()) j["code"] = e.code;
}

}  // namespace thumbflow
