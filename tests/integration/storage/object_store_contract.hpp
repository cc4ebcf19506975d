// The ObjectStore contract: one suite of behaviours every store must show, run against each
// implementation (S3Store on RADOS Gateway, S3Store on s3rver, LocalStore). A store that lacks a
// feature says so in its Backend, and the cases that need it are skipped with that reason.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "storage/object_store.hpp"

namespace thumbflow::storage::contract {

struct Backend {
  std::string name;  // "rgw", "s3rver", "local": used in test names and bucket names
  // A store for one test (called once per test); may ADD_FAILURE and return null when its peer
  // is not running.
  std::function<std::unique_ptr<ObjectStore>()> make;
  // Missing features, each with the reason shown when the cases needing it are skipped.
  std::optional<std::string> no_conditional_writes;  // If-None-Match: * / If-Match on PUT
  std::optional<std::string> no_get_if_match;        // If-Match on GET
  std::optional<std::string> no_edge_ranges;         // "bytes=0-0" and suffix ranges "bytes=-N"
  std::optional<std::string> no_long_segments;       // a single 1024-byte path segment
  // put_stream refusing a source that ends before the announced size (ObjectStore documents the
  // size as a hint, so a store may accept the shorter body).
  std::optional<std::string> no_size_check;
  std::optional<std::string> no_empty_segments;      // keys like "a//b"
  bool multipart_etag = false;  // a multipart upload's ETag is "<md5>-<parts>"
};

inline std::ostream& operator<<(std::ostream& os, const Backend& b) { return os << b.name; }

class ObjectStoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;
  ObjectRef ref(std::string key) const { return ObjectRef{bucket_, std::move(key)}; }
  // Deletes every object of the bucket, then the bucket.
  static void empty_and_delete(ObjectStore& store, const std::string& bucket);
  // A bucket name unique to this run and test (S3 rules: 3-63, lower case).
  static std::string unique_bucket(const std::string& backend);

  std::unique_ptr<ObjectStore> store_;
  std::string bucket_;
};

// gtest's name generator for instantiations: the backend's name.
std::string backend_name(const ::testing::TestParamInfo<Backend>& info);

}  // namespace thumbflow::storage::contract
