// Who may talk to the local endpoint, and the check of every request: SigV4 in the
// Authorization header or in a presigned URL, verified with the same signer the S3 client uses
// (thumbflow_aws), against the configured access keys, with S3's clock rules.
//
// Policy:
// - Every request must be signed; there is no anonymous access (AccessDenied).
// - Header authentication: X-Amz-Date within max_clock_skew of the server's clock either way
//   (RequestTimeTooSkewed). Presigned URLs: not before X-Amz-Date - max_clock_skew, not after
//   X-Amz-Date + X-Amz-Expires (AccessDenied "Request has expired").
// - x-amz-content-sha256 is required with header authentication, as S3 requires it; its value
//   decides how the body is checked (a hash, UNSIGNED-PAYLOAD or one of the aws-chunked forms).
// - Any region in the credential scope is accepted (the endpoint has none of its own); the
//   service must be "s3". Session tokens are refused: the endpoint issues none.
// - Keys: THUMBFLOW_ACCESS_KEY / THUMBFLOW_SECRET_KEY when set (never written to disk), else
//   DATA/.thumbflow/credentials.json (mode 0600), generated with random keys on first start.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/sigv4.hpp"
#include "core/error.hpp"
#include "server/aws_chunked.hpp"

namespace thumbflow::server {

struct AccessKey {
  std::string access_key_id;
  std::string secret_access_key;
};

class KeyRing {
 public:
  KeyRing() = default;
  explicit KeyRing(std::vector<AccessKey> keys) : keys_(std::move(keys)) {}
  void add(AccessKey key) { keys_.push_back(std::move(key)); }
  const AccessKey* find(std::string_view access_key_id) const;
  const std::vector<AccessKey>& keys() const { return keys_; }

 private:
  std::vector<AccessKey> keys_;
};

// 20-character id ("TF" + 18 of [A-Z0-9]) and 40-character secret from OpenSSL's RAND_bytes.
AccessKey generate_access_key();

inline constexpr const char* kAccessKeyEnv = "THUMBFLOW_ACCESS_KEY";
inline constexpr const char* kSecretKeyEnv = "THUMBFLOW_SECRET_KEY";
// Both variables, or neither (nullopt); one without the other is an error.
Result<std::optional<AccessKey>> access_key_from_environment();

inline constexpr std::string_view kCredentialsFile = ".thumbflow/credentials.json";

struct LoadedCredentials {
  AccessKey key;
  enum class Origin { environment, file, generated } origin = Origin::file;
  std::filesystem::path file;  // where they are (or would be) stored
};
// `override_key` (from the environment) wins and is not stored; otherwise the file is read, or
// created with a new random key (directory 0700, file 0600, written atomically).
Result<LoadedCredentials> load_or_create_credentials(const std::filesystem::path& data_dir,
                                                     const std::optional<AccessKey>& override_key);

struct AuthPolicy {
  // S3's limit on the difference between the request's X-Amz-Date and the server's clock.
  std::chrono::seconds max_clock_skew{15 * 60};
};

struct Authenticated {
  aws::ParsedAuth auth;
  // x-amz-content-sha256 as sent (a hash, UNSIGNED-PAYLOAD or STREAMING-*), UNSIGNED-PAYLOAD for
  // presigned URLs that do not send one.
  std::string payload_hash;
  // Set for the signed aws-chunked forms: what their chunk signatures chain from.
  std::optional<ChunkSigningContext> chunk_signing;
};

// Errors carry S3 codes: AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch,
// RequestTimeTooSkewed, AuthorizationHeaderMalformed, AuthorizationQueryParametersError,
// InvalidToken, InvalidRequest (missing x-amz-content-sha256, SigV2), InvalidArgument.
Result<Authenticated> authenticate(const aws::Request& request, const KeyRing& keys,
                                   std::chrono::system_clock::time_point now, const AuthPolicy& policy = {});

}  // namespace thumbflow::server
