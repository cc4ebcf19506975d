// The ObjectStore contract for S3Store on s3rver (scripts/peers/s3rver.sh).
#include "object_store_contract.hpp"
#include "s3_peer.hpp"

namespace thumbflow::storage::contract {

INSTANTIATE_TEST_SUITE_P(S3Store, ObjectStoreContract,
                         ::testing::Values(Backend{
                             .name = "s3rver",
                             .make = [] { return test_peers::peer_store("s3rver"); },
                             // Each gap below was seen on s3rver 3.7.1 with boto3 as well as with S3Store.
                             .no_conditional_writes = "s3rver 3.7.1 ignores If-None-Match and If-Match on PUT "
                                                      "(it overwrites)",
                             .no_get_if_match = "s3rver 3.7.1 ignores If-Match on GET",
                             .no_edge_ranges = "s3rver 3.7.1 answers bytes=0-0 with the whole object and "
                                               "bytes=-N with the first N+1 bytes",
                             .no_long_segments = "s3rver 3.7.1 stores a key as one file and crashes (unhandled "
                                                 "ENAMETOOLONG) on a 1024-byte segment",
                             .no_size_check = std::nullopt,
                             .no_empty_segments = "s3rver 3.7.1 answers 404 to a PUT of a key with an empty "
                                                  "segment (a//b)",
                             .multipart_etag = false,  // s3rver gives the whole body's MD5
                         }),
                         backend_name);

}  // namespace thumbflow::storage::contract
