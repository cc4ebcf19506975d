#include <gtest/gtest.h>

#include <set>

#include "server/s3_server.hpp"

namespace thumbflow::server {
namespace {
std::string_view op(std::string_view method, std::string_view path, std::set<std::string> params = {},
                    bool copy = false) {
  return s3_operation(method, path, copy, [params](std::string_view p) { return params.count(std::string(p)) > 0; });
}
}  // namespace

TEST(S3Operation, names_each_request_as_the_endpoint_dispatches_it) {
  EXPECT_EQ(op("GET", "/"), "ListBuckets");
  EXPECT_EQ(op("PUT", "/b"), "CreateBucket");
  EXPECT_EQ(op("HEAD", "/b/"), "HeadBucket");
  EXPECT_EQ(op("GET", "/b", {"list-type"}), "ListObjectsV2");
  EXPECT_EQ(op("GET", "/b"), "ListObjects");
  EXPECT_EQ(op("GET", "/b", {"uploads"}), "ListMultipartUploads");
  EXPECT_EQ(op("POST", "/b", {"delete"}), "DeleteObjects");
  EXPECT_EQ(op("PUT", "/b/uploads/a.jpg"), "PutObject");
  EXPECT_EQ(op("PUT", "/b/k", {}, true), "CopyObject");
  EXPECT_EQ(op("PUT", "/b/k", {"uploadId", "partNumber"}), "UploadPart");
  EXPECT_EQ(op("POST", "/b/k", {"uploads"}), "CreateMultipartUpload");
  EXPECT_EQ(op("POST", "/b/k", {"uploadId"}), "CompleteMultipartUpload");
  EXPECT_EQ(op("DELETE", "/b/k", {"uploadId"}), "AbortMultipartUpload");
  EXPECT_EQ(op("GET", "/b/k", {"uploadId"}), "ListParts");
  EXPECT_EQ(op("GET", "/b/a/b/c"), "GetObject");
  EXPECT_EQ(op("HEAD", "/b/k"), "HeadObject");
  EXPECT_EQ(op("DELETE", "/b/k"), "DeleteObject");
  EXPECT_EQ(op("PATCH", "/b/k"), "Unknown");
}

}  // namespace thumbflow::server
