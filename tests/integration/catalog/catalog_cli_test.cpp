// thumbflow catalog create-table against the dynalite peer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "catalog/dynamo_catalog.hpp"
#include "catalog_contract.hpp"
#include "test_support.hpp"

namespace thumbflow::catalog {
namespace {

std::string thumbflow_binary() { return (test::binary_dir() / "src" / "cli" / "thumbflow").string(); }

class CatalogCli : public testing::Test {
 protected:
  void SetUp() override {
    env_ = test::peer_env("dynalite");
    ASSERT_FALSE(env_["ENDPOINT"].empty()) << "the dynalite peer is not running: run through ctest";
    // The child inherits these; run_process takes no environment of its own.
    ::setenv("AWS_ACCESS_KEY_ID", env_["AWS_ACCESS_KEY_ID"].c_str(), 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", env_["AWS_SECRET_ACCESS_KEY"].c_str(), 1);
  }
  std::map<std::string, std::string> env_;
};

TEST_F(CatalogCli, create_table_creates_the_table_and_a_second_run_succeeds_too) {
  const std::string table = "cli-" + std::to_string(::getpid());
  const std::vector<std::string> argv{thumbflow_binary(), "catalog",  "create-table", "--endpoint",
                                      env_["ENDPOINT"],   "--table",  table,          "--region",
                                      "us-east-1"};
  auto first = test::run_process(argv);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("table " + table), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("ACTIVE"), std::string::npos) << first.out;
  auto second = test::run_process(argv);
  ASSERT_EQ(second.exit_code, 0) << second.err;

  // The table it made works as a catalog.
  DynamoCatalogConfig config;
  config.endpoint = env_["ENDPOINT"];
  config.credentials = {env_["AWS_ACCESS_KEY_ID"], env_["AWS_SECRET_ACCESS_KEY"], ""};
  config.table = table;
  auto catalog = DynamoCatalog::open(config);
  ASSERT_TRUE(catalog);
  auto put = (*catalog)->put_if_absent(contract::minimal_record("cli-1", "2026-11-25T10:00:00.000Z"));
  ASSERT_TRUE(put) << put.error().describe();
  EXPECT_TRUE(*put);
  DateQuery q;
  q.from = q.to = "2026-11-25";
  auto page = (*catalog)->query_by_upload_date(q);
  ASSERT_TRUE(page) << page.error().describe();
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_TRUE((*catalog)->delete_table());
}

TEST_F(CatalogCli, create_table_without_credentials_fails_and_says_why) {
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  auto r = test::run_process({thumbflow_binary(), "catalog", "create-table", "--endpoint", env_["ENDPOINT"]});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("AWS_ACCESS_KEY_ID"), std::string::npos) << r.err;
}

TEST_F(CatalogCli, help_names_every_option) {
  auto r = test::run_process({thumbflow_binary(), "catalog", "create-table", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* option : {"--endpoint", "--table", "--index", "--region", "AWS_ACCESS_KEY_ID", "PAY_PER_REQUEST"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option << " missing from:\n" << r.out;
}

}  // namespace
}  // namespace thumbflow::catalog
