#include "catalog/dynamo_catalog.hpp"

#include <algorithm>
#include <array>
#include <future>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "catalog/catalog_rules.hpp"
#include "catalog/dynamo_item.hpp"

namespace thumbflow::catalog {
namespace {

using nlohmann::json;

constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";
constexpr std::string_view kContentType = "application/x-amz-json-1.0";
// Longest DynamoDB error message kept in an Error.
constexpr std::size_t kMaxServiceMessage = 500;

constexpr std::array<std::string_view, 3> kThrottlingCodes{
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"};

// "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException" -> the part after '#'.
struct ServiceError {
  std::string code;
  std::string message;
};

ServiceError parse_service_error(const aws::HttpResponse& response) {
  ServiceError out;
  auto body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object()) {
    if (auto t = body.find("__type"); t != body.end() && t->is_string()) {
      std::string type = t->get<std::string>();
      auto hash = type.rfind('#');
      out.code = hash == std::string::npos ? type : type.substr(hash + 1);
    }
    for (const char* name : {"message", "Message"})
      if (auto m = body.find(name); m != body.end() && m->is_string()) out.message = m->get<std::string>();
  }
  if (out.code.empty()) out.code = response.header("x-amzn-errortype");
  if (out.message.empty()) out.message = response.body.substr(0, kMaxServiceMessage);
  if (out.message.size() > kMaxServiceMessage) out.message = out.message.substr(0, kMaxServiceMessage) + "...";
  return out;
}

bool is_throttling_code(std::string_view code) {
  return std::find(kThrottlingCodes.begin(), kThrottlingCodes.end(), code) != kThrottlingCodes.end();
}

ErrorKind kind_of(const ServiceError& e, long status) {
  const std::string& c = e.code;
  if (c == "ConditionalCheckFailedException") return ErrorKind::precondition_failed;
  if (c == "ResourceInUseException") return ErrorKind::already_exists;
  if (c == "ResourceNotFoundException" || c == "ValidationException" || c == "SerializationException" ||
      c == "ItemCollectionSizeLimitExceededException")
    return ErrorKind::invalid_argument;
  if (is_throttling_code(c) || c == "LimitExceededException" || c == "InternalServerError" ||
      c == "ServiceUnavailable" || status >= 500 || status == 429)
    return ErrorKind::unavailable;
  if (c == "AccessDeniedException" || c == "UnrecognizedClientException" || c == "MissingAuthenticationToken" ||
      c == "MissingAuthenticationTokenException" || c == "InvalidSignatureException" ||
      c == "IncompleteSignatureException" || c == "ExpiredTokenException" || c == "InvalidClientTokenId" ||
      status == 403)
    return ErrorKind::access_denied;
  return ErrorKind::internal;
}

bool valid_name(std::string_view name) {
  if (name.size() < 3 || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

std::mt19937_64& jitter_engine() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

json key_of(const std::string& image_id) { return json{{"imageId", {{"S", image_id}}}}; }

}  // namespace

bool is_dynamo_throttling(const aws::HttpResponse& response) {
  if (response.status < 400) return false;
  return is_throttling_code(parse_service_error(response).code);
}

struct DynamoCatalog::Impl {
  Config config;
  std::shared_ptr<aws::HttpClient> http;
  std::string url;
  aws::SigningConfig signing;
  aws::RetryClassifier classifier = is_dynamo_throttling;

  // One DynamoDB operation: the parsed 2xx body, or the service's error mapped to a kind.
  Result<json> call(std::string_view op, const json& body) {
    aws::HttpRequest request;
    request.method = "POST";
    request.url = url;
    request.headers = {{"Content-Type", std::string(kContentType)},
                       {"X-Amz-Target", std::string(kTargetPrefix) + std::string(op)}};
    try {
      request.body = body.dump();
    } catch (const json::exception& e) {
      return make_error(ErrorKind::invalid_argument, "DynamoDB " + std::string(op) + ": " + e.what());
    }
    auto response = http->send(request, &signing, nullptr, &classifier);
    if (!response) {
      Error e = response.error();
      e.message = "DynamoDB " + std::string(op) + " on " + config.table + ": " + e.message;
      return e;
    }
    if (response->status >= 200 && response->status < 300) {
      auto parsed = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_object())
        return make_error(ErrorKind::unavailable, "DynamoDB " + std::string(op) + " returned a body that is not JSON");
      return parsed;
    }
    ServiceError service = parse_service_error(*response);
    std::string message = "DynamoDB " + std::string(op) + " on " + config.table + " failed (HTTP " +
                          std::to_string(response->status) + ", " + service.code + "): " + service.message;
    if (service.code == "ResourceNotFoundException")
      message += " (create the table with: thumbflow catalog create-table --table " + config.table + ")";
    if (response->attempts > 1) message += " after " + std::to_string(response->attempts) + " attempts";
    return make_error(kind_of(service, response->status), std::move(message), service.code);
  }

  Result<bool> put(const ImageRecord& record, bool only_if_absent) {
    if (auto v = validate_record(record); !v) return v.error();
    auto item = dynamo::record_to_item(record, config.shards);
    if (!item) return item.error();
    json body{{"TableName", config.table}, {"Item", std::move(*item)}};
    if (only_if_absent) body["ConditionExpression"] = "attribute_not_exists(imageId)";
    auto r = call("PutItem", body);
    if (!r) {
      if (only_if_absent && r.error().code == "ConditionalCheckFailedException") return false;
      return r.error();
    }
    return true;
  }

  // Where a date walk resumes: records strictly older than this, in (uploadDate, imageId) order.
  struct Position {
    std::string upload_date;
    std::string image_id;
    bool admits(const ImageRecord& r) const { return newer_first(upload_date, image_id, r.upload_date, r.image_id); }
  };

  // One day-and-shard partition of the GSI, newest first: every record in [lower, upper] older
  // than `after`, until at least `need` are in hand and every record sharing the upload date of
  // the need-th one is too (the index orders by uploadDate only, so ties come in any order).
  Result<std::vector<ImageRecord>> query_partition(const std::string& day, std::uint32_t shard,
                                                   const std::string& lower, const std::string& upper,
                                                   std::optional<RecordStatus> status,
                                                   const std::optional<Position>& after, std::size_t need) {
    json body{{"TableName", config.table},
              {"IndexName", config.gsi},
              {"KeyConditionExpression", "uploadDay = :day AND uploadDate BETWEEN :lower AND :upper"},
              {"ExpressionAttributeValues",
               {{":day", {{"S", dynamo::upload_day_key(day, shard)}}},
                {":lower", {{"S", lower}}},
                {":upper", {{"S", upper}}}}},
              {"ScanIndexForward", false},
              {"Limit", std::min<std::size_t>(need, static_cast<std::size_t>(kMaxPageSize) + 1)}};
    if (status) {
      body["FilterExpression"] = "#status = :status";
      body["ExpressionAttributeNames"] = {{"#status", "status"}};
      body["ExpressionAttributeValues"][":status"] = {{"S", std::string(to_string(*status))}};
    }
    std::vector<ImageRecord> records;
    for (;;) {
      auto page = call("Query", body);
      if (!page) return page.error();
      if (auto items = page->find("Items"); items != page->end() && items->is_array()) {
        for (const auto& item : *items) {
          auto record = dynamo::item_to_record(item);
          if (!record) return record.error();
          if (!after || after->admits(*record)) records.push_back(std::move(*record));
        }
      }
      auto last = page->find("LastEvaluatedKey");
      if (last == page->end() || !last->is_object() || last->empty()) break;
      if (records.size() >= need) {
        std::sort(records.begin(), records.end(), [](const ImageRecord& a, const ImageRecord& b) {
          return newer_first(a.upload_date, a.image_id, b.upload_date, b.image_id);
        });
        const std::string& boundary = records[need - 1].upload_date;
        std::string evaluated = last->value("uploadDate", json::object()).value("S", std::string{});
        if (evaluated < boundary) break;  // everything at or above the boundary is in hand
      }
      body["ExclusiveStartKey"] = *last;
    }
    return records;
  }

  Result<RecordPage> query_dates(const DateQuery& query) {
    if (auto v = validate_limit(query.limit); !v) return v.error();
    auto lower = normalize_lower_bound(query.from);
    if (!lower) return lower.error();
    auto upper = normalize_upper_bound(query.to);
    if (!upper) return upper.error();
    std::optional<Position> after;
    if (!query.page_token.empty()) {
      auto token = decode_page_token(query.page_token);
      if (!token) return token.error();
      if (token->kind != PageToken::Kind::after_position)
        return make_error(ErrorKind::invalid_argument, "invalid page token: not from a date query");
      after = Position{token->upload_date, token->image_id};
    }
    using std::chrono::days;
    if (upper->empty()) {
      auto today = std::chrono::floor<days>(std::chrono::system_clock::now());
      *upper = format_day(today + days{1}) + "T23:59:59.999Z";
    }
    auto upper_day = parse_day(upload_day(*upper));
    if (!upper_day) return upper_day.error();
    if (lower->empty()) *lower = format_day(*upper_day - days{config.open_range_days - 1}) + "T00:00:00.000Z";
    auto lower_day = parse_day(upload_day(*lower));
    if (!lower_day) return lower_day.error();
    RecordPage page;
    if (*lower > *upper) return page;
    if ((*upper_day - *lower_day).count() + 1 > config.max_query_days)
      return make_error(ErrorKind::invalid_argument, "a date query may span at most " +
                                                         std::to_string(config.max_query_days) +
                                                         " days; narrow from/to");
    // The position caps the walk: nothing newer than it is wanted.
    std::string top = *upper;
    if (after && after->upload_date < top) top = after->upload_date;
    if (*lower > top) return page;

    const std::size_t want = static_cast<std::size_t>(query.limit) + 1;  // +1: is there a next page?
    auto top_day = parse_day(upload_day(top));
    if (!top_day) return top_day.error();
    for (auto day = *top_day; day >= *lower_day && page.records.size() < want; day -= days{1}) {
      const std::string day_text = format_day(day);
      const std::size_t need = want - page.records.size();
      std::vector<std::future<Result<std::vector<ImageRecord>>>> shards;
      for (int s = 0; s < config.shards; ++s)
        shards.push_back(std::async(std::launch::async, [&, s] {
          return query_partition(day_text, static_cast<std::uint32_t>(s), *lower, top, query.status, after, need);
        }));
      std::vector<ImageRecord> merged;
      std::optional<Error> failure;
      for (auto& f : shards) {
        auto part = f.get();  // wait for every shard even after a failure: they use locals
        if (!part) {
          if (!failure) failure = part.error();
          continue;
        }
        std::move(part->begin(), part->end(), std::back_inserter(merged));
      }
      if (failure) return *failure;
      std::sort(merged.begin(), merged.end(), [](const ImageRecord& a, const ImageRecord& b) {
        return newer_first(a.upload_date, a.image_id, b.upload_date, b.image_id);
      });
      if (merged.size() > need) merged.resize(need);
      std::move(merged.begin(), merged.end(), std::back_inserter(page.records));
    }
    if (page.records.size() == want) {
      page.records.pop_back();
      const auto& last = page.records.back();
      page.next_page_token =
          encode_page_token(PageToken{PageToken::Kind::after_position, last.upload_date, last.image_id});
    }
    return page;
  }

  Result<RecordPage> scan_status(RecordStatus status, int limit, const std::string& page_token) {
    if (auto v = validate_limit(limit); !v) return v.error();
    json body{{"TableName", config.table},
              {"FilterExpression", "#status = :status"},
              {"ExpressionAttributeNames", {{"#status", "status"}}},
              {"ExpressionAttributeValues", {{":status", {{"S", std::string(to_string(status))}}}}}};
    if (!page_token.empty()) {
      auto token = decode_page_token(page_token);
      if (!token) return token.error();
      if (token->kind != PageToken::Kind::after_key)
        return make_error(ErrorKind::invalid_argument, "invalid page token: not from a status query");
      // A Scan resumes after any key given as ExclusiveStartKey, so the page can end on the
      // last record returned rather than where DynamoDB's page happened to end.
      body["ExclusiveStartKey"] = key_of(token->image_id);
    }
    const std::size_t want = static_cast<std::size_t>(limit) + 1;
    RecordPage page;
    for (;;) {
      auto response = call("Scan", body);
      if (!response) return response.error();
      if (auto items = response->find("Items"); items != response->end() && items->is_array()) {
        for (const auto& item : *items) {
          if (page.records.size() == want) break;
          auto record = dynamo::item_to_record(item);
          if (!record) return record.error();
          page.records.push_back(std::move(*record));
        }
      }
      if (page.records.size() == want) break;
      auto last = response->find("LastEvaluatedKey");
      if (last == response->end() || !last->is_object() || last->empty()) break;
      body["ExclusiveStartKey"] = *last;
    }
    if (page.records.size() == want) {
      page.records.pop_back();
      page.next_page_token = encode_page_token(PageToken{PageToken::Kind::after_key, "", page.records.back().image_id});
    }
    return page;
  }

  Status write_batch(json requests) {
    const auto& policy = config.batch_retry;
    const int max_attempts = std::max(1, policy.max_attempts);
    json body{{"RequestItems", {{config.table, std::move(requests)}}}};
    for (int attempt = 1;; ++attempt) {
      auto response = call("BatchWriteItem", body);
      if (!response) return response.error();
      auto unprocessed = response->value("UnprocessedItems", json::object());
      auto left = unprocessed.find(config.table);
      if (left == unprocessed.end() || !left->is_array() || left->empty()) return ok_status();
      if (attempt >= max_attempts)
        return make_error(ErrorKind::unavailable,
                          "DynamoDB BatchWriteItem on " + config.table + ": " + std::to_string(left->size()) +
                              " items still unprocessed after " + std::to_string(attempt) + " attempts (throttled)",
                          "UnprocessedItems");
      // Full jitter: a random wait up to the capped exponential delay.
      const auto cap = aws::retry_delay_cap(policy, attempt - 1);
      std::uniform_int_distribution<std::chrono::milliseconds::rep> pick(0, cap.count());
      std::this_thread::sleep_for(std::chrono::milliseconds(pick(jitter_engine())));
      body["RequestItems"] = json{{config.table, std::move(*left)}};
    }
  }

  // The table's description, checked against the layout we need.
  Result<std::string> table_state() {
    auto described = call("DescribeTable", json{{"TableName", config.table}});
    if (!described) return described.error();
    const json table = described->value("Table", json::object());
    const std::string status = table.value("TableStatus", std::string{});
    const json indexes = table.value("GlobalSecondaryIndexes", json::array());
    std::string index_status;
    for (const auto& index : indexes) {
      if (index.value("IndexName", std::string{}) != config.gsi) continue;
      std::string hash, range;
      for (const auto& key : index.value("KeySchema", json::array()))
        (key.value("KeyType", std::string{}) == "HASH" ? hash : range) = key.value("AttributeName", std::string{});
      if (hash != dynamo::kUploadDayAttribute || range != "uploadDate")
        return make_error(ErrorKind::invalid_argument, "table " + config.table + " has an index " + config.gsi +
                                                           " keyed on " + hash + "/" + range +
                                                           ", expected uploadDay/uploadDate");
      index_status = index.value("IndexStatus", std::string{});
    }
    if (index_status.empty() && status == "ACTIVE")
      return make_error(ErrorKind::invalid_argument,
                        "table " + config.table + " exists without the index " + config.gsi);
    if (status != "ACTIVE" || index_status.empty()) return status.empty() ? std::string("UNKNOWN") : status;
    return index_status;
  }
};

DynamoCatalog::DynamoCatalog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DynamoCatalog::~DynamoCatalog() = default;

Result<std::unique_ptr<DynamoCatalog>> DynamoCatalog::open(Config config, std::shared_ptr<aws::HttpClient> http) {
  auto invalid = [](const std::string& why) { return make_error(ErrorKind::invalid_argument, why); };
  if (config.region.empty() || !std::all_of(config.region.begin(), config.region.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      }))
    return invalid("DynamoDB region '" + config.region + "' is not a region name");
  if (!valid_name(config.table))
    return invalid("DynamoDB table name '" + config.table + "' must be 3-255 of a-z A-Z 0-9 _ - .");
  if (!valid_name(config.gsi))
    return invalid("DynamoDB index name '" + config.gsi + "' must be 3-255 of a-z A-Z 0-9 _ - .");
  if (config.shards < 1 || config.shards > kMaxShards)
    return invalid("shards must be 1.." + std::to_string(kMaxShards));
  if (config.max_query_days < 1) return invalid("max_query_days must be at least 1");
  if (config.open_range_days < 1 || config.open_range_days > config.max_query_days)
    return invalid("open_range_days must be 1..max_query_days");
  if (!config.credential_source &&
      (config.credentials.access_key_id.empty() || config.credentials.secret_access_key.empty()))
    return invalid("no AWS credentials for DynamoDB (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
  std::string endpoint = config.endpoint.empty() ? "https://dynamodb." + config.region + ".amazonaws.com"
                                                 : config.endpoint;
  if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0)
    return invalid("DynamoDB endpoint '" + endpoint + "' must start with http:// or https://");
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();

