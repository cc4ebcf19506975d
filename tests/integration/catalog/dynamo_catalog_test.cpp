// DynamoCatalog on the dynalite peer: the catalog contract (a fresh table per test) and what
// only DynamoDB has: table creation and the day/shard layout of the date index.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <stdexcept>

#include "catalog/catalog_rules.hpp"
#include "catalog/dynamo_catalog.hpp"
#include "catalog/dynamo_item.hpp"
#include "catalog_contract.hpp"
#include "test_support.hpp"

namespace thumbflow::catalog {
namespace {

std::string unique_table(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

DynamoCatalogConfig peer_config(const std::string& table) {
  auto env = test::peer_env("dynalite");
  if (env["ENDPOINT"].empty())
    throw std::runtime_error("the dynalite peer is not running: run these tests through ctest (fixture peer_dynalite)");
  DynamoCatalogConfig config;
  config.endpoint = env["ENDPOINT"];
  config.region = env["REGION"];
  config.credentials = {env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""};
  config.table = table;
  // Open-ended date queries walk open_range_days back from tomorrow, one Query per day and
  // shard, so the window is kept as short as the contract allows: its records are dated from
  // 2026-11-20 (catalog_contract.cpp), so the window reaches back to that day whatever today is
  // (a fixed 7 days stopped reaching them on 2026-11-28).
  using std::chrono::days;
  const auto oldest = std::chrono::sys_days{std::chrono::year{2026} / 11 / 20};
  const auto today = std::chrono::floor<days>(std::chrono::system_clock::now());
  const auto span = static_cast<int>((today - oldest).count()) + 3;
  config.open_range_days = std::clamp(span, 7, config.max_query_days);
  config.http.retry = {3, std::chrono::milliseconds(10), std::chrono::milliseconds(100)};
  return config;
}

std::unique_ptr<DynamoCatalog> open_catalog(const std::string& table) {
  auto catalog = DynamoCatalog::open(peer_config(table));
  if (!catalog) throw std::runtime_error(catalog.error().describe());
  return std::move(*catalog);
}

class DynamoSubject final : public contract::Subject {
 public:
  DynamoSubject() : catalog_(open_catalog(unique_table("contract"))) {
    if (auto s = catalog_->create_table(); !s) throw std::runtime_error(s.error().describe());
  }
  ~DynamoSubject() override { (void)catalog_->delete_table(); }
  DynamoSubject(const DynamoSubject&) = delete;
  DynamoSubject& operator=(const DynamoSubject&) = delete;
  Catalog& catalog() override { return *catalog_; }

 private:
  std::unique_ptr<DynamoCatalog> catalog_;
};

using contract::CatalogContract;
INSTANTIATE_TEST_SUITE_P(Dynamo, CatalogContract,
                         testing::Values(contract::Factory{"Dynamo", [] {
                                                             return std::unique_ptr<contract::Subject>(
                                                                 new DynamoSubject());
                                                           }}),
                         contract::factory_name);

TEST(DynamoCatalogPeer, create_table_twice_succeeds) {
  auto catalog = open_catalog(unique_table("twice"));
  auto first = catalog->create_table();
  ASSERT_TRUE(first) << first.error().describe();
  auto second = catalog->create_table();
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_TRUE(catalog->delete_table());
  EXPECT_TRUE(catalog->delete_table());  // already gone is fine
}

TEST(DynamoCatalogPeer, an_existing_table_without_the_index_is_refused) {
  const std::string table = unique_table("noindex");
  auto catalog = open_catalog(table);
  ASSERT_TRUE(catalog->create_table());
  auto config = peer_config(table);
  config.gsi = "someOther-index";
  auto other = DynamoCatalog::open(config);
  ASSERT_TRUE(other);
  auto s = (*other)->create_table();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(s.error().message.find("someOther-index"), std::string::npos) << s.error().message;
  EXPECT_TRUE(catalog->delete_table());
}

TEST(DynamoCatalogPeer, a_missing_table_is_invalid_argument_with_a_hint) {
  auto catalog = open_catalog(unique_table("missing"));
  auto got = catalog->get("x");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(got.error().code, "ResourceNotFoundException");
  EXPECT_NE(got.error().message.find("create-table"), std::string::npos);
}

TEST(DynamoCatalogPeer, the_contract_data_spans_every_shard_and_day) {
  // What makes the contract's date tests exercise the merge across partitions: every shard is
  // used, and each day's records sit in several partitions.
  std::set<std::uint32_t> shards;
  std::map<std::string, std::set<std::uint32_t>> shards_per_day;
  for (const auto& r : contract::dated_records()) {
    auto shard = dynamo::shard_of(r.image_id, 8);
    shards.insert(shard);
    shards_per_day[std::string(upload_day(r.upload_date))].insert(shard);
  }
  EXPECT_EQ(shards.size(), 8u);
  EXPECT_EQ(shards_per_day.size(), 4u);
  for (const auto& [day, used] : shards_per_day) EXPECT_GE(used.size(), 5u) << day;
}

TEST(DynamoCatalogPeer, many_records_sharing_one_upload_date_page_exactly) {
  // More ties than a page in one partition: the walk must fetch every tie before cutting.
  auto catalog = open_catalog(unique_table("ties"));
  ASSERT_TRUE(catalog->create_table());
  std::vector<ImageRecord> records;
  for (int i = 0; i < 40; ++i)
    records.push_back(contract::minimal_record("tie-" + std::to_string(100 + i), "2026-11-25T10:00:00.000Z"));
  ASSERT_TRUE(catalog->batch_put(records));
  DateQuery q;
  q.from = q.to = "2026-11-25";
  q.limit = 3;
  std::vector<std::string> ids;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = catalog->query_by_upload_date(q);
    ASSERT_TRUE(page) << page.error().describe();
    for (const auto& r : page->records) ids.push_back(r.image_id);
    if (page->next_page_token.empty()) break;
    q.page_token = page->next_page_token;
  }
  std::vector<std::string> expected;
  for (int i = 139; i >= 100; --i) expected.push_back("tie-" + std::to_string(i));
  EXPECT_EQ(ids, expected);
  EXPECT_TRUE(catalog->delete_table());
}

TEST(DynamoCatalogPeer, a_range_over_max_query_days_is_refused) {
  auto catalog = open_catalog(unique_table("range"));
  DateQuery q;
  q.from = "2020-01-01";
  q.to = "2026-01-01";
  auto page = catalog->query_by_upload_date(q);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().kind, ErrorKind::invalid_argument);
}

}  // namespace
}  // namespace thumbflow::catalog
