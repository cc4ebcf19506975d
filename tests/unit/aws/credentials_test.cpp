// Credential and region resolution: environment, shared files, the container endpoint (served by
// cpp-httplib on 127.0.0.1; the link-local ECS address is never called), and the order between
// them. Every test passes its own environment, so the process's own AWS variables never leak in.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <string>
#include <thread>

#include "aws/credentials.hpp"
#include "test_support.hpp"

namespace thumbflow::aws {
namespace {

using namespace std::chrono_literals;

class FakeEnv {
 public:
  explicit FakeEnv(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  EnvLookup lookup() const {
    return [this](std::string_view name) -> std::optional<std::string> {
      auto it = vars_.find(std::string(name));
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }
  std::map<std::string, std::string> vars_;
};

Result<ResolvedCredentials> resolve(const FakeEnv& env, const std::string& profile = {}) {
  CredentialOptions o;
  o.env = env.lookup();
  return resolve_credentials_from(profile, o);
}

TEST(Credentials, environment_keys_come_first) {
  test::TempDir home;
  std::filesystem::create_directories(home.path() / ".aws");
  test::write_bytes(home.path() / ".aws" / "credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n");
  FakeEnv env({{"HOME", home.path().string()},
               {"AWS_ACCESS_KEY_ID", "ENVKEY"},
               {"AWS_SECRET_ACCESS_KEY", "envsecret"},
               {"AWS_SESSION_TOKEN", "envtoken"}});
  auto r = resolve(env);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(r->credentials.secret_access_key, "envsecret");
  EXPECT_EQ(r->credentials.session_token, "envtoken");
  EXPECT_EQ(r->source, "environment");
}

TEST(Credentials, half_a_key_pair_in_the_environment_is_an_error) {
  FakeEnv env(std::map<std::string, std::string>{{"AWS_ACCESS_KEY_ID", "ENVKEY"}});
  auto r = resolve(env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
}

TEST(Credentials, shared_credentials_file_default_and_named_profiles) {
  test::TempDir home;
  std::filesystem::create_directories(home.path() / ".aws");
  test::write_bytes(home.path() / ".aws" / "credentials",
                    "# comment\n[default]\naws_access_key_id = DEFKEY\naws_secret_access_key = defsecret\n\n"
                    "[dev]\n; another comment\nAWS_ACCESS_KEY_ID=DEVKEY\naws_secret_access_key = dev secret with spaces \n"
                    "aws_session_token = devtoken\n");
  FakeEnv env({{"HOME", home.path().string()}});
  auto def = resolve(env);
  ASSERT_TRUE(def.ok()) << def.error().describe();
  EXPECT_EQ(def->credentials.access_key_id, "DEFKEY");
  EXPECT_NE(def->source.find("[default]"), std::string::npos);

  auto dev = resolve(env, "dev");
  ASSERT_TRUE(dev.ok()) << dev.error().describe();
  EXPECT_EQ(dev->credentials.access_key_id, "DEVKEY");
  EXPECT_EQ(dev->credentials.secret_access_key, "dev secret with spaces");
  EXPECT_EQ(dev->credentials.session_token, "devtoken");

  env.vars_["AWS_PROFILE"] = "dev";
  EXPECT_EQ(resolve(env)->credentials.access_key_id, "DEVKEY");
}

TEST(Credentials, a_named_profile_skips_the_environment_keys) {
  test::TempDir home;
  const auto file = home.path() / "creds";
  test::write_bytes(file, "[ci]\naws_access_key_id = CIKEY\naws_secret_access_key = cisecret\n");
  FakeEnv env({{"AWS_SHARED_CREDENTIALS_FILE", file.string()},
               {"AWS_ACCESS_KEY_ID", "ENVKEY"},
               {"AWS_SECRET_ACCESS_KEY", "envsecret"}});
  auto r = resolve(env, "ci");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->credentials.access_key_id, "CIKEY");
}

TEST(Credentials, config_file_profiles_and_nested_blocks) {
  test::TempDir home;
  const auto config = home.path() / "config";
  test::write_bytes(config,
                    "[default]\nregion = eu-west-1\ns3 =\n  addressing_style = path\n"
                    "aws_access_key_id = CFGDEF\naws_secret_access_key = cfgdefsecret\n"
                    "[profile  staging ]\nregion = us-west-2\naws_access_key_id = STAGEKEY\n"
                    "aws_secret_access_key = stagesecret\n");
  FakeEnv env({{"AWS_CONFIG_FILE", config.string()}, {"HOME", home.path().string()}});
  EXPECT_EQ(resolve(env)->credentials.access_key_id, "CFGDEF");
  EXPECT_EQ(resolve(env, "staging")->credentials.access_key_id, "STAGEKEY");
  EXPECT_EQ(*resolve_region("", env.lookup()), "eu-west-1");
  EXPECT_EQ(*resolve_region("staging", env.lookup()), "us-west-2");

  auto section = read_ini_section(test::read_bytes(config), "default");
  ASSERT_TRUE(section.ok());
  ASSERT_TRUE(section->has_value());
  EXPECT_EQ((**section).at("s3.addressing_style"), "path");
  EXPECT_EQ((**section).count("s3"), 0u);
}

TEST(Credentials, the_credentials_file_wins_over_the_config_file) {
  test::TempDir home;
  test::write_bytes(home.path() / "credentials", "[default]\naws_access_key_id = CREDKEY\naws_secret_access_key = s\n");
  test::write_bytes(home.path() / "config", "[default]\naws_access_key_id = CFGKEY\naws_secret_access_key = s\n");
  FakeEnv env({{"AWS_SHARED_CREDENTIALS_FILE", (home.path() / "credentials").string()},
               {"AWS_CONFIG_FILE", (home.path() / "config").string()}});
  EXPECT_EQ(resolve(env)->credentials.access_key_id, "CREDKEY");
}

TEST(Credentials, tilde_in_file_variables_means_home) {
  test::TempDir home;
  test::write_bytes(home.path() / "mycreds", "[default]\naws_access_key_id = TILDE\naws_secret_access_key = s\n");
  FakeEnv env({{"HOME", home.path().string()}, {"AWS_SHARED_CREDENTIALS_FILE", "~/mycreds"}});
  EXPECT_EQ(resolve(env)->credentials.access_key_id, "TILDE");
}

TEST(Credentials, a_missing_named_profile_is_reported) {
  test::TempDir home;
  test::write_bytes(home.path() / "credentials", "[default]\naws_access_key_id = K\naws_secret_access_key = s\n");
  FakeEnv env({{"AWS_SHARED_CREDENTIALS_FILE", (home.path() / "credentials").string()},
               {"AWS_CONFIG_FILE", (home.path() / "none").string()}});
  auto r = resolve(env, "nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(r.error().code, "ProfileNotFound");
  EXPECT_NE(r.error().message.find("'nope'"), std::string::npos);
}

TEST(Credentials, half_a_key_pair_in_a_file_is_reported) {
  test::TempDir home;
  test::write_bytes(home.path() / "credentials", "[default]\naws_access_key_id = K\n");
  FakeEnv env({{"AWS_SHARED_CREDENTIALS_FILE", (home.path() / "credentials").string()}});
  auto r = resolve(env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(r.error().message.find("half a key pair"), std::string::npos);
}

TEST(Credentials, unsupported_mechanisms_are_named_not_skipped) {
  test::TempDir home;
  test::write_bytes(home.path() / "config", "[profile sso]\nsso_start_url = https://example.invalid/start\n");
  FakeEnv env({{"AWS_CONFIG_FILE", (home.path() / "config").string()},
               {"AWS_SHARED_CREDENTIALS_FILE", (home.path() / "none").string()}});
  auto r = resolve(env, "sso");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "UnsupportedCredentialSource");
  EXPECT_NE(r.error().message.find("sso_start_url"), std::string::npos);
}

TEST(Credentials, nothing_anywhere_is_access_denied_with_the_places_looked) {
  test::TempDir home;
  FakeEnv env({{"HOME", home.path().string()}});
  auto r = resolve(env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::access_denied);
  EXPECT_EQ(r.error().code, "NoCredentials");
  EXPECT_NE(r.error().message.find(".aws/credentials"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(".aws/config"), std::string::npos);
  EXPECT_NE(r.error().message.find("container"), std::string::npos);
}

TEST(Credentials, malformed_shared_file_is_refused_with_its_line) {
  test::TempDir home;
  test::write_bytes(home.path() / "credentials", "[default]\nthis line has no equals sign\n");
  FakeEnv env({{"AWS_SHARED_CREDENTIALS_FILE", (home.path() / "credentials").string()}});
  auto r = resolve(env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(r.error().message.find("line 2"), std::string::npos) << r.error().message;
}

TEST(Credentials, oversized_shared_file_is_refused) {
  test::TempDir home;
  test::write_bytes(home.path() / "credentials", std::string(kMaxSharedFileBytes + 1, '#'));
  FakeEnv env({{"AWS_SHARED_CREDENTIALS_FILE", (home.path() / "credentials").string()}});
  auto r = resolve(env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
}

// A container credentials endpoint on loopback.
class ContainerEndpoint {
 public:
  explicit ContainerEndpoint(int status = 200) {
    server_.Get("/creds", [this, status](const httplib::Request& req, httplib::Response& res) {
      seen_authorization_ = req.get_header_value("Authorization");
      res.status = status;
      res.set_content(R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"containersecret",)"
                      R"("Token":"containertoken","Expiration":"2030-01-02T03:04:05Z"})",
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(2ms);
  }
  ~ContainerEndpoint() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/creds"; }
  std::string seen_authorization_;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(Credentials, container_endpoint_with_authorization_token) {
  ContainerEndpoint endpoint;
  test::TempDir home;
  FakeEnv env({{"HOME", home.path().string()},
               {"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url()},
               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer let-me-in"}});
  auto r = resolve(env);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->credentials.access_key_id, "ASIACONTAINER");
  EXPECT_EQ(r->credentials.secret_access_key, "containersecret");
  EXPECT_EQ(r->credentials.session_token, "containertoken");
  EXPECT_EQ(endpoint.seen_authorization_, "Bearer let-me-in");
  ASSERT_TRUE(r->expiration.has_value());
  using namespace std::chrono;
  EXPECT_EQ(*r->expiration, sys_days{2030y / January / 2} + 3h + 4min + 5s);
}

TEST(Credentials, container_token_can_come_from_a_file) {
  ContainerEndpoint endpoint;
  test::TempDir home;
  test::write_bytes(home.path() / "token", "file-token\n");
  FakeEnv env({{"HOME", home.path().string()},
               {"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url()},
               {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (home.path() / "token").string()}});
  ASSERT_TRUE(resolve(env).ok());
  EXPECT_EQ(endpoint.seen_authorization_, "file-token");
}

TEST(Credentials, container_endpoint_refusal_is_access_denied) {
  ContainerEndpoint endpoint(403);
  test::TempDir home;
  FakeEnv env({{"HOME", home.path().string()}, {"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url()}});
  auto r = resolve(env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::access_denied);
}

TEST(Credentials, files_win_over_the_container_endpoint) {
  ContainerEndpoint endpoint;
  test::TempDir home;
  test::write_bytes(home.path() / "credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = s\n");
  FakeEnv env({{"AWS_SHARED_CREDENTIALS_FILE", (home.path() / "credentials").string()},
               {"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url()}});
  EXPECT_EQ(resolve(env)->credentials.access_key_id, "FILEKEY");
  EXPECT_TRUE(endpoint.seen_authorization_.empty());
}

TEST(Credentials, container_urls_plain_http_only_to_loopback_or_the_agent) {
  auto url = [](std::map<std::string, std::string> vars) {
    FakeEnv env(std::move(vars));
    return container_credentials_url(env.lookup());
  };
  EXPECT_EQ(**url({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"}}),
            "http://169.254.170.2/v2/credentials/abc");
  EXPECT_FALSE(url({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/no-slash"}}).ok());
  EXPECT_TRUE(url({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/x"}}).ok());
  EXPECT_TRUE(url({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://localhost/x"}}).ok());
  EXPECT_TRUE(url({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"}}).ok());
  EXPECT_TRUE(url({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example.invalid/x"}}).ok());
  auto remote = url({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://creds.example.invalid/x"}});
  ASSERT_FALSE(remote.ok());
  EXPECT_EQ(remote.error().kind, ErrorKind::invalid_argument);
  EXPECT_FALSE(url({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1.evil.invalid/x"}}).ok());
  EXPECT_FALSE(url({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "ftp://127.0.0.1/x"}}).ok());
  EXPECT_FALSE(url({})->has_value());
}

TEST(Region, environment_then_config) {
  test::TempDir home;
  test::write_bytes(home.path() / "config", "[default]\nregion = ap-south-1\n");
  FakeEnv env({{"AWS_CONFIG_FILE", (home.path() / "config").string()}});
  EXPECT_EQ(*resolve_region("", env.lookup()), "ap-south-1");
  env.vars_["AWS_DEFAULT_REGION"] = "eu-central-1";
  EXPECT_EQ(*resolve_region("", env.lookup()), "eu-central-1");
  env.vars_["AWS_REGION"] = "us-west-1";
  EXPECT_EQ(*resolve_region("", env.lookup()), "us-west-1");
}

TEST(Region, none_is_not_found) {
  test::TempDir home;
  FakeEnv env({{"HOME", home.path().string()}});
  auto r = resolve_region("", env.lookup());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
}

}  // namespace
}  // namespace thumbflow::aws

namespace thumbflow::aws {
namespace {

// A container endpoint whose keys change on every call and expire `ttl` after it.
class RotatingEndpoint {
 public:
  explicit RotatingEndpoint(std::chrono::seconds ttl) : ttl_(ttl) {
    server_.Get("/creds", [this](const httplib::Request&, httplib::Response& res) {
      if (down_) {
        res.status = 503;
        return;
      }
      const int n = ++calls_;
      const std::time_t exp = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + ttl_);
      std::tm tm{};
      gmtime_r(&exp, &tm);
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
      res.set_content(R"({"AccessKeyId":"ASIAROTATE)" + std::to_string(n) +
                          R"(","SecretAccessKey":"s","Token":"t","Expiration":")" + when + R"("})",
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(2ms);
  }
  ~RotatingEndpoint() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/creds"; }
  std::atomic<int> calls_{0};
  std::atomic<bool> down_{false};

 private:
  std::chrono::seconds ttl_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

CredentialOptions options_for(const FakeEnv& env) {
  CredentialOptions o;
  o.env = env.lookup();
  return o;
}

TEST(CredentialProvider, refreshes_container_keys_before_they_expire) {
  RotatingEndpoint endpoint(std::chrono::seconds(120));  // inside the 5-minute refresh window
  test::TempDir home;
  FakeEnv env({{"HOME", home.path().string()}, {"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url()}});
  auto provider = CredentialProvider::create({}, options_for(env));
  ASSERT_TRUE(provider.ok()) << provider.error().describe();
  EXPECT_EQ((*provider)->get()->access_key_id, "ASIAROTATE2");
  auto source = (*provider)->source();
  EXPECT_EQ(source()->access_key_id, "ASIAROTATE3");
  EXPECT_EQ((*provider)->resolutions(), 3);
}

TEST(CredentialProvider, keeps_keys_that_are_far_from_expiry_and_keys_without_one) {
  RotatingEndpoint endpoint(std::chrono::seconds(3600));
  test::TempDir home;
  FakeEnv env({{"HOME", home.path().string()}, {"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url()}});
  auto provider = CredentialProvider::create({}, options_for(env));
  ASSERT_TRUE(provider.ok());
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*provider)->get()->access_key_id, "ASIAROTATE1");
  EXPECT_EQ(endpoint.calls_, 1);

  FakeEnv keys({{"HOME", home.path().string()}, {"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "x"}});
  auto fixed = CredentialProvider::create({}, options_for(keys));
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ((*fixed)->get()->access_key_id, "AKIAENV");
  EXPECT_EQ((*fixed)->resolutions(), 1);
}

TEST(CredentialProvider, a_failed_refresh_serves_valid_keys_and_reports_expired_ones) {
  RotatingEndpoint endpoint(std::chrono::seconds(120));
  test::TempDir home;
  FakeEnv env({{"HOME", home.path().string()}, {"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url()}});
  auto provider = CredentialProvider::create({}, options_for(env));
  ASSERT_TRUE(provider.ok());
  endpoint.down_ = true;
  auto still = (*provider)->get();
  ASSERT_TRUE(still.ok()) << "keys valid for two more minutes are still used";
  EXPECT_EQ(still->access_key_id, "ASIAROTATE1");

  RotatingEndpoint expired(std::chrono::seconds(-10));
  FakeEnv env2({{"HOME", home.path().string()}, {"AWS_CONTAINER_CREDENTIALS_FULL_URI", expired.url()}});
  auto gone = CredentialProvider::create({}, options_for(env2));
  ASSERT_TRUE(gone.ok());
  expired.down_ = true;
  auto r = (*gone)->get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("expired"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace thumbflow::aws
