// The ObjectStore contract for S3Store on Ceph RADOS Gateway (scripts/peers/rgw.sh).
#include "object_store_contract.hpp"
#include "s3_peer.hpp"

namespace thumbflow::storage::contract {

INSTANTIATE_TEST_SUITE_P(S3Store, ObjectStoreContract,
                         ::testing::Values(Backend{
                             .name = "rgw",
                             .make = [] { return test_peers::peer_store("rgw"); },
                             .no_conditional_writes = std::nullopt,
                             .no_get_if_match = std::nullopt,
                             .no_edge_ranges = std::nullopt,
                             .no_long_segments = std::nullopt,
                             .no_size_check = std::nullopt,
                             .no_empty_segments = std::nullopt,
                             .multipart_etag = true,
                         }),
                         backend_name);

}  // namespace thumbflow::storage::contract
