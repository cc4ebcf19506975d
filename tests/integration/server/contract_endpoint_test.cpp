// The ObjectStore contract suite (tests/integration/storage) for S3Store pointed at this
// endpoint: one S3Server on an ephemeral 127.0.0.1 port over a temporary LocalStore folder,
// shared by the cases of this executable.
#include <memory>

#include "object_store_contract.hpp"
#include "server/s3_server.hpp"
#include "storage/s3_store.hpp"
#include "test_support.hpp"

namespace thumbflow::storage::contract {
namespace {

struct Endpoint {
  test::TempDir dir;
  server::AccessKey key = server::generate_access_key();
  std::unique_ptr<server::S3Server> server;
  Endpoint() {
    server::S3ServerConfig config;
    config.port = 0;
    server = std::make_unique<server::S3Server>(dir.path(), server::KeyRing({key}), config);
    if (auto st = server->start(); !st) ADD_FAILURE() << st.error().describe();
  }
};

std::unique_ptr<ObjectStore> endpoint_store() {
  static Endpoint endpoint;  // started on first use, stopped at exit
  S3Config c;
  c.endpoint = endpoint.server->endpoint();
  c.path_style = true;
  c.credentials = {endpoint.key.access_key_id, endpoint.key.secret_access_key, ""};
  c.retry.base_delay = std::chrono::milliseconds(20);
  c.retry.max_delay = std::chrono::milliseconds(500);
  auto store = S3Store::create(std::move(c));
  if (!store) {
    ADD_FAILURE() << store.error().describe();
    return nullptr;
  }
  return std::move(*store);
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(S3Store, ObjectStoreContract,
                         ::testing::Values(Backend{
                             .name = "thumbflow",
                             .make = endpoint_store,
                             .no_conditional_writes = std::nullopt,
                             .no_get_if_match = std::nullopt,
                             .no_edge_ranges = std::nullopt,
                             // Keys map to files in LocalStore: a path segment is at most NAME_MAX.
                             .no_long_segments = "the endpoint stores objects in a LocalStore folder, whose "
                                                 "path segments are at most 250 bytes",
                             .no_size_check = std::nullopt,
                             .no_empty_segments = "LocalStore cannot store keys with an empty segment (a//b)",
                             .multipart_etag = true,
                         }),
                         backend_name);

}  // namespace thumbflow::storage::contract
