// SqliteCatalog: the catalog contract on a temporary file, and what only a file-based catalog
// must survive: several processes writing the same ids and opening a fresh file at once.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "catalog/image_id.hpp"
#include "catalog/sqlite_catalog.hpp"
#include "catalog_contract.hpp"
#include "test_support.hpp"

namespace thumbflow::catalog {
namespace {

class SqliteSubject final : public contract::Subject {
 public:
  SqliteSubject() {
    auto opened = SqliteCatalog::open(dir_.path() / "catalog.db");
    if (!opened) throw std::runtime_error(opened.error().describe());
    catalog_ = std::move(*opened);
  }
  Catalog& catalog() override { return *catalog_; }

 private:
  test::TempDir dir_;
  std::unique_ptr<SqliteCatalog> catalog_;
};

using contract::CatalogContract;
INSTANTIATE_TEST_SUITE_P(Sqlite, CatalogContract,
                         testing::Values(contract::Factory{"Sqlite", [] {
                                                             return std::unique_ptr<contract::Subject>(
                                                                 new SqliteSubject());
                                                           }}),
                         contract::factory_name);

constexpr int kProcesses = 6;
constexpr int kIds = 50;

std::vector<ImageRecord> race_records() {
  std::vector<ImageRecord> records;
  for (int i = 0; i < kIds; ++i)
    records.push_back(contract::minimal_record(make_image_id("photos", "race/" + std::to_string(i), "v1"),
                                               "2026-11-25T10:00:00.000Z"));
  return records;
}

// Forks kProcesses children that each open `path` themselves (no connection crosses a fork)
// and put_if_absent every id, starting at different offsets. A child's exit status is how many
// inserts it won, or 100 + something when it hit an error.
std::vector<int> race(const std::filesystem::path& path) {
  const auto records = race_records();
  int go[2];
  if (pipe(go) != 0) throw std::runtime_error("pipe failed");
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    if (pid == 0) {
      close(go[1]);
      char c;
      if (read(go[0], &c, 1) < 0) _exit(101);  // wait for the start signal (EOF)
      auto catalog = SqliteCatalog::open(path);
      if (!catalog) _exit(102);
      int won = 0;
      for (int i = 0; i < kIds; ++i) {
        auto put = (*catalog)->put_if_absent(records[static_cast<std::size_t>((i + p * 11) % kIds)]);
        if (!put) _exit(103);
        if (*put) ++won;
      }
      _exit(won);
    }
    children.push_back(pid);
  }
  close(go[0]);
  close(go[1]);  // EOF starts every child at once
  std::vector<int> results;
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    results.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 200);
  }
  return results;
}

TEST(SqliteCatalogProcesses, racing_put_if_absent_inserts_each_id_exactly_once) {
  test::TempDir dir;
  const auto path = dir.path() / "catalog.db";
  ASSERT_TRUE(SqliteCatalog::open(path));  // schema first; this race is about the rows
  auto results = race(path);
  int total = 0;
  for (int r : results) {
    EXPECT_LE(r, kIds) << "a child failed with status " << r;
    total += r;
  }
  EXPECT_EQ(total, kIds);
  auto catalog = SqliteCatalog::open(path);
  ASSERT_TRUE(catalog);
  DateQuery all;
  all.limit = 1000;
  auto page = (*catalog)->query_by_upload_date(all);
  ASSERT_TRUE(page) << page.error().describe();
  EXPECT_EQ(page->records.size(), static_cast<std::size_t>(kIds));
}

TEST(SqliteCatalogProcesses, opening_a_new_file_from_many_processes_at_once_migrates_it_once) {
  test::TempDir dir;
  const auto path = dir.path() / "fresh.db";
  auto results = race(path);  // every child opens the not-yet-existing file
  int total = 0;
  for (int r : results) {
    EXPECT_LE(r, kIds) << "a child failed with status " << r;
    total += r;
  }
  EXPECT_EQ(total, kIds);
}

}  // namespace
}  // namespace thumbflow::catalog
