// The ObjectStore contract for LocalStore (a folder per bucket under a temporary root).
#include "object_store_contract.hpp"
#include "storage/local_store.hpp"
#include "test_support.hpp"

namespace thumbflow::storage::contract {
namespace {

std::unique_ptr<ObjectStore> make_local() {
  static test::TempDir root;  // one root for the run; each test has its own bucket
  return std::make_unique<LocalStore>(root.path());
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(LocalStore, ObjectStoreContract,
                         ::testing::Values(Backend{
                             .name = "local",
                             .make = make_local,
                             .no_conditional_writes = std::nullopt,
                             .no_get_if_match = std::nullopt,
                             .no_edge_ranges = std::nullopt,
                             .no_long_segments = "LocalStore maps a key segment to a file name, and file "
                                                 "names are at most 255 bytes (NAME_MAX)",
                             .no_size_check = std::nullopt,
                             .no_empty_segments = "LocalStore refuses keys with empty segments (a//b): they "
                                                  "have no faithful path (KeyNotStorable)",
                             .multipart_etag = false,
                         }),
                         backend_name);

}  // namespace thumbflow::storage::contract
