#include "server/s3_auth.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "server/s3_error.hpp"

namespace thumbflow::server {
namespace fs = std::filesystem;

const AccessKey* KeyRing::find(std::string_view access_key_id) const {
  for (const auto& k : keys_)
    if (k.access_key_id == access_key_id) return &k;
  return nullptr;
}

namespace {

std::string random_from(std::string_view alphabet, std::size_t n) {
  std::string out;
  std::array<unsigned char, 64> buf{};
  while (out.size() < n) {
    if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) throw aws::CryptoError("RAND_bytes failed");
    for (unsigned char b : buf) {
      // Rejection sampling keeps the choice uniform.
      const std::size_t limit = 256 - 256 % alphabet.size();
      if (b < limit && out.size() < n) out += alphabet[b % alphabet.size()];
    }
  }
  return out;
}

std::string_view header_value(const aws::Headers& headers, std::string_view lower_name) {
  for (const auto& h : headers) {
    if (h.name.size() != lower_name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < h.name.size() && same; ++i) {
      char c = h.name[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      same = c == lower_name[i];
    }
    if (same) return h.value;
  }
  return {};
}

bool query_has(std::string_view query, std::string_view name) {
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view part = query.substr(start, end - start);
    if (part.substr(0, part.find('=')) == name) return true;
    start = end + 1;
  }
  return false;
}

Result<std::chrono::system_clock::time_point> request_time(const aws::ParsedAuth& auth) {
  return aws::parse_amz_date(auth.amz_date);
}

}  // namespace

AccessKey generate_access_key() {
  AccessKey key;
  key.access_key_id = "TF" + random_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 18);
  key.secret_access_key = random_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
  return key;
}

Result<std::optional<AccessKey>> access_key_from_environment() {
  const char* id = std::getenv(kAccessKeyEnv);
  const char* secret = std::getenv(kSecretKeyEnv);
  const bool has_id = id != nullptr && *id != '\0';
  const bool has_secret = secret != nullptr && *secret != '\0';
  if (!has_id && !has_secret) return std::optional<AccessKey>{};
  if (has_id != has_secret)
    return make_error(ErrorKind::invalid_argument,
                      std::string("set both ") + kAccessKeyEnv + " and " + kSecretKeyEnv + ", or neither");
  AccessKey key{id, secret};
  for (char c : key.access_key_id)
    if (c <= ' ' || c >= 0x7f || c == '/' || c == ',')
      return make_error(ErrorKind::invalid_argument,
                        std::string(kAccessKeyEnv) + " must be visible ASCII characters other than '/' and ','");
  return std::optional<AccessKey>{std::move(key)};
}

Result<LoadedCredentials> load_or_create_credentials(const fs::path& data_dir,
                                                     const std::optional<AccessKey>& override_key) {
  LoadedCredentials out;
  out.file = data_dir / kCredentialsFile;
  if (override_key) {
    out.key = *override_key;
    out.origin = LoadedCredentials::Origin::environment;
    return out;
  }
  std::error_code ec;
  if (fs::exists(out.file, ec)) {
    try {
      std::ifstream in(out.file);
      const auto j = nlohmann::json::parse(in);
      out.key.access_key_id = j.at("accessKeyId").get<std::string>();
      out.key.secret_access_key = j.at("secretAccessKey").get<std::string>();
    } catch (const std::exception& e) {
      return make_error(ErrorKind::invalid_argument, "cannot read " + out.file.string() + ": " + e.what());
    }
    if (out.key.access_key_id.empty() || out.key.secret_access_key.empty())
      return make_error(ErrorKind::invalid_argument, out.file.string() + " has an empty key");
    // The secret must stay private even if someone loosened the file's mode.
    ::chmod(out.file.c_str(), 0600);
    out.origin = LoadedCredentials::Origin::file;
    return out;
  }
  const fs::path dir = out.file.parent_path();
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorKind::io, "cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  out.key = generate_access_key();
  out.origin = LoadedCredentials::Origin::generated;
  const nlohmann::json j = {{"accessKeyId", out.key.access_key_id}, {"secretAccessKey", out.key.secret_access_key}};
  const std::string text = j.dump(2) + "\n";
  const fs::path tmp = dir / ("credentials.json.tmp" + std::to_string(::getpid()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorKind::io, "cannot create " + tmp.string() + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), out.file.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return make_error(ErrorKind::io, "cannot write " + out.file.string() + ": " + std::strerror(ok ? errno : err));
  }
  return out;
}

