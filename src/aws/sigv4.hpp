// AWS Signature Version 4, written once for both ends of the wire: the libcurl S3 client signs
// with it and the local S3 server verifies with it, so the two cannot disagree about the
// canonical form. Pure computation: no sockets, no curl, no clock (the caller passes the time).
//
// Policy:
// - Paths and queries are taken as they appear on the request line (percent-encoded) and are
//   canonicalised here. With the S3 rules (CanonicalOptions::for_service("s3")) the path is
//   decoded and re-encoded once, so a raw '(' or a lower-case "%2b" signs like its canonical
//   form, and '.', '..' and '//' are kept: they are part of the object key. Other services get
//   the spec's dot-segment removal and double encoding. Query names and values are decoded and
//   re-encoded; '+' in a query decodes to a space, as S3, RADOS Gateway and botocore (which
//   sends spaces as '+' but signs them as %20) all treat it. A plus in a query is sent as %2B.
// - The signer owns Authorization, X-Amz-Date, X-Amz-Security-Token (and x-amz-content-sha256
//   when it adds it): values the caller put there are ignored and the returned ones replace them.
// - Every x-amz-* header is signed, and the verifier refuses requests carrying unsigned ones
//   (otherwise anyone holding a presigned PUT could add x-amz-acl or metadata).
// - Every size taken from the wire is bounded by a named limit below; parsing refuses anything
//   past it with ErrorKind::invalid_argument. Time skew and URL expiry are the caller's
//   decision: verify() checks the signature, not the clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/primitives.hpp"
#include "core/error.hpp"

namespace thumbflow::aws {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// ---- Limits (each is enforced when signing and when parsing; tested at the edge) ----------
// Headers in one SignedHeaders list. Real clients sign 3-10.
inline constexpr std::size_t kMaxSignedHeaders = 64;
// Headers in a request handed to the signer or the verifier.
inline constexpr std::size_t kMaxRequestHeaders = 128;
inline constexpr std::size_t kMaxHeaderNameLength = 128;
// One header value; S3 caps all user metadata at 2 KiB, so 16 KiB leaves room for anything real.
inline constexpr std::size_t kMaxHeaderValueLength = 16 * 1024;
// The whole Authorization header value (64 names of 128 characters fit).
inline constexpr std::size_t kMaxAuthorizationLength = 16 * 1024;
// The path on the request line: a 1024-byte S3 key percent-encoded is at most 3072 characters.
inline constexpr std::size_t kMaxPathLength = 8 * 1024;
// The query string without '?', and its number of parameters.
inline constexpr std::size_t kMaxQueryLength = 16 * 1024;
inline constexpr std::size_t kMaxQueryParameters = 128;
inline constexpr std::size_t kMaxMethodLength = 16;
inline constexpr std::size_t kMaxAccessKeyLength = 128;
// Region and service names in the credential scope.
inline constexpr std::size_t kMaxScopeFieldLength = 64;
// STS session tokens are around 1 KiB today; AWS asks clients not to assume a fixed size.
inline constexpr std::size_t kMaxSecurityTokenLength = 8 * 1024;
// Presigned URL lifetime: AWS accepts 1 second to 7 days.
inline constexpr std::chrono::seconds kMinPresignExpiry{1};
inline constexpr std::chrono::seconds kMaxPresignExpiry{7 * 24 * 3600};
// Signing keys remembered by signing_key(); one per (secret, day, region, service).
inline constexpr std::size_t kSigningKeyCacheCapacity = 32;
// Header names never signed by default: hop-by-hop headers, and headers proxies or HTTP
// libraries rewrite (a signature over them would break in transit).
inline constexpr std::string_view kUnsignedHeaderNames[] = {
    "authorization",       "connection",       "expect",     "keep-alive",
    "proxy-authorization", "proxy-connection", "te",         "trailer",
    "transfer-encoding",   "upgrade",          "user-agent", "x-amzn-trace-id"};

// ---- Inputs ---------------------------------------------------------------------------------
struct Header {
  std::string name;   // any case; compared case-insensitively
  std::string value;  // as sent; canonicalisation trims and folds white space
};
using Headers = std::vector<Header>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
};

struct Scope {
  std::string region;   // "us-east-1"
  std::string service;  // "s3", "dynamodb", ...
};

struct Request {
  std::string method;      // "GET"; upper-case letters only
  std::string path = "/";  // as on the request line: percent-encoded, starts with '/'
  std::string query;       // as on the request line, without '?'; may be empty
  Headers headers;         // must include Host
  // Lower-case hex SHA-256 of the body, kUnsignedPayload, or a STREAMING-* marker. Empty: taken
  // from an x-amz-content-sha256 header if the request has one, else (when signing) the
  // empty-body hash; verify() documents its own fallback.
  std::string payload_hash;
};

// Splits "http[s]://host[:port]/path?query" into a Request and adds the Host header botocore
// would send (default ports dropped) unless `headers` already has one. The fragment is dropped.
Result<Request> request_from_url(std::string_view method, std::string_view url, Headers headers = {},
                                 std::string payload_hash = {});

struct CanonicalOptions {
  bool double_encode_path = true;  // encode the (already encoded) path once more
  bool normalize_path = true;      // remove '.' and '..' segments and empty segments
  // S3: neither (object keys are taken literally). Every other service: both, as the spec says.
  static CanonicalOptions for_service(std::string_view service);
};

