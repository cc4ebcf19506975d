// Where AWS credentials and the region come from, in the order the AWS CLI and SDKs use:
//   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (also how Lambda
//      hands a function its role's keys)
//   2. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials),
//      section [<profile>]
//   3. the shared config file (AWS_CONFIG_FILE, default ~/.aws/config), section [profile <p>]
//      or [default]
//   4. the container endpoint (ECS tasks, EKS Pod Identity): AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
//      (on 169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI, with the Authorization token
//      from AWS_CONTAINER_AUTHORIZATION_TOKEN or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.
// The profile is the argument, else AWS_PROFILE, else "default". A profile named explicitly
// (argument or AWS_PROFILE) skips the environment keys, as `aws --profile` does, and must exist.
//
// Policy: resolve_credentials reads once; CredentialProvider caches and resolves again before
// container credentials expire (long-running `serve` on ECS/EKS). SSO, assume-role chains, credential_process and the EC2
// instance metadata service are not supported: a profile that only has those is reported as
// such instead of being silently skipped. A plain-http FULL_URI must point at a loopback or
// the container agents' link-local addresses, as the SDKs require, so a misconfigured
// variable cannot send the authorization token across a network in clear text.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "aws/http_client.hpp"
#include "aws/sigv4.hpp"
#include "core/error.hpp"

namespace thumbflow::aws {

// Limits on what is read (named so tests can hit them).
inline constexpr std::size_t kMaxSharedFileBytes = 1024 * 1024;        // ~/.aws/credentials or config
inline constexpr std::size_t kMaxContainerResponseBytes = 64 * 1024;   // the endpoint's JSON
inline constexpr std::size_t kMaxAuthorizationTokenBytes = 16 * 1024;  // token or token file
inline constexpr std::string_view kContainerRelativeHost = "http://169.254.170.2";

// Reads an environment variable; std::nullopt when unset. Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup process_environment();

struct CredentialOptions {
  EnvLookup env;                            // empty = the process environment
  HttpClient* http = nullptr;               // for the container endpoint; empty = a private client
  std::chrono::milliseconds container_timeout{2000};
};

// Where resolved credentials came from, for logs ("environment", "shared credentials file
// /root/.aws/credentials [default]", "container endpoint http://...").
struct ResolvedCredentials {
  Credentials credentials;
  std::string source;
  std::optional<std::chrono::system_clock::time_point> expiration;  // container credentials only
};

// access_denied (code NoCredentials) when no source has keys; invalid_argument for a named
// profile that does not exist, half a key pair, or a malformed file or endpoint answer;
// unavailable when the container endpoint cannot be reached.
Result<ResolvedCredentials> resolve_credentials_from(const std::string& profile, const CredentialOptions& options);
Result<Credentials> resolve_credentials(const std::string& profile = {});

// Credentials that stay valid: resolved once, then again when they carry an expiration that is
// less than `refresh_before` away. A failed refresh keeps serving the old keys while they are
// still valid and is reported once they are not. Thread-safe; source() plugs it into a
// SigningConfig.
class CredentialProvider : public std::enable_shared_from_this<CredentialProvider> {
 public:
  static Result<std::shared_ptr<CredentialProvider>> create(const std::string& profile, CredentialOptions options,
                                                            std::chrono::seconds refresh_before = std::chrono::minutes(5));
  Result<Credentials> get();
  CredentialSource source();
  std::string describe_source();  // where the current keys came from
  int resolutions() const;        // how many times the sources were read (tests)

 private:
  CredentialProvider(std::string profile, CredentialOptions options, std::chrono::seconds refresh_before,
                     ResolvedCredentials first);
  std::string profile_;
  CredentialOptions options_;
  std::chrono::seconds refresh_before_;
  mutable std::mutex mu_;
  ResolvedCredentials current_;
  int resolutions_ = 1;
};

// AWS_REGION, AWS_DEFAULT_REGION, then `region` of the profile in the config file.
// not_found when none is set.
Result<std::string> resolve_region(const std::string& profile = {}, const EnvLookup& env = {});

// ---- Pieces (exposed for tests) -------------------------------------------------------------
// One section of an AWS shared file: keys lower-cased, values trimmed; nested blocks
// ("s3 =\n  addressing_style = path") are kept as "s3.addressing_style". std::nullopt when the
// section is absent. `section` is the header's text between the brackets, e.g. "profile dev".
Result<std::optional<std::map<std::string, std::string>>> read_ini_section(std::string_view text,
                                                                            std::string_view section);
// The URL the container provider would call, or std::nullopt when neither variable is set.
Result<std::optional<std::string>> container_credentials_url(const EnvLookup& env);

}  // namespace thumbflow::aws