  auto impl = std::make_unique<Impl>();
  impl->url = endpoint + "/";
  impl->signing.credentials = config.credentials;
  impl->signing.source = config.credential_source;
  impl->signing.scope = aws::Scope{config.region, "dynamodb"};
  impl->http = http ? std::move(http) : std::make_shared<aws::HttpClient>(config.http);
  impl->config = std::move(config);
  return std::unique_ptr<DynamoCatalog>(new DynamoCatalog(std::move(impl)));
}

const DynamoCatalog::Config& DynamoCatalog::config() const { return impl_->config; }

Result<bool> DynamoCatalog::put_if_absent(const ImageRecord& record) { return impl_->put(record, true); }

Status DynamoCatalog::upsert(const ImageRecord& record) {
  auto r = impl_->put(record, false);
  if (!r) return r.error();
  return ok_status();
}

Result<ImageRecord> DynamoCatalog::get(const std::string& image_id) {
  if (image_id.empty()) return make_error(ErrorKind::invalid_argument, "empty imageId");
  auto r = impl_->call("GetItem",
                       json{{"TableName", impl_->config.table}, {"Key", key_of(image_id)}, {"ConsistentRead", true}});
  if (!r) return r.error();
  auto item = r->find("Item");
  if (item == r->end() || !item->is_object() || item->empty())
    return make_error(ErrorKind::not_found, "no catalog record " + image_id);
  return dynamo::item_to_record(*item);
}

Result<RecordPage> DynamoCatalog::query_by_upload_date(const DateQuery& query) { return impl_->query_dates(query); }

Result<RecordPage> DynamoCatalog::query_by_status(RecordStatus status, int limit, const std::string& page_token) {
  return impl_->scan_status(status, limit, page_token);
}

Status DynamoCatalog::remove(const std::string& image_id) {
  if (image_id.empty()) return make_error(ErrorKind::invalid_argument, "empty imageId");
  auto r = impl_->call("DeleteItem", json{{"TableName", impl_->config.table}, {"Key", key_of(image_id)}});
  if (!r) return r.error();
  return ok_status();
}

Status DynamoCatalog::batch_put(const std::vector<ImageRecord>& records) {
  // BatchWriteItem refuses two requests for one key, so the later duplicate replaces the earlier.
  std::map<std::string, std::size_t> last_index;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (auto v = validate_record(records[i]); !v) return v;
    last_index[records[i].image_id] = i;
  }
  json chunk = json::array();
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (last_index[records[i].image_id] != i) continue;
    auto item = dynamo::record_to_item(records[i], impl_->config.shards);
    if (!item) return item.error();
    chunk.push_back(json{{"PutRequest", {{"Item", std::move(*item)}}}});
    if (chunk.size() == kBatchWriteMax) {
      if (auto s = impl_->write_batch(std::move(chunk)); !s) return s;
      chunk = json::array();
    }
  }
  if (!chunk.empty()) return impl_->write_batch(std::move(chunk));
  return ok_status();
}

