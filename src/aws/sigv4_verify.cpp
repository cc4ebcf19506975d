// The server side of SigV4: parsing what a client sent (Authorization header or presigned query)
// and recomputing its signature. Everything here reads untrusted input, so every field is
// checked against its format and its named limit before use, errors name the field at fault,
// and the final comparison is constant-time.
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <optional>

#include "aws/sigv4.hpp"
#include "aws/sigv4_detail.hpp"
#include "core/text.hpp"

namespace thumbflow::aws {
namespace {

using namespace detail;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// "AK/20130524/us-east-1/s3/aws4_request"
Status parse_credential(std::string_view text, ParsedAuth& out) {
  if (std::count(text.begin(), text.end(), '/') != 4) {
    return invalid("credential must be <access key>/<YYYYMMDD>/<region>/<service>/aws4_request");
  }
  const auto parts = split(text, '/');
  if (Status s = check_access_key(parts[0]); !s) return invalid("credential: " + s.error().message);
  if (Status s = check_date8(parts[1]); !s) return s;
  if (Status s = check_scope_field("credential region", parts[2]); !s) return s;
  if (Status s = check_scope_field("credential service", parts[3]); !s) return s;
  if (parts[4] != kScopeTerminator) return invalid("credential scope must end with aws4_request");
  out.access_key_id = std::string(parts[0]);
  out.date = std::string(parts[1]);
  out.region = std::string(parts[2]);
  out.service = std::string(parts[3]);
  return ok_status();
}

Result<std::vector<std::string>> parse_signed_headers(std::string_view text) {
  if (text.empty()) return invalid("signed headers list is empty");
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(';', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view name = text.substr(start, end - start);
    start = end + 1;
    if (names.size() == kMaxSignedHeaders) {
      return invalid("more than " + std::to_string(kMaxSignedHeaders) + " signed headers");
    }
    if (Status s = check_header_name(name); !s) return invalid("signed headers: " + s.error().message);
    if (ascii_lower(name) != name) return invalid("signed header '" + std::string(name) + "' is not lower-case");
    if (!names.empty() && name <= names.back()) {
      return invalid("signed headers are not sorted or repeat '" + std::string(name) + "'");
    }
    names.emplace_back(name);
  }
  return names;
}

Result<std::string> parse_signature(std::string_view text) {
  const bool hex = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
  if (text.size() != 64 || !hex) return invalid("signature must be 64 hex digits");
  return ascii_lower(text);
}

Status check_day_matches(std::string_view amz_date, std::string_view scope_date) {
  if (auto t = parse_amz_date(amz_date); !t) return invalid("X-Amz-Date: " + t.error().message);
  if (amz_date.substr(0, 8) != scope_date) {
    return invalid("X-Amz-Date " + std::string(amz_date) + " is not on the credential scope's day " +
                   std::string(scope_date));
  }
  return ok_status();
}

Result<std::chrono::seconds> parse_expires(std::string_view text) {
  const bool digits = !text.empty() && text.size() <= 10 &&
                      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  long long value = 0;
  if (digits) {
    for (char c : text) value = value * 10 + (c - '0');
  }
  if (!digits || value < kMinPresignExpiry.count() || value > kMaxPresignExpiry.count()) {
    return invalid("X-Amz-Expires must be a whole number of seconds from " +
                   std::to_string(kMinPresignExpiry.count()) + " to " +
                   std::to_string(kMaxPresignExpiry.count()));
  }
  return std::chrono::seconds(value);
}

// The single value of a header that may appear at most once; nullopt when absent.
Result<std::optional<std::string_view>> single_header(const Headers& headers, std::string_view lower_name) {
  const auto values = header_values(headers, lower_name);
  if (values.size() > 1) return invalid("more than one " + std::string(lower_name) + " header");
  if (values.empty()) return std::optional<std::string_view>{};
  return std::optional<std::string_view>{values.front()};
}

bool query_has_auth(const QueryParams& params) {
  return std::any_of(params.begin(), params.end(), [](const auto& p) {
    return p.first == kParamAlgorithm || p.first == kParamCredential || p.first == kParamSignature;
  });
}

Verification verify_impl(const Request& request, const ParsedAuth& auth, std::string_view secret,
                         const std::optional<CanonicalOptions>& options) {
  Verification v;
  auto reject = [&v](std::string detail) {
    v.outcome = Verification::Outcome::rejected;
    v.detail = std::move(detail);
    return v;
  };
  const bool query_form = auth.form == AuthForm::query;
  if (Status s = check_method(request.method); !s) return reject(s.error().message);
  if (Status s = check_headers(request.headers); !s) return reject(s.error().message);
  if (secret.empty()) return reject("secret access key is empty");
  if (Status s = check_access_key(auth.access_key_id); !s) return reject(s.error().message);
  if (Status s = check_date8(auth.date); !s) return reject(s.error().message);
  if (Status s = check_scope_field("region", auth.region); !s) return reject(s.error().message);
  if (Status s = check_scope_field("service", auth.service); !s) return reject(s.error().message);
  auto signature = parse_signature(auth.signature);
  if (!signature) return reject(signature.error().message);

  std::string amz_date = auth.amz_date;
  if (amz_date.empty() && !query_form) {
    auto header = single_header(request.headers, "x-amz-date");
    if (!header) return reject(header.error().message);
    if (!header->has_value()) return reject("the request has no X-Amz-Date header");
    amz_date = std::string(trim(**header));
  }
  if (Status s = check_day_matches(amz_date, auth.date); !s) return reject(s.error().message);
  if (query_form && (auth.expires < kMinPresignExpiry || auth.expires > kMaxPresignExpiry)) {
    return reject("X-Amz-Expires is out of range");
  }

  // Signed headers: well-formed, host among them, and every x-amz-* header of the request signed.
  auto names = parse_signed_headers(join_names(auth.signed_headers));
  if (!names) return reject(names.error().message);
  auto is_signed = [&](std::string_view n) { return std::binary_search(names->begin(), names->end(), n); };
  if (!is_signed("host")) return reject("host is not a signed header");
  for (const Header& h : request.headers) {
    const std::string lower = ascii_lower(h.name);
    if (is_amz_header(lower) && !is_signed(lower))
      return reject("header " + lower + " is present but not signed");
  }
  auto block = canonical_headers(request.headers, *names);
  if (!block) return reject(block.error().message);

  std::string query;
  if (query_form) {
    auto params = decode_query(request.query);
    if (!params) return reject(params.error().message);
    std::erase_if(*params, [](const auto& p) { return p.first == kParamSignature; });
    query = encode_query(*params);
  } else {
    auto canonical = canonical_query_string(request.query);
    if (!canonical) return reject(canonical.error().message);
    query = std::move(canonical).value();
  }

  const bool s3 = auth.service == "s3";
  auto payload = resolve_payload_hash(request.headers, request.payload_hash,
                                      query_form && s3 ? kUnsignedPayload : std::string_view{});
  if (!payload) return reject(payload.error().message);
  auto uri = canonical_uri(request.path, options.value_or(CanonicalOptions::for_service(auth.service)));
  if (!uri) return reject(uri.error().message);

  const std::string signed_list = join_names(*names);
  Computed c = compute_signature({request.method, *uri, query, *block, signed_list, *payload, amz_date,
                                  auth.date, auth.region, auth.service},
                                 secret);
  v.canonical_request = std::move(c.canonical_request);
  v.string_to_sign = std::move(c.string_to_sign);
  if (c.signature.size() == signature->size() &&
      CRYPTO_memcmp(c.signature.data(), signature->data(), c.signature.size()) == 0) {
    v.outcome = Verification::Outcome::valid;
  } else {
    v.outcome = Verification::Outcome::signature_mismatch;
    v.detail = "the signature does not match the request and the secret of " + auth.access_key_id;
  }
  return v;
}

}  // namespace

Result<ParsedAuth> parse_authorization_header(std::string_view value) {
  if (value.size() > kMaxAuthorizationLength) {
    return invalid("Authorization header is longer than " + std::to_string(kMaxAuthorizationLength) +
                   " bytes");
  }
  value = trim(value);
  if (value.substr(0, kAlgorithm.size()) != kAlgorithm) {
    return invalid("Authorization header does not start with " + std::string(kAlgorithm));
  }
  std::string_view rest = value.substr(kAlgorithm.size());
  if (rest.empty() || (rest.front() != ' ' && rest.front() != '\t')) {
    return invalid("Authorization header: expected a space after " + std::string(kAlgorithm));
  }
  rest = trim(rest);

  ParsedAuth out;
  out.form = AuthForm::header;
  bool seen_credential = false;
  bool seen_signed_headers = false;
  bool seen_signature = false;
  for (std::string_view part : split(rest, ',')) {
    part = trim(part);
    const std::size_t eq = part.find('=');
    if (part.empty() || eq == std::string_view::npos) {
      return invalid("Authorization header: expected Name=Value, got '" + std::string(part.substr(0, 64)) +
                     "'");
    }
    const std::string_view name = part.substr(0, eq);
    const std::string_view field = part.substr(eq + 1);
    bool* seen = name == "Credential"      ? &seen_credential
                 : name == "SignedHeaders" ? &seen_signed_headers
                 : name == "Signature"     ? &seen_signature
                                           : nullptr;
    if (seen == nullptr) {
      return invalid("Authorization header: unknown component '" + std::string(name.substr(0, 64)) + "'");
    }
    if (*seen) return invalid("Authorization header: " + std::string(name) + " appears twice");
    *seen = true;
    if (name == "Credential") {
      if (Status s = parse_credential(field, out); !s) return s.error();
    } else if (name == "SignedHeaders") {
      auto names = parse_signed_headers(field);
      if (!names) return names.error();
      out.signed_headers = std::move(names).value();
    } else {
      auto signature = parse_signature(field);
      if (!signature) return signature.error();
      out.signature = std::move(signature).value();
    }
  }
  if (!seen_credential) return invalid("Authorization header has no Credential");
  if (!seen_signed_headers) return invalid("Authorization header has no SignedHeaders");
  if (!seen_signature) return invalid("Authorization header has no Signature");
  return out;
}

Result<ParsedAuth> parse_presigned_query(std::string_view query) {
  auto params = decode_query(query);
  if (!params) return params.error();
  static constexpr std::array<std::string_view, 7> kNames = {
      kParamAlgorithm,     kParamCredential, kParamDate,         kParamExpires,
      kParamSignedHeaders, kParamSignature,  kParamSecurityToken};
  std::array<std::optional<std::string>, kNames.size()> found;
  for (auto& [name, value] : *params) {
    const auto it = std::find(kNames.begin(), kNames.end(), name);
    if (it == kNames.end()) continue;
    auto& slot = found[static_cast<std::size_t>(it - kNames.begin())];
    if (slot) return invalid("presigned query repeats " + name);
    slot = std::move(value);
  }
  for (std::size_t i = 0; i + 1 < kNames.size(); ++i) {  // all but the optional security token
    if (!found[i]) return invalid("presigned query has no " + std::string(kNames[i]));
  }
  ParsedAuth out;
  out.form = AuthForm::query;
  if (*found[0] != kAlgorithm) return invalid("X-Amz-Algorithm must be " + std::string(kAlgorithm));
  if (Status s = parse_credential(*found[1], out); !s)
    return invalid("X-Amz-Credential: " + s.error().message);
  if (Status s = check_day_matches(*found[2], out.date); !s) return s.error();
  out.amz_date = *found[2];
  auto expires = parse_expires(*found[3]);
  if (!expires) return expires.error();
  out.expires = *expires;
  auto names = parse_signed_headers(*found[4]);
  if (!names) return invalid("X-Amz-SignedHeaders: " + names.error().message);
  out.signed_headers = std::move(names).value();
  auto signature = parse_signature(*found[5]);
  if (!signature) return invalid("X-Amz-Signature: " + signature.error().message);
  out.signature = std::move(signature).value();
  if (found[6]) {
    if (found[6]->size() > kMaxSecurityTokenLength) {
      return invalid("X-Amz-Security-Token is longer than " + std::to_string(kMaxSecurityTokenLength) +
                     " bytes");
    }
    out.security_token = std::move(*found[6]);
  }
  return out;
}

Result<ParsedAuth> parse_request_auth(const Request& request) {
  if (Status s = check_headers(request.headers); !s) return s.error();
  auto authorization = single_header(request.headers, "authorization");
  if (!authorization) return authorization.error();
  auto params = decode_query(request.query);
  if (!params) return params.error();
  const bool in_query = query_has_auth(*params);
  if (authorization->has_value() && in_query) {
    return invalid("the request carries both an Authorization header and presigning parameters");
  }
  if (in_query) return parse_presigned_query(request.query);
  if (!authorization->has_value())
    return invalid("the request is not signed (no Authorization header or X-Amz-Signature)");

  auto parsed = parse_authorization_header(**authorization);
  if (!parsed) return parsed.error();
  auto date = single_header(request.headers, "x-amz-date");
  if (!date) return date.error();
  if (!date->has_value()) return invalid("the request has no X-Amz-Date header");
  const std::string_view amz_date = trim(**date);
  if (Status s = check_day_matches(amz_date, parsed->date); !s) return s.error();
  parsed->amz_date = std::string(amz_date);
  auto token = single_header(request.headers, "x-amz-security-token");
  if (!token) return token.error();
  if (token->has_value()) parsed->security_token = std::string(trim(**token));
  return parsed;
}

Verification verify(const Request& request, const ParsedAuth& auth, std::string_view secret_access_key,
                    const std::optional<CanonicalOptions>& options) {
  try {
    return verify_impl(request, auth, secret_access_key, options);
  } catch (const CryptoError& e) {
    Verification v;
    v.outcome = Verification::Outcome::internal_error;
    v.detail = e.what();
    return v;
  }
}

}  // namespace thumbflow::aws
