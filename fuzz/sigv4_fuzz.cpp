// SigV4 parsing and the signer/verifier pair. The first byte picks the mode:
//   0  aws::parse_authorization_header(rest)
//   1  aws::parse_presigned_query(rest)
//   2  a request built from rest ("METHOD\npath\nquery\nname:value\n..."), signed with header
//      authentication, then parsed back with parse_request_auth and verified
//   3  the same request presigned, then parsed back from its query and verified
// Checks: whatever parses satisfies the documented shape (64 lower-case hex digits, sorted
// lower-case signed headers, bounded fields, expiry within 1 s..7 days, the X-Amz-Date day equal
// to the scope's) and parses again to the same value when written back in canonical form; a
// request our signer signs, our verifier accepts (the two ends cannot disagree on canonical form).
#include <chrono>
#include <string>

#include "aws/primitives.hpp"
#include "aws/sigv4.hpp"
#include "fuzz_check.hpp"

using namespace thumbflow;
using namespace thumbflow::aws;

namespace {

bool is_lower_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ';';
    out += n;
  }
  return out;
}

void check_shape(const ParsedAuth& a) {
  FUZZ_CHECK(is_lower_hex64(a.signature));
  FUZZ_CHECK(!a.signed_headers.empty() && a.signed_headers.size() <= kMaxSignedHeaders);
  for (std::size_t i = 0; i < a.signed_headers.size(); ++i) {
    const std::string& n = a.signed_headers[i];
    FUZZ_CHECK(!n.empty() && n.size() <= kMaxHeaderNameLength);
    for (char c : n) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    if (i > 0) FUZZ_CHECK(a.signed_headers[i - 1] < n);
  }
  FUZZ_CHECK(!a.access_key_id.empty() && a.access_key_id.size() <= kMaxAccessKeyLength);
  FUZZ_CHECK(a.date.size() == 8);
  FUZZ_CHECK(!a.region.empty() && a.region.size() <= kMaxScopeFieldLength);
  FUZZ_CHECK(!a.service.empty() && a.service.size() <= kMaxScopeFieldLength);
  FUZZ_CHECK(a.security_token.size() <= kMaxSecurityTokenLength);
  if (a.form == AuthForm::query) {
    FUZZ_CHECK(a.expires >= kMinPresignExpiry && a.expires <= kMaxPresignExpiry);
    FUZZ_CHECK(a.amz_date.substr(0, 8) == a.date);
  }
}

bool same(const ParsedAuth& a, const ParsedAuth& b) {
  return a.form == b.form && a.access_key_id == b.access_key_id && a.date == b.date && a.region == b.region &&
         a.service == b.service && a.signed_headers == b.signed_headers && a.signature == b.signature &&
         a.amz_date == b.amz_date && a.expires == b.expires && a.security_token == b.security_token;
}

std::string credential(const ParsedAuth& a) {
  return a.access_key_id + "/" + a.date + "/" + a.region + "/" + a.service + "/aws4_request";
}

void fuzz_header(std::string_view text) {
  auto a = parse_authorization_header(text);
  if (!a) return;
  FUZZ_CHECK(a->form == AuthForm::header);
  check_shape(*a);
  const std::string written = std::string(kAlgorithm) + " Credential=" + credential(*a) +
                              ", SignedHeaders=" + join(a->signed_headers) + ", Signature=" + a->signature;
  auto again = parse_authorization_header(written);
  FUZZ_CHECK(again.ok() && same(*a, *again));
}

void fuzz_query(std::string_view text) {
  auto a = parse_presigned_query(text);
  if (!a) return;
  FUZZ_CHECK(a->form == AuthForm::query);
  check_shape(*a);
  std::string written = "X-Amz-Algorithm=" + std::string(kAlgorithm) +
                        "&X-Amz-Credential=" + uri_encode(credential(*a), true) +
                        "&X-Amz-Date=" + uri_encode(a->amz_date, true) +
                        "&X-Amz-Expires=" + std::to_string(a->expires.count()) +
                        "&X-Amz-SignedHeaders=" + uri_encode(join(a->signed_headers), true) +
                        "&X-Amz-Signature=" + a->signature;
  if (!a->security_token.empty()) written += "&X-Amz-Security-Token=" + uri_encode(a->security_token, true);
  auto again = parse_presigned_query(written);
  FUZZ_CHECK(again.ok() && same(*a, *again));
}

// "METHOD\npath\nquery\nname:value\n..." -> Request with Host.
Request request_from(std::string_view text) {
  Request r;
  auto next = [&]() {
    const auto nl = text.find('\n');
    std::string line(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    return line;
  };
  r.method = next();
  r.path = next();
  r.query = next();
  r.headers.push_back({"Host", "bucket.s3.example.com"});
  while (!text.empty()) {
    const std::string line = next();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    r.headers.push_back({line.substr(0, colon), line.substr(colon + 1)});
  }
  return r;
}

const Credentials kCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Scope kScope{"us-east-1", "s3"};
const auto kNow = std::chrono::sys_days{std::chrono::year{2024} / 5 / 24} + std::chrono::hours{12};

// The request as the server receives it: the caller's headers with the signer's replacing any
// of the same name (the signer owns them).
Request as_sent(Request r, const Headers& to_set) {
  for (const auto& h : to_set) {
    const std::string lower = [&] {
      std::string s = h.name;
      for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      return s;
    }();
    std::erase_if(r.headers, [&](const Header& x) {
      std::string s = x.name;
      for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      return s == lower;
    });
    r.headers.push_back(h);
  }
  return r;
}

void fuzz_sign_verify(std::string_view text, bool presign) {
  Request req = request_from(text);
  if (!presign) {
    auto signed_req = sign_request(req, kCredentials, kScope, kNow);
    if (!signed_req) return;
    Request sent = as_sent(req, signed_req->headers_to_set);
    auto auth = parse_request_auth(sent);
    FUZZ_CHECK(auth.ok());
    FUZZ_CHECK(auth->signature == signed_req->signature);
    const Verification v = verify(sent, *auth, kCredentials.secret_access_key);
    if (!v.valid()) std::fprintf(stderr, "verify: %s\n", v.detail.c_str());
    FUZZ_CHECK(v.valid());
  } else {
    auto pre = presign_request(req, kCredentials, kScope, kNow, std::chrono::seconds{900});
    if (!pre) return;
    // The signer owns X-Amz-Date, X-Amz-Security-Token and Authorization and ignores the
    // caller's (sigv4.hpp); a URL user sending them anyway would send unsigned x-amz-* headers.
    Request sent = req;
    std::erase_if(sent.headers, [](const Header& h) {
      std::string s = h.name;
      for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      return s == "x-amz-date" || s == "x-amz-security-token" || s == "authorization";
    });
    sent.query = pre->query;
    auto auth = parse_request_auth(sent);
    if (!auth) std::fprintf(stderr, "parse_request_auth: %s\n", auth.error().message.c_str());
    FUZZ_CHECK(auth.ok());
    FUZZ_CHECK(auth->signature == pre->signature);
    const Verification v = verify(sent, *auth, kCredentials.secret_access_key);
    if (!v.valid()) std::fprintf(stderr, "verify: %s\n", v.detail.c_str());
    FUZZ_CHECK(v.valid());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t mode = in.byte();
  switch (mode & 3) {
    case 0: fuzz_header(in.rest()); break;
    case 1: fuzz_query(in.rest()); break;
    case 2: fuzz_sign_verify(in.rest(), false); break;
    default: fuzz_sign_verify(in.rest(), true); break;
  }
  return 0;
}