struct SigningOptions {
  // Empty: sign every header of the request except kUnsignedHeaderNames. Otherwise sign these
  // names (case-insensitive; each must be present) plus host and every x-amz-* header.
  std::vector<std::string> signed_headers;
  std::optional<CanonicalOptions> canonical;  // default: CanonicalOptions::for_service
  std::optional<bool> content_sha256_header;  // add x-amz-content-sha256; default: service is s3
};

// ---- Header authentication ------------------------------------------------------------------
struct SignedRequest {
  // Set (replace, never append) these on the outgoing request: Authorization, X-Amz-Date,
  // x-amz-content-sha256 (S3) and X-Amz-Security-Token (session credentials).
  Headers headers_to_set;
  std::string signature;          // 64 lower-case hex digits
  std::string signed_headers;     // "host;range;x-amz-content-sha256;x-amz-date"
  std::string canonical_request;  // for logs and for comparing with a server's error report
  std::string string_to_sign;
};

Result<SignedRequest> sign_request(const Request& request, const Credentials& credentials, const Scope& scope,
                                   std::chrono::system_clock::time_point now,
                                   const SigningOptions& options = {});

// ---- Presigned URLs (query-string authentication) ----------------------------------------------
struct PresignedRequest {
  // The complete query string to send instead of request.query (without '?'): the request's
  // own parameters and the X-Amz-* ones in canonical order, X-Amz-Signature last.
  std::string query;
  std::string signature;
  std::string signed_headers;
  std::string canonical_request;
  std::string string_to_sign;
};

// S3 signs UNSIGNED-PAYLOAD (request.payload_hash must be empty or that); other services sign
// the payload hash as header authentication does. Headers other than host that get signed
// must be sent by whoever uses the URL.
Result<PresignedRequest> presign_request(const Request& request, const Credentials& credentials,
                                         const Scope& scope, std::chrono::system_clock::time_point now,
                                         std::chrono::seconds expires, const SigningOptions& options = {});

// Convenience: presign a URL that needs no headers but Host ("https://b.s3.../key" -> URL).
Result<std::string> presign_url(std::string_view method, std::string_view url, const Credentials& credentials,
                                const Scope& scope, std::chrono::system_clock::time_point now,
                                std::chrono::seconds expires);

// ---- Pieces (exposed for the server and for tests) -----------------------------------------------
Result<std::string> canonical_uri(std::string_view path, const CanonicalOptions& options);
// Decodes every name and value ('+' is a space), re-encodes them (uri_encode with '/' encoded),
// sorts by name then value; "uploads" becomes "uploads=". Empty components ("a=1&&b=2") are
// skipped.
Result<std::string> canonical_query_string(std::string_view query);
// "20130524/us-east-1/s3/aws4_request"
std::string credential_scope(std::string_view date, std::string_view region, std::string_view service);
// HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request", served from a small
// thread-safe cache (kSigningKeyCacheCapacity entries keyed by a SHA-256 of the secret).
Digest signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                   std::string_view service);

// ---- Server side: parsing and verification -------------------------------------------------------
enum class AuthForm { header, query };

struct ParsedAuth {
  AuthForm form = AuthForm::header;
  std::string access_key_id;
  std::string date;  // YYYYMMDD from the credential scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lower-case, strictly ascending
  std::string signature;                    // 64 lower-case hex digits
  // X-Amz-Date: the query parameter, or (parse_request_auth) the header. Its day equals `date`.
  std::string amz_date;
  std::chrono::seconds expires{0};  // query form only
  std::string security_token;       // X-Amz-Security-Token parameter or header; may be empty
};

// "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date,
// Signature=<64 hex>" (components in any order, separated by ',' and optional spaces).
// amz_date and security_token stay empty: they live in other headers.
Result<ParsedAuth> parse_authorization_header(std::string_view value);
// The X-Amz-* parameters of a presigned URL's query string (other parameters are ignored).
Result<ParsedAuth> parse_presigned_query(std::string_view query);
// Either form from a received request (both, or neither, is an error); for the header form also
// reads X-Amz-Date (required) and X-Amz-Security-Token from the headers.
Result<ParsedAuth> parse_request_auth(const Request& request);

struct Verification {
  enum class Outcome {
    valid,
    signature_mismatch,  // well-formed, but the signature is not ours (wrong secret, tampering)
    rejected,            // breaks a SigV4 rule: signed header missing, x-amz-* header unsigned,
                         // host unsigned, date outside the credential scope, bad payload hash...
    internal_error,      // OpenSSL failed
  };
  Outcome outcome = Outcome::rejected;
  std::string detail;             // why, for logs; never contains the expected signature
  std::string canonical_request;  // what was computed (S3 echoes both in SignatureDoesNotMatch)
  std::string string_to_sign;
  bool valid() const { return outcome == Outcome::valid; }
};

// Recomputes the signature of `request` as `auth` describes it and compares in constant time
// (CRYPTO_memcmp). The payload hash is request.payload_hash, else the x-amz-content-sha256
// header, else UNSIGNED-PAYLOAD for presigned S3 URLs; otherwise the caller must hash the body.
// When x-amz-content-sha256 is a real hash, checking the body against it is the caller's job.
Verification verify(const Request& request, const ParsedAuth& auth, std::string_view secret_access_key,
                    const std::optional<CanonicalOptions>& options = std::nullopt);

}  // namespace thumbflow::aws