Result<Authenticated> authenticate(const aws::Request& request, const KeyRing& keys,
                                   std::chrono::system_clock::time_point now, const AuthPolicy& policy) {
  const std::string_view authorization = header_value(request.headers, "authorization");
  const bool presigned = query_has(request.query, "X-Amz-Signature") || query_has(request.query, "X-Amz-Credential") ||
                         query_has(request.query, "X-Amz-Algorithm");
  if (authorization.empty() && !presigned) return s3_failure("AccessDenied", "Access Denied (the request is not signed)");
  if (authorization.substr(0, 4) == "AWS ")
    return s3_failure("InvalidRequest",
                      "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.");
  auto parsed = aws::parse_request_auth(request);
  if (!parsed) {
    return s3_failure(presigned && authorization.empty() ? "AuthorizationQueryParametersError"
                                                         : "AuthorizationHeaderMalformed",
                      parsed.error().message);
  }
  const aws::ParsedAuth& auth = *parsed;
  if (auth.service != "s3")
    return s3_failure(auth.form == aws::AuthForm::query ? "AuthorizationQueryParametersError"
                                                        : "AuthorizationHeaderMalformed",
                      "the credential scope's service must be 's3', not '" + auth.service + "'");
  if (!auth.security_token.empty()) return s3_failure("InvalidToken", "this endpoint issues no session tokens");
  const AccessKey* key = keys.find(auth.access_key_id);
  if (key == nullptr) return s3_failure("InvalidAccessKeyId");

  auto when = request_time(auth);
  if (!when) return s3_failure("AccessDenied", when.error().message);
  if (auth.form == aws::AuthForm::header) {
    if (*when > now + policy.max_clock_skew || *when < now - policy.max_clock_skew)
      return s3_failure("RequestTimeTooSkewed",
                        "The difference between the request time (" + auth.amz_date +
                            ") and the current time is too large (more than " +
                            std::to_string(policy.max_clock_skew.count()) + " s).");
  } else {
    if (*when > now + policy.max_clock_skew) return s3_failure("AccessDenied", "Request is not valid yet");
    if (now > *when + auth.expires) return s3_failure("AccessDenied", "Request has expired");
  }

  Authenticated out;
  const std::string_view sha_header = header_value(request.headers, "x-amz-content-sha256");
  if (auth.form == aws::AuthForm::header && sha_header.empty())
    return s3_failure("InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  out.payload_hash = sha_header.empty() ? std::string(aws::kUnsignedPayload) : std::string(sha_header);
  const bool is_hash = out.payload_hash.size() == 64;
  const auto mode = chunked_mode_for(out.payload_hash);
  if (!is_hash && !mode && out.payload_hash != aws::kUnsignedPayload)
    return s3_failure("InvalidArgument",
                      "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a sha256");
  if (mode && auth.form == aws::AuthForm::query)
    return s3_failure("InvalidRequest", "aws-chunked uploads need header authentication");

  aws::Verification v;
  try {
    v = aws::verify(request, auth, key->secret_access_key);
  } catch (const aws::CryptoError& e) {
    return make_error(ErrorKind::internal, e.what());
  }
  switch (v.outcome) {
    case aws::Verification::Outcome::valid: break;
    case aws::Verification::Outcome::signature_mismatch: return s3_failure("SignatureDoesNotMatch");
    case aws::Verification::Outcome::rejected: return s3_failure("AccessDenied", v.detail);
    case aws::Verification::Outcome::internal_error: return make_error(ErrorKind::internal, v.detail);
  }
  if (mode && *mode != ChunkedMode::unsigned_trailer) {
    ChunkSigningContext ctx;
    ctx.signing_key = aws::signing_key(key->secret_access_key, auth.date, auth.region, auth.service);
    ctx.amz_date = auth.amz_date;
    ctx.scope = aws::credential_scope(auth.date, auth.region, auth.service);
    ctx.seed_signature = auth.signature;
    out.chunk_signing = std::move(ctx);
  }
  out.auth = std::move(parsed).value();
  return out;
}

}  // namespace thumbflow::server
