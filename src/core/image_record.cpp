#include "core/image_record.hpp"

namespace thumbflow {

std::string_view to_string(RecordStatus s) { return s == RecordStatus::processed ? "processed" : "failed"; }

Result<RecordStatus> parse_record_status(std::string_view s) {
  if (s == "processed") return RecordStatus::processed;
  if (s == "failed") return RecordStatus::failed;
  return make_error(ErrorKind::invalid_argument,
                    "unknown status '" + std::string(s) + "' (expected processed or failed)");
}

}  // namespace thumbflow
