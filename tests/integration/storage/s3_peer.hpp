// S3Store for a running peer (scripts/peers/<name>.sh): endpoint and keys from its .env.
#pragma once

#include <memory>
#include <string>

#include "storage/s3_store.hpp"

namespace thumbflow::storage::test_peers {

// The peer's config (path style, its keys, fast retries); ADD_FAILURE and an empty endpoint
// when the peer is not running (tests must be started through CTest, which starts the peer).
S3Config peer_config(const std::string& peer);
std::unique_ptr<ObjectStore> peer_store(const std::string& peer);

}  // namespace thumbflow::storage::test_peers
