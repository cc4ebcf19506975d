// What the Lambda home tells CloudWatch: structured JSON log lines and metrics in the Embedded
// Metric Format (EMF), both one JSON document per line on stdout, which Lambda ships to
// CloudWatch Logs; CloudWatch turns the EMF lines into metrics without any API call (so the
// function needs no PutMetricData round trip on its hot path).
//
// Metrics (namespace configurable, default "thumbflow"), each with the dimension FunctionName:
//   ImagesProcessed (Count), ProcessingTime (Milliseconds), SourceBytes (Bytes),
//   OutputBytes (Bytes, every rendition)          one line per processed image
//   ImagesFailed (Count)                           one line per failure record, with two
//                                                  dimension sets: [FunctionName, ErrorKind] and
//                                                  [FunctionName] (the alarm's total)
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "pipeline/pipeline.hpp"

namespace thumbflow::lambda {

// One JSON document per line to an ostream (stdout in Lambda, stderr for `thumbflow invoke`).
// Thread-safe; invalid UTF-8 in values (object keys can hold any byte) is replaced, never thrown.
class JsonLines {
 public:
  explicit JsonLines(std::ostream& out) : out_(out) {}
  void write(const nlohmann::json& doc);

 private:
  std::ostream& out_;
  std::mutex mutex_;
};

// Structured logs: {"timestamp","level","requestId","message", ...fields}.
class Logger {
 public:
  explicit Logger(JsonLines& sink) : sink_(sink) {}
  void set_request_id(std::string id) { request_id_ = std::move(id); }
  const std::string& request_id() const { return request_id_; }
  void log(std::string_view level, std::string_view message, const nlohmann::json& fields = nlohmann::json::object());
  void info(std::string_view message, const nlohmann::json& fields = nlohmann::json::object()) { log("INFO", message, fields); }
  void warn(std::string_view message, const nlohmann::json& fields = nlohmann::json::object()) { log("WARN", message, fields); }
  void error(std::string_view message, const nlohmann::json& fields = nlohmann::json::object()) { log("ERROR", message, fields); }

 private:
  JsonLines& sink_;
  std::string request_id_;
};

struct MetricsConfig {
  std::string ns = "thumbflow";  // CloudWatch namespace
  std::string function_name;     // the FunctionName dimension (AWS_LAMBDA_FUNCTION_NAME)
};

// The EMF documents, built apart from any stream so they can be checked field by field.
nlohmann::json emf_processed(const MetricsConfig& config, const ImageRecord& record, const std::string& request_id,
                             std::chrono::system_clock::time_point at);
nlohmann::json emf_failed(const MetricsConfig& config, const ImageRecord& record, const std::string& request_id,
                          std::chrono::system_clock::time_point at);

// The pipeline observer of the Lambda home: an EMF line and a log line per outcome.
class LambdaObserver final : public pipeline::PipelineObserver {
 public:
  LambdaObserver(MetricsConfig config, JsonLines& sink, Logger& logger)
      : config_(std::move(config)), sink_(sink), logger_(logger) {}
  void on_processed(const ImageRecord& record) override;
  void on_failed(const ImageRecord& record) override;
  void on_retry(const ObjectCreated& event, const Error& error, int attempt) override;

 private:
  MetricsConfig config_;
  JsonLines& sink_;
  Logger& logger_;
};

}  // namespace thumbflow::lambda
