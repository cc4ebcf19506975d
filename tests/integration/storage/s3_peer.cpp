#include "s3_peer.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace thumbflow::storage::test_peers {

S3Config peer_config(const std::string& peer) {
  const auto env = test::peer_env(peer);
  S3Config c;
  if (!env.count("ENDPOINT")) {
    ADD_FAILURE() << "peer '" << peer << "' is not running: no " << peer
                  << ".env (run through ctest, which starts scripts/peers/" << peer << ".sh)";
    return c;
  }
  c.endpoint = env.at("ENDPOINT");
  c.region = env.count("REGION") ? env.at("REGION") : "us-east-1";
  c.path_style = true;
  c.credentials = {env.at("ACCESS_KEY"), env.at("SECRET_KEY"), ""};
  c.retry.base_delay = std::chrono::milliseconds(20);
  c.retry.max_delay = std::chrono::milliseconds(500);
  return c;
}

std::unique_ptr<ObjectStore> peer_store(const std::string& peer) {
  S3Config c = peer_config(peer);
  if (c.endpoint.empty()) return nullptr;
  auto store = S3Store::create(std::move(c));
  if (!store) {
    ADD_FAILURE() << store.error().describe();
    return nullptr;
  }
  return std::move(*store);
}

}  // namespace thumbflow::storage::test_peers