Status DynamoCatalog::create_table() {
  const auto& c = impl_->config;
  json body{
      {"TableName", c.table},
      {"BillingMode", "PAY_PER_REQUEST"},
      {"AttributeDefinitions",
       json::array({{{"AttributeName", "imageId"}, {"AttributeType", "S"}},
                    {{"AttributeName", dynamo::kUploadDayAttribute}, {"AttributeType", "S"}},
                    {{"AttributeName", "uploadDate"}, {"AttributeType", "S"}}})},
      {"KeySchema", json::array({{{"AttributeName", "imageId"}, {"KeyType", "HASH"}}})},
      {"GlobalSecondaryIndexes",
       json::array({{{"IndexName", c.gsi},
                     {"KeySchema", json::array({{{"AttributeName", dynamo::kUploadDayAttribute}, {"KeyType", "HASH"}},
                                                {{"AttributeName", "uploadDate"}, {"KeyType", "RANGE"}}})},
                     {"Projection", {{"ProjectionType", "ALL"}}}}})},
  };
  auto created = impl_->call("CreateTable", body);
  if (!created && created.error().code != "ResourceInUseException") return created.error();

  const auto deadline = std::chrono::steady_clock::now() + c.create_table_timeout;
  auto delay = std::chrono::milliseconds(20);
  for (;;) {
    auto state = impl_->table_state();
    if (!state) return state.error();
    if (*state == "ACTIVE") return ok_status();
    if (*state == "DELETING")
      return make_error(ErrorKind::unavailable, "table " + c.table + " is being deleted; try again when it is gone");
    if (std::chrono::steady_clock::now() + delay > deadline)
      return make_error(ErrorKind::unavailable, "table " + c.table + " is still " + *state + " after " +
                                                    std::to_string(c.create_table_timeout.count()) + " ms");
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(2000));
  }
}

Status DynamoCatalog::delete_table() {
  auto r = impl_->call("DeleteTable", json{{"TableName", impl_->config.table}});
  if (!r && r.error().code != "ResourceNotFoundException") return r.error();
  return ok_status();
}

}  // namespace thumbflow::catalog
