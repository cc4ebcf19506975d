// The catalog on DynamoDB (AWS, or anything speaking its JSON protocol: dynalite in tests).
// Low-level JSON API over aws::HttpClient (POST /, X-Amz-Target: DynamoDB_20120810.<Op>,
// application/x-amz-json-1.0), signed with SigV4 for service "dynamodb".
//
// Table layout (create_table makes it):
//   key           imageId (S, partition key)
//   GSI           <gsi>: partition uploadDay = "YYYY-MM-DD#<shard>", sort uploadDate, projection ALL
//   billing       PAY_PER_REQUEST
// Item attributes are the record's JSON form (see dynamo_item.hpp).
//
// Policy:
// - Date queries read the GSI: for each day of the range, newest day first, the `shards`
//   partitions of that day are queried in parallel (newest first) and merged by (uploadDate,
//   imageId) descending. A page stops as soon as it is full, so a page of recent uploads costs
//   one day's queries. The GSI is eventually consistent on AWS: a record written a moment ago
//   may be missing from a date query for a moment (get() reads consistently).
// - A date query reads at most max_query_days days. An open lower bound means "the
//   open_range_days days up to the upper bound"; an open upper bound means "up to tomorrow"
//   (UTC, covering clocks a little ahead). Both are the price of a day-partitioned index: there
//   is no cheap way to find the oldest day.
// - query_by_status is a paginated Scan with a filter, in table (key) order rather than newest
//   first. Why not a second GSI on status: its partition key would have two values, so every
//   write would land on one of two hot index partitions, whose throttling throttles the table's
//   writes too; and every write would pay for a second index. A status listing is an operator's
//   tool (the pipeline never calls it), so reading the table for it is the cheaper trade. If
//   listing failures becomes frequent, a sparse GSI on an attribute only failed records carry
//   is the next step.
// - Throttling (ProvisionedThroughputExceededException, ThrottlingException,
//   RequestLimitExceeded) and 5xx are retried by the HttpClient with backoff and full jitter;
//   when retries run out the error is unavailable. batch_put retries UnprocessedItems the same
//   way with batch_retry.
// - Errors: ConditionalCheckFailedException -> precondition_failed (put_if_absent turns it into
//   false); missing table (ResourceNotFoundException) and ValidationException -> invalid_argument;
//   credentials refused -> access_denied; throttling and 5xx -> unavailable. Error::code is the
//   DynamoDB exception name.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "aws/http_client.hpp"
#include "aws/sigv4.hpp"
#include "catalog/catalog.hpp"

namespace thumbflow::catalog {

struct DynamoCatalogConfig {
  std::string endpoint;            // "http://127.0.0.1:8000"; empty: https://dynamodb.<region>.amazonaws.com
  std::string region = "us-east-1";
  aws::Credentials credentials;    // any non-empty keys work with dynalite
  aws::CredentialSource credential_source;  // when set, used instead of credentials (refreshing)
  std::string table = "ImageMetadata";
  std::string gsi = "uploadDate-index";
  int shards = 8;                  // uploadDay partitions per day, 1..kMaxShards; fixed for a table's life
  int max_query_days = 400;        // days one date query may span (each costs `shards` Query calls when empty)
  int open_range_days = 90;        // the range of a date query without a lower bound
  // UnprocessedItems of BatchWriteItem: attempts (the first included) and backoff.
  aws::RetryPolicy batch_retry{8, std::chrono::milliseconds(50), std::chrono::milliseconds(5000)};
  // create_table waits this long for the table and its index to become ACTIVE.
  std::chrono::milliseconds create_table_timeout{std::chrono::minutes(5)};
  aws::HttpClient::Options http;   // used when no client is passed in
};

class DynamoCatalog final : public Catalog {
 public:
  using Config = DynamoCatalogConfig;
  static constexpr int kMaxShards = 256;
  static constexpr std::size_t kBatchWriteMax = 25;  // DynamoDB's BatchWriteItem limit

  // Checks the config (invalid_argument) and makes no request. `http` may be shared with other
  // clients (S3Store); without one the catalog makes its own from config.http.
  static Result<std::unique_ptr<DynamoCatalog>> open(Config config, std::shared_ptr<aws::HttpClient> http = nullptr);
  ~DynamoCatalog() override;
  DynamoCatalog(const DynamoCatalog&) = delete;
  DynamoCatalog& operator=(const DynamoCatalog&) = delete;

  Result<bool> put_if_absent(const ImageRecord& record) override;
  Status upsert(const ImageRecord& record) override;
  Result<ImageRecord> get(const std::string& image_id) override;
  Result<RecordPage> query_by_upload_date(const DateQuery& query) override;
  Result<RecordPage> query_by_status(RecordStatus status, int limit = 50, const std::string& page_token = {}) override;
  Status remove(const std::string& image_id) override;
  // BatchWriteItem in chunks of 25 (a later duplicate of an imageId replaces the earlier one).
  Status batch_put(const std::vector<ImageRecord>& records) override;

  // Creates the table and its GSI (PAY_PER_REQUEST) and waits until both are ACTIVE. A table
  // that already exists is fine if it has the GSI; without it: invalid_argument.
  Status create_table();
  // Deletes the table (a missing table is fine). Does not wait for the deletion to finish.
  Status delete_table();

  const Config& config() const;

 private:
  struct Impl;
  explicit DynamoCatalog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Is this DynamoDB error response a throttling one (retry with backoff)? Exposed for tests and
// for other DynamoDB callers sharing the HttpClient.
bool is_dynamo_throttling(const aws::HttpResponse& response);

}  // namespace thumbflow::catalog
