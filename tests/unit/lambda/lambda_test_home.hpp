// The handler over real local implementations (LocalStore, SqliteCatalog, libvips), so the
// Runtime API loop and the handler are tested end to end without a network peer. The DynamoDB
// claim is tested against dynalite in tests/integration/lambda.
#pragma once

#include <memory>
#include <sstream>
#include <string>

#include "catalog/sqlite_catalog.hpp"
#include "lambda/handler.hpp"
#include "pipeline/vips_renderer.hpp"
#include "storage/local_store.hpp"
#include "test_support.hpp"

namespace thumbflow::lambda::testing {

inline constexpr const char* kBucket = "image-processing-test";

// '+' for a space and %XX for the rest, as AWS encodes keys in S3 notifications.
inline std::string aws_encode_key(const std::string& key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ') {
      out += '+';
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// An AWS S3 notification document (eventSource aws:s3) for one object.
inline std::string s3_event(const std::string& bucket, const std::string& key, const std::string& etag,
                            std::uint64_t size) {
  return std::string(R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",)") +
         R"("eventTime":"2026-11-25T12:00:00.000Z","eventName":"ObjectCreated:Put",)" +
         R"("s3":{"s3SchemaVersion":"1.0","bucket":{"name":")" + bucket + R"(","arn":"arn:aws:s3:::)" + bucket +
         R"("},"object":{"key":")" + aws_encode_key(key) + R"(","size":)" + std::to_string(size) + R"(,"eTag":")" +
         etag + R"(","sequencer":"0A1B2C3D4E5F678901"}}}]})";
}

struct LocalLambdaHome {
  explicit LocalLambdaHome(LambdaConfig config = {}) : store(dir.path() / "data") {
    if (!store.create_bucket(kBucket)) throw std::runtime_error("cannot create the test bucket");
    auto cat = catalog::SqliteCatalog::open(dir.path() / "catalog.db");
    if (!cat) throw std::runtime_error(cat.error().describe());
    catalog = std::move(*cat);
    pipeline = std::make_unique<pipeline::Pipeline>(pipeline::PipelineConfig{}, store, *catalog, renderer, &observer);
    handler = std::make_unique<ThumbnailHandler>(std::move(config), *pipeline, nullptr, logger);
  }

  // Uploads bytes under key; returns the AWS-style event announcing it.
  std::string upload(const std::string& key, const std::string& bytes) {
    auto put = store.put(ObjectRef{kBucket, key}, bytes);
    if (!put) throw std::runtime_error(put.error().describe());
    return s3_event(kBucket, key, put->etag, bytes.size());
  }
  std::string upload_corpus(const std::string& key, const std::string& name) {
    return upload(key, test::read_bytes(test::corpus_dir() / name));
  }

  test::TempDir dir;
  storage::LocalStore store;
  std::unique_ptr<catalog::SqliteCatalog> catalog;
  pipeline::VipsRenderer renderer;
  std::ostringstream telemetry;
  JsonLines sink{telemetry};
  Logger logger{sink};
  LambdaObserver observer{MetricsConfig{"thumbflow", "thumbflow-test"}, sink, logger};
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<ThumbnailHandler> handler;
};

}  // namespace thumbflow::lambda::testing
