#include "lambda/telemetry.hpp"

#include "core/object_ref.hpp"

namespace thumbflow::lambda {
namespace {

using nlohmann::json;

std::int64_t epoch_ms(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

json metric(const char* name, const char* unit) { return json{{"Name", name}, {"Unit", unit}}; }

json emf_envelope(const MetricsConfig& config, std::chrono::system_clock::time_point at, json dimensions, json metrics) {
  return json{{"_aws",
               {{"Timestamp", epoch_ms(at)},
                {"CloudWatchMetrics",
                 json::array({json{{"Namespace", config.ns}, {"Dimensions", std::move(dimensions)}, {"Metrics", std::move(metrics)}}})}}},
              {"FunctionName", config.function_name}};
}

}  // namespace

void JsonLines::write(const json& doc) {
  std::string line = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  std::lock_guard lock(mutex_);
  out_ << line << '\n';
  out_.flush();
}

void Logger::log(std::string_view level, std::string_view message, const json& fields) {
  json doc = json::object();
  doc["timestamp"] = pipeline::now_iso8601();
  doc["level"] = level;
  doc["requestId"] = request_id_;
  doc["message"] = message;
  if (fields.is_object())
    for (const auto& [k, v] : fields.items()) doc[k] = v;
  sink_.write(doc);
}

json emf_processed(const MetricsConfig& config, const ImageRecord& record, const std::string& request_id,
                   std::chrono::system_clock::time_point at) {
  std::uint64_t output_bytes = 0;
  for (const auto& r : record.renditions) output_bytes += r.bytes;
  json doc = emf_envelope(config, at, json::array({json::array({"FunctionName"})}),
                          json::array({metric("ImagesProcessed", "Count"), metric("ProcessingTime", "Milliseconds"),
                                       metric("SourceBytes", "Bytes"), metric("OutputBytes", "Bytes")}));
  doc["ImagesProcessed"] = 1;
  doc["ProcessingTime"] = record.processing_ms;
  doc["SourceBytes"] = record.source_bytes;
  doc["OutputBytes"] = output_bytes;
  // Properties that are not dimensions are kept in the log line for searching, at no metric cost.
  doc["requestId"] = request_id;
  doc["imageId"] = record.image_id;
  doc["object"] = ObjectRef{record.bucket, record.original_key}.uri();
  return doc;
}

json emf_failed(const MetricsConfig& config, const ImageRecord& record, const std::string& request_id,
                std::chrono::system_clock::time_point at) {
  json doc = emf_envelope(config, at, json::array({json::array({"FunctionName", "ErrorKind"}), json::array({"FunctionName"})}),
                          json::array({metric("ImagesFailed", "Count")}));
  doc["ImagesFailed"] = 1;
  doc["ErrorKind"] = record.error_kind.empty() ? std::string("internal") : record.error_kind;
  doc["requestId"] = request_id;
  doc["imageId"] = record.image_id;
  doc["object"] = ObjectRef{record.bucket, record.original_key}.uri();
  doc["error"] = record.error_message;
  return doc;
}

void LambdaObserver::on_processed(const ImageRecord& record) {
  sink_.write(emf_processed(config_, record, logger_.request_id(), std::chrono::system_clock::now()));
  logger_.info("processed", {{"imageId", record.image_id},
                             {"object", ObjectRef{record.bucket, record.original_key}.uri()},
                             {"thumbnail", record.thumbnail_key},
                             {"processingMs", record.processing_ms}});
}

void LambdaObserver::on_failed(const ImageRecord& record) {
  sink_.write(emf_failed(config_, record, logger_.request_id(), std::chrono::system_clock::now()));
  logger_.error("failed", {{"imageId", record.image_id},
                           {"object", ObjectRef{record.bucket, record.original_key}.uri()},
                           {"errorKind", record.error_kind},
                           {"error", record.error_message}});
}

void LambdaObserver::on_retry(const ObjectCreated& event, const Error& error, int attempt) {
  logger_.warn("will be retried", {{"object", event.ref().uri()},
                                   {"attempt", attempt},
                                   {"errorKind", std::string(to_string(error.kind))},
                                   {"error", error.message}});
}

}  // namespace thumbflow::lambda
