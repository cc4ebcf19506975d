// Our signer against botocore, computed at test time (botocore_sign.py): the SigV4 test-suite
// cases for a generic service, S3 object keys that break naive signers, header authentication
// and presigned URLs. For every case the canonical request and signature must match botocore's
// exactly, and botocore's own signed request must pass our verifier. Skipped (with the reason)
// only when /usr/bin/python3 cannot import botocore.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "aws/sigv4.hpp"

namespace thumbflow::aws {
namespace {

using json = nlohmann::json;
using namespace std::chrono;

constexpr const char* kPython = "/usr/bin/python3";

// The SigV4 test suite's fixed inputs.
const json kSuite = {{"access_key", "AKIDEXAMPLE"},
                     {"secret_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
                     {"region", "us-east-1"},
                     {"service", "service"},
                     {"timestamp", "20150830T123600Z"}};
// S3 against a local path-style endpoint (a non-default port, so Host carries it).
const json kS3 = {{"access_key", "AKIAIOSFODNN7EXAMPLE"},
                  {"secret_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
                  {"region", "us-east-1"},
                  {"service", "s3"},
                  {"timestamp", "20130524T000000Z"},
                  {"endpoint", "http://127.0.0.1:9000"},
                  {"bucket", "examplebucket"}};

const std::string kSessionToken =
    "AQoDYXdzEPT//////////"
    "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwth"
    "Ax7mSEI/qkPpKPi/"
    "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAk"
    "iY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/"
    "oLxBA==";

std::optional<std::string> botocore_unavailable() {
  static const std::optional<std::string> reason = []() -> std::optional<std::string> {
    if (access(kPython, X_OK) != 0) return std::string("no ") + kPython;
    const std::string cmd = std::string(kPython) + " -c 'import botocore.auth' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      return std::string(kPython) + " cannot import botocore (apt-get install python3-botocore)";
    }
    return std::nullopt;
  }();
  return reason;
}

#define SKIP_WITHOUT_BOTOCORE()                                          \
  do {                                                                   \
    if (auto reason_ = botocore_unavailable()) GTEST_SKIP() << *reason_; \
  } while (false)

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs botocore_sign.py over `cases` (JSON on stdin) and returns its JSON answer.
json run_botocore(const json& cases) {
  const auto dir = std::filesystem::temp_directory_path();
  std::string in_path = (dir / "thumbflow_sigv4_in_XXXXXX").string();
  const int fd = mkstemp(in_path.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  const std::string err_path = in_path + ".err";
  std::ofstream(in_path) << cases.dump();
  const std::string cmd =
      std::string(kPython) + " " + THUMBFLOW_BOTOCORE_SCRIPT + " < " + in_path + " 2> " + err_path;
  std::string out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed");
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  const std::string err = read_file(err_path);
  std::filesystem::remove(in_path);
  std::filesystem::remove(err_path);
  if (status != 0) throw std::runtime_error("botocore_sign.py failed:\n" + err);
  return json::parse(out);
}

// Ordered (name, value) lists; repeated names allowed, so never a JSON object.
using Pairs = std::vector<std::pair<std::string, std::string>>;

json pairs(const Pairs& list) {
  json out = json::array();
  for (const auto& [name, value] : list) out.push_back(json::array({name, value}));
  return out;
}

json with(const json& base, const json& extra) {
  json out = base;
  out.update(extra);
  return out;
}

Headers headers_of(const json& pairs) {
  Headers out;
  for (const auto& p : pairs) out.push_back({p[0].get<std::string>(), p[1].get<std::string>()});
  return out;
}

std::string path_of(const std::string& url) {
  const auto start = url.find('/', url.find("://") + 3);
  return url.substr(start, url.find('?') == std::string::npos ? std::string::npos : url.find('?') - start);
}

std::string query_of(const std::string& url) {
  const auto q = url.find('?');
  return q == std::string::npos ? "" : url.substr(q + 1);
}

// The URL our client would send for a case: keys encoded with uri_encode, params appended in
// the given (unsorted) order.
std::string our_url(const json& c) {
  std::string url = c.contains("url")
                        ? c["url"].get<std::string>()
                        : c["endpoint"].get<std::string>() + "/" + c["bucket"].get<std::string>() + "/" +
                              uri_encode(c["key"].get<std::string>(), false);
  if (c.contains("params")) {
    std::string sep = url.find('?') == std::string::npos ? "?" : "&";
    for (const auto& p : c["params"]) {
      url +=
          sep + uri_encode(p[0].get<std::string>(), true) + "=" + uri_encode(p[1].get<std::string>(), true);
      sep = "&";
    }
  }
  return url;
}

Credentials credentials_of(const json& c) {
  return {c["access_key"].get<std::string>(), c["secret_key"].get<std::string>(),
          c.value("token", std::string())};
}

std::string body_hash(const json& c) {
  return sha256_hex(c.value("body", std::string()));
}

struct Case {
  std::string name;
  json input;
};

void check_header_cases(const std::vector<Case>& cases) {
  json input = json::array();
  for (const Case& c : cases) input.push_back(with(c.input, {{"mode", "header"}}));
  const json answers = run_botocore(input);
  ASSERT_EQ(answers.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const json& c = input[i];
    const json& bot = answers[i];
    SCOPED_TRACE(cases[i].name);
    const Scope scope{c["region"].get<std::string>(), c["service"].get<std::string>()};
    const auto now = parse_amz_date(c["timestamp"].get<std::string>()).value();
    const std::string payload = c.value("payload_hash", c.contains("body") ? body_hash(c) : std::string());
    auto request = request_from_url(c["method"].get<std::string>(), our_url(c),
                                    headers_of(c.value("headers", json::array())), payload);
    ASSERT_TRUE(request.ok()) << request.error().describe();
    if (c.contains("key")) {
      EXPECT_EQ(request->path, path_of(bot["url"].get<std::string>()));
    }

    auto ours = sign_request(*request, credentials_of(c), scope, now);
    ASSERT_TRUE(ours.ok()) << ours.error().describe();
    EXPECT_EQ(ours->canonical_request, bot["canonical_request"].get<std::string>());
    EXPECT_EQ(ours->string_to_sign, bot["string_to_sign"].get<std::string>());
    EXPECT_EQ(ours->signature, bot["signature"].get<std::string>());

    // botocore's request, exactly as it would go on the wire, passes our verifier.
    auto received = request_from_url(c["method"].get<std::string>(), bot["url"].get<std::string>(),
                                     headers_of(bot["headers"]), scope.service == "s3" ? "" : body_hash(c));
    ASSERT_TRUE(received.ok()) << received.error().describe();
    auto parsed = parse_request_auth(*received);
    ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
    EXPECT_EQ(parsed->signature, bot["signature"].get<std::string>());
    const Verification v = verify(*received, *parsed, c["secret_key"].get<std::string>());
    EXPECT_TRUE(v.valid()) << v.detail << "\n" << v.canonical_request;
  }
}

void check_query_cases(const std::vector<Case>& cases) {
  json input = json::array();
  for (const Case& c : cases) input.push_back(with(c.input, {{"mode", "query"}}));
  const json answers = run_botocore(input);
  ASSERT_EQ(answers.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const json& c = input[i];
    const json& bot = answers[i];
    SCOPED_TRACE(cases[i].name);
    const Scope scope{c["region"].get<std::string>(), c["service"].get<std::string>()};
    const auto now = parse_amz_date(c["timestamp"].get<std::string>()).value();
    const Headers headers = headers_of(c.value("headers", json::array()));
    auto request = request_from_url(c["method"].get<std::string>(), our_url(c), headers);
    ASSERT_TRUE(request.ok()) << request.error().describe();
    if (c.contains("key")) {
      EXPECT_EQ(request->path, path_of(bot["url"].get<std::string>()));
    }

    auto ours = presign_request(*request, credentials_of(c), scope, now, seconds{c.value("expires", 3600)});
    ASSERT_TRUE(ours.ok()) << ours.error().describe();
    EXPECT_EQ(ours->canonical_request, bot["canonical_request"].get<std::string>());
    EXPECT_EQ(ours->signature, bot["signature"].get<std::string>());
    // Same parameters, whatever their order on the wire.
    EXPECT_EQ(canonical_query_string(ours->query).value(),
              canonical_query_string(query_of(bot["url"].get<std::string>())).value());

    auto received = request_from_url(c["method"].get<std::string>(), bot["url"].get<std::string>(), headers,
                                     scope.service == "s3" ? "" : std::string(kEmptyPayloadSha256));
    ASSERT_TRUE(received.ok()) << received.error().describe();
    auto parsed = parse_request_auth(*received);
    ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
    EXPECT_EQ(parsed->form, AuthForm::query);
    EXPECT_EQ(parsed->expires.count(), c.value("expires", 3600));
    EXPECT_EQ(parsed->security_token, c.value("token", std::string()));
    const Verification v = verify(*received, *parsed, c["secret_key"].get<std::string>());
    EXPECT_TRUE(v.valid()) << v.detail << "\n" << v.canonical_request;
  }
}

Case suite(std::string name, std::string method, std::string path, const Pairs& headers = {},
           std::string body = {}) {
  json c = with(
      kSuite,
      {{"method", method}, {"url", "https://example.amazonaws.com" + path}, {"headers", pairs(headers)}});
  if (!body.empty()) c["body"] = body;
  return {std::move(name), std::move(c)};
}

// A 1024-byte key (S3's maximum) mixing ASCII, reserved characters and multi-byte UTF-8.
std::string max_length_key() {
  std::string key = "deep/";
  const std::string pattern = "a b+c%()*!'ключ/日本~";
  while (key.size() + pattern.size() <= 1024) key += pattern;
  while (key.size() < 1024) key += 'x';
  return key;
}

const std::vector<std::string> kHardKeys = {
    "photos/my holiday.jpg",
    "a+b+c.jpg",
    "ключ/über/日本語.png",
    "100%/50%25 done.txt",
    "()*!'~$&,;=:@.jpg",
    "a//b/./../c",
    "trailing/",
    "tab\tand\"quote<>#?.bin",
    max_length_key(),
};

TEST(SigV4Botocore, test_suite_cases_for_a_generic_service) {
  SKIP_WITHOUT_BOTOCORE();
  const Pairs form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  check_header_cases({
      suite("get-vanilla", "GET", "/"),
      suite("get-vanilla-query-order-key-case", "GET", "/?Param2=value2&Param1=value1"),
      suite("get-vanilla-query-order-key", "GET", "/?b=foo&a=foo"),
      suite("get-vanilla-query-order-value", "GET", "/?Param1=value2&Param1=value1"),
      suite("get-vanilla-query-unreserved", "GET",
            "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
            "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
      suite("get-vanilla-utf8-query", "GET", "/?%E1%88%B4=bar"),
      suite("get-vanilla-empty-query-value", "GET", "/?Param1="),
      suite("get-utf8", "GET", "/\xe1\x88\xb4"),
      suite("get-space", "GET", "/example space/"),
      suite("get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
      suite("get-relative", "GET", "/example/.."),
      suite("get-relative-relative", "GET", "/example1/example2/../.."),
      suite("get-slash", "GET", "//"),
      suite("get-slash-dot-slash", "GET", "/./"),
      suite("get-slashes", "GET", "//example//"),
      suite("get-slash-pointless-dot", "GET", "/./example"),
      suite("double-encoded-path", "GET", "/%E1%88%B4/a%20b"),
      suite("get-header-key-duplicate", "GET", "/",
            {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}),
      suite("get-header-value-multiline", "GET", "/", {{"My-Header1", "value1\n  value2\n     value3"}}),
      suite("get-header-value-order", "GET", "/",
            {{"My-Header1", "value4"},
             {"My-Header1", "value1"},
             {"My-Header1", "value3"},
             {"My-Header1", "value2"}}),
      suite("get-header-value-trim", "GET", "/",
            {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}),
      suite("multi-value-headers-mixed-case", "GET", "/",
            {{"X-Thing", "b"}, {"x-thing", " a "}, {"X-THING", "c\td"}}),
      suite("post-vanilla", "POST", "/"),
      suite("post-vanilla-query", "POST", "/?Param1=value1"),
      suite("post-header-key-case", "POST", "/", {{"HOST", "example.amazonaws.com"}}),
      suite("post-header-key-sort", "POST", "/", {{"My-Header1", "value1"}}),
      suite("post-header-value-case", "POST", "/", {{"My-Header1", "VALUE1"}}),
      suite("post-x-www-form-urlencoded", "POST", "/", form, "Param1=value1"),
      suite("post-x-www-form-urlencoded-parameters", "POST", "/",
            {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}}, "Param1=value1"),
      suite("unsigned-by-default-headers", "GET", "/",
            {{"User-Agent", "thumbflow/0.1"},
             {"Expect", "100-continue"},
             {"X-Amzn-Trace-Id", "Root=1-abc"},
             {"Content-Type", "text/plain"},
             {"x-amz-meta-Colour", "blue"}}),
  });
}

TEST(SigV4Botocore, test_suite_post_sts_token) {
  SKIP_WITHOUT_BOTOCORE();
  Case c = suite("post-sts-token", "POST", "/");
  c.input["token"] = kSessionToken;
  check_header_cases({c});
}

TEST(SigV4Botocore, s3_header_auth_for_hard_keys) {
  SKIP_WITHOUT_BOTOCORE();
  std::vector<Case> cases;
  for (const std::string& key : kHardKeys) {
    cases.push_back(
        {"GET " + key.substr(0, 40),
         with(kS3, {{"method", "GET"}, {"key", key}, {"headers", pairs({{"Range", "bytes=0-9"}})}})});
    cases.push_back({"PUT " + key.substr(0, 40),
                     with(kS3, {{"method", "PUT"},
                                {"key", key},
                                {"body", "Welcome to Amazon S3."},
                                {"headers", pairs({{"Content-Type", "image/jpeg"},
                                                   {"x-amz-meta-original-name", " my  photo.JPG "},
                                                   {"User-Agent", "thumbflow"}})}})});
  }
  check_header_cases(cases);
}

TEST(SigV4Botocore, s3_header_auth_for_queries_tokens_and_unsigned_payload) {
  SKIP_WITHOUT_BOTOCORE();
  check_header_cases({
      {"list-objects-v2 with awkward prefix",
       with(kS3, {{"method", "GET"},
                  {"key", ""},
                  {"params", pairs({{"list-type", "2"},
                                    {"prefix", "photos/my holiday+(1) ü"},
                                    {"delimiter", "/"},
                                    {"max-keys", "1000"},
                                    {"continuation-token", "abc+/=="}})}})},
      {"create multipart upload (bare ?uploads)",
       with(kS3,
            {{"method", "POST"}, {"url", "http://127.0.0.1:9000/examplebucket/big%20file.bin?uploads"}})},
      {"upload part",
       with(kS3, {{"method", "PUT"},
                  {"key", "big file.bin"},
                  {"body", "part two"},
                  {"params", pairs({{"partNumber", "2"}, {"uploadId", "2~abc.def_ghi-XYZ"}})}})},
      {"delete object", with(kS3, {{"method", "DELETE"}, {"key", "a+b (1).jpg"}})},
      {"session token", with(kS3, {{"method", "GET"}, {"key", "private/x.jpg"}, {"token", kSessionToken}})},
      {"unsigned payload over https", with(kS3, {{"method", "PUT"},
                                                 {"endpoint", "https://s3.us-east-1.amazonaws.com"},
                                                 {"key", "streamed.bin"},
                                                 {"body", "not hashed"},
                                                 {"payload_hash", "UNSIGNED-PAYLOAD"}})},
  });
}

TEST(SigV4Botocore, s3_presigned_urls) {
  SKIP_WITHOUT_BOTOCORE();
  std::vector<Case> cases;
  for (const std::string& key : kHardKeys) {
    cases.push_back({"presigned GET " + key.substr(0, 40), with(kS3, {{"method", "GET"}, {"key", key}})});
  }
  cases.push_back(
      {"presigned PUT with signed content type",
       with(kS3, {{"method", "PUT"},
                  {"key", "uploads/a b.png"},
                  {"expires", 900},
                  {"headers", pairs({{"Content-Type", "image/png"}, {"x-amz-meta-owner", "u-1"}})}})});
  cases.push_back(
      {"presigned GET with session token",
       with(kS3, {{"method", "GET"}, {"key", "t.txt"}, {"token", kSessionToken}, {"expires", 1}})});
  cases.push_back(
      {"presigned GET with response overrides, seven days",
       with(kS3, {{"method", "GET"},
                  {"key", "d/e f.jpg"},
                  {"expires", 604800},
                  {"params", pairs({{"response-content-disposition", "attachment; filename=\"a b+c.jpg\""},
                                    {"response-content-type", "image/jpeg"}})}})});
  cases.push_back({"presigned generic service", with(kSuite, {{"method", "GET"},
                                                              {"url", "https://example.amazonaws.com/a/../b"},
                                                              {"params", pairs({{"Param1", "value 1"}})},
                                                              {"expires", 300}})});
  check_query_cases(cases);
}

}  // namespace
}  // namespace thumbflow::aws
