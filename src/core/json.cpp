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

void to_json(nlohmann::json& j, const Error& e) {
  j = nlohmann::json{{"kind", to_string(e.kind)}, {"message", e.message}, {"retryable", e.retryable()}};
}

}  // namespace thumbflow
