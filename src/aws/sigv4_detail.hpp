// Internal to thumbflow_aws: the steps signing and verification share, so both sides build the
// canonical request with literally the same code. Not part of the public surface.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/sigv4.hpp"

namespace thumbflow::aws::detail {

inline constexpr std::string_view kParamAlgorithm = "X-Amz-Algorithm";
inline constexpr std::string_view kParamCredential = "X-Amz-Credential";
inline constexpr std::string_view kParamDate = "X-Amz-Date";
inline constexpr std::string_view kParamExpires = "X-Amz-Expires";
inline constexpr std::string_view kParamSignedHeaders = "X-Amz-SignedHeaders";
inline constexpr std::string_view kParamSignature = "X-Amz-Signature";
inline constexpr std::string_view kParamSecurityToken = "X-Amz-Security-Token";
inline constexpr std::string_view kScopeTerminator = "aws4_request";

// Decoded (name, value) pairs in their original order.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

Error invalid(std::string message);
bool is_auth_param(std::string_view decoded_name);

Status check_method(std::string_view method);
Status check_header_name(std::string_view name);
Status check_headers(const Headers& headers);
Status check_access_key(std::string_view access_key_id);
Status check_scope_field(std::string_view what, std::string_view value);
Status check_payload_hash(std::string_view payload_hash);
Status check_date8(std::string_view date);

Result<QueryParams> decode_query(std::string_view query);
// Encodes, sorts by encoded name then value, joins with '&'.
std::string encode_query(const QueryParams& params);

// Values of every header named `lower_name` (case-insensitive), in order.
std::vector<std::string_view> header_values(const Headers& headers, std::string_view lower_name);
// Trims and folds runs of white space to one space.
std::string canonical_header_value(std::string_view value);
// "name:v1,v2\n" per name; `sorted_names` must be lower-case, sorted, and present.
Result<std::string> canonical_headers(const Headers& headers, const std::vector<std::string>& sorted_names);
std::string join_names(const std::vector<std::string>& names);
bool is_amz_header(std::string_view lower_name);
// The payload hash a request signs: `explicit_hash`, else the x-amz-content-sha256 header, else
// `fallback` (empty: there is none, an error).
Result<std::string> resolve_payload_hash(const Headers& headers, std::string_view explicit_hash,
                                         std::string_view fallback);

struct Computed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

struct SignatureInput {
  std::string_view method;
  std::string_view canonical_uri;
  std::string_view canonical_query;
  std::string_view canonical_headers;
  std::string_view signed_headers;
  std::string_view payload_hash;
  std::string_view amz_date;
  std::string_view date;  // YYYYMMDD
  std::string_view region;
  std::string_view service;
};

// May throw CryptoError.
Computed compute_signature(const SignatureInput& in, std::string_view secret_access_key);

}  // namespace thumbflow::aws::detail
