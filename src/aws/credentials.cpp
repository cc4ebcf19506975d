#include "aws/credentials.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/text.hpp"

namespace thumbflow::aws {
namespace {

std::optional<std::string> non_empty(const EnvLookup& env, std::string_view name) {
  auto v = env(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

std::filesystem::path expand_home(const std::string& path, const EnvLookup& env) {
  if (path == "~" || path.starts_with("~/")) {
    const auto home = non_empty(env, "HOME");
    if (home) return std::filesystem::path(*home) / path.substr(std::min<std::size_t>(2, path.size()));
  }
  return path;
}

std::filesystem::path shared_file(const EnvLookup& env, std::string_view variable, std::string_view file_name) {
  if (auto set = non_empty(env, variable)) return expand_home(*set, env);
  const auto home = non_empty(env, "HOME");
  if (!home) return {};
  return std::filesystem::path(*home) / ".aws" / file_name;
}

// The file's text, std::nullopt when it does not exist.
Result<std::optional<std::string>> read_small_file(const std::filesystem::path& path, std::size_t limit) {
  if (path.empty()) return std::optional<std::string>{};
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<std::string>{};
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return make_error(ErrorKind::io, "cannot read " + path.string() + ": " + ec.message());
  if (size > limit)
    return make_error(ErrorKind::invalid_argument,
                      path.string() + " is larger than " + std::to_string(limit) + " bytes; not an AWS shared file?");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::io, "cannot open " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return std::optional<std::string>(ss.str());
}

// "2019-04-05T21:26:44Z" (fractional seconds allowed) -> time point.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s) {
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), se = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  return sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*se};
}

bool plain_http_host_allowed(std::string_view url) {
  // http://host[:port]/... ; host compared exactly (lower-cased).
  std::string_view rest = url.substr(std::string_view("http://").size());
  std::string host;
  if (!rest.empty() && rest.front() == '[') {
    host = ascii_lower(rest.substr(0, rest.find(']') + 1));
  } else {
    host = ascii_lower(rest.substr(0, rest.find_first_of(":/?#")));
  }
  if (host == "localhost" || host == "[::1]" || host == "169.254.170.2" || host == "169.254.170.23" ||
      host == "[fd00:ec2::23]")
    return true;
  // 127.0.0.0/8
  if (!host.starts_with("127.")) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') ++dots;
    else if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return dots == 3;
}

Result<ResolvedCredentials> from_section(const std::map<std::string, std::string>& section, const std::string& where) {
  const auto id = section.find("aws_access_key_id");
  const auto secret = section.find("aws_secret_access_key");
  if (id == section.end() && secret == section.end()) return make_error(ErrorKind::not_found, where + " has no keys");
  if (id == section.end() || secret == section.end() || id->second.empty() || secret->second.empty())
    return make_error(ErrorKind::invalid_argument,
                      where + " has only half a key pair (aws_access_key_id and aws_secret_access_key go together)");
  ResolvedCredentials r;
  r.credentials.access_key_id = id->second;
  r.credentials.secret_access_key = secret->second;
  if (auto token = section.find("aws_session_token"); token != section.end()) r.credentials.session_token = token->second;
  r.source = where;
  return r;
}

Result<ResolvedCredentials> from_container(const std::string& url, const EnvLookup& env, const CredentialOptions& options) {
  std::optional<std::string> token = non_empty(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  if (!token) {
    if (auto file = non_empty(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
      auto text = read_small_file(*file, kMaxAuthorizationTokenBytes);
      if (!text) return text.error();
      if (!*text) return make_error(ErrorKind::invalid_argument, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + *file + " does not exist");
      token = std::string(trim_space(**text));
    }
  }
  if (token && (token->find('\r') != std::string::npos || token->find('\n') != std::string::npos))
    return make_error(ErrorKind::invalid_argument, "the container authorization token contains a line break");

  HttpClient::Options http_options;
  http_options.retry.max_attempts = 3;
  http_options.timeouts.connect = options.container_timeout;
  http_options.timeouts.total = options.container_timeout;
  http_options.max_response_body = kMaxContainerResponseBytes;
  HttpClient own(http_options);
  HttpClient& http = options.http ? *options.http : own;

  HttpRequest request;
  request.url = url;
  request.headers.push_back({"Accept", "application/json"});
  if (token) request.headers.push_back({"Authorization", *token});
  auto response = http.send(request);
  if (!response) {
    Error e = response.error();
    e.message = "container credentials endpoint: " + e.message;
    return e;
  }
  const std::string where = "container credentials endpoint " + url;
  if (response->status != 200) {
    const ErrorKind kind = (response->status == 401 || response->status == 403) ? ErrorKind::access_denied
                           : response->status >= 500                             ? ErrorKind::unavailable
                                                                                 : ErrorKind::invalid_argument;
    return make_error(kind, where + " answered HTTP " + std::to_string(response->status) + ": " +
                                response->body.substr(0, 200));
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(response->body);
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorKind::invalid_argument, where + " answered something that is not JSON: " + e.what());
  }
  auto field = [&](const char* name) -> std::string {
    if (!doc.is_object() || !doc.contains(name) || !doc[name].is_string()) return {};
    return doc[name].get<std::string>();
  };
  ResolvedCredentials r;
  r.credentials.access_key_id = field("AccessKeyId");
  r.credentials.secret_access_key = field("SecretAccessKey");
  r.credentials.session_token = field("Token");
  if (r.credentials.access_key_id.empty() || r.credentials.secret_access_key.empty())
    return make_error(ErrorKind::invalid_argument, where + " answered without AccessKeyId and SecretAccessKey");
  if (const std::string exp = field("Expiration"); !exp.empty()) r.expiration = parse_iso8601(exp);
  r.source = where;
  return r;
}

}  // namespace

EnvLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Result<std::optional<std::map<std::string, std::string>>> read_ini_section(std::string_view text,
                                                                            std::string_view section) {
  std::optional<std::map<std::string, std::string>> found;
  bool in_section = false;
  std::string parent;  // "s3" while inside "s3 =\n  key = value" lines
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    const bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    std::string_view line = trim_space(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']')
        return make_error(ErrorKind::invalid_argument, "line " + std::to_string(line_no) + ": unterminated section header");
      // "[profile  dev]" and "[ default ]" name the same sections as "[profile dev]" / "[default]".
      std::string name(trim_space(line.substr(1, line.size() - 2)));
      if (name.starts_with("profile ") || name.starts_with("profile\t"))
        name = "profile " + std::string(trim_space(std::string_view(name).substr(8)));
      in_section = name == section;
      if (in_section && !found) found.emplace();
      parent.clear();
      continue;
    }
    if (!in_section) continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return make_error(ErrorKind::invalid_argument,
                        "line " + std::to_string(line_no) + ": expected 'name = value' in [" + std::string(section) + "]");
    }
    const std::string key = ascii_lower(trim_space(line.substr(0, eq)));
    const std::string value(trim_space(line.substr(eq + 1)));
    if (indented && !parent.empty()) {
      (*found)[parent + "." + key] = value;
      continue;
    }
    if (value.empty()) {
      parent = key;  // a nested block follows
      continue;
    }
    parent.clear();
    (*found)[key] = value;
  }
  return found;
}

Result<std::optional<std::string>> container_credentials_url(const EnvLookup& env) {
  if (auto relative = non_empty(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    if (relative->front() != '/')
      return make_error(ErrorKind::invalid_argument, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'");
    return std::optional<std::string>(std::string(kContainerRelativeHost) + *relative);
  }
  if (auto full = non_empty(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    const std::string scheme = ascii_lower(full->substr(0, full->find("://")));
    if (scheme == "https") return std::optional<std::string>(*full);
    if (scheme != "http" || full->find("://") == std::string::npos)
      return make_error(ErrorKind::invalid_argument, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http or https URL");
    if (!plain_http_host_allowed(*full))
      return make_error(ErrorKind::invalid_argument,
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI over plain http must point at a loopback address or "
                        "the container agent (169.254.170.2, 169.254.170.23, fd00:ec2::23): " + *full);
    return std::optional<std::string>(*full);
  }
  return std::optional<std::string>{};
}

Result<ResolvedCredentials> resolve_credentials_from(const std::string& profile_arg, const CredentialOptions& options) {
  const EnvLookup env = options.env ? options.env : process_environment();
  std::string profile = profile_arg;
  if (profile.empty()) profile = non_empty(env, "AWS_PROFILE").value_or("");
  const bool explicit_profile = !profile.empty();
  if (!explicit_profile) profile = "default";

  // 1. Environment.
  if (!explicit_profile) {
    const auto id = non_empty(env, "AWS_ACCESS_KEY_ID");
    const auto secret = non_empty(env, "AWS_SECRET_ACCESS_KEY");
    if (id && secret) {
      ResolvedCredentials r;
      r.credentials = {*id, *secret, non_empty(env, "AWS_SESSION_TOKEN").value_or("")};
      r.source = "environment";
      return r;
    }
    if (id || secret)
      return make_error(ErrorKind::invalid_argument,
                        "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set in the environment");
  }

  std::vector<std::string> looked;  // for the final message
  bool profile_seen = false;
  std::string unsupported;  // a profile using a mechanism we do not implement

  // 2. Shared credentials file: section [<profile>].
  const auto credentials_path = shared_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  {
    auto text = read_small_file(credentials_path, kMaxSharedFileBytes);
    if (!text) return text.error();
    if (*text) {
      auto section = read_ini_section(**text, profile);
      if (!section) return make_error(ErrorKind::invalid_argument, credentials_path.string() + ": " + section.error().message);
      if (*section) {
        profile_seen = true;
        auto r = from_section(**section, "shared credentials file " + credentials_path.string() + " [" + profile + "]");
        if (r || r.error().kind != ErrorKind::not_found) return r;
      }
    }
    looked.push_back(credentials_path.empty() ? "no shared credentials file (HOME unset)" : credentials_path.string());
  }

  // 3. Shared config file: [default] or [profile <p>].
  const auto config_path = shared_file(env, "AWS_CONFIG_FILE", "config");
  {
    auto text = read_small_file(config_path, kMaxSharedFileBytes);
    if (!text) return text.error();
    if (*text) {
      auto section = read_ini_section(**text, "profile " + profile);
      if (section && !*section && profile == "default") section = read_ini_section(**text, "default");
      if (!section) return make_error(ErrorKind::invalid_argument, config_path.string() + ": " + section.error().message);
      if (*section) {
        profile_seen = true;
        auto r = from_section(**section, "shared config file " + config_path.string() + " [profile " + profile + "]");
        if (r || r.error().kind != ErrorKind::not_found) return r;
        for (const char* key : {"role_arn", "sso_start_url", "sso_session", "credential_process", "web_identity_token_file"})
          if ((*section)->count(key)) unsupported = key;
      }
    }
    looked.push_back(config_path.empty() ? "no shared config file (HOME unset)" : config_path.string());
  }

  if (!unsupported.empty())
    return make_error(ErrorKind::invalid_argument, "profile " + profile + " uses " + unsupported +
                                                       ", which thumbflow does not support; give it static keys or use "
                                                       "environment variables",
                      "UnsupportedCredentialSource");
  if (explicit_profile && !profile_seen)
    return make_error(ErrorKind::invalid_argument,
                      "the profile '" + profile + "' is in neither " + credentials_path.string() + " nor " +
                          config_path.string(),
                      "ProfileNotFound");

  // 4. Container endpoint.
  auto url = container_credentials_url(env);
  if (!url) return url.error();
  if (*url) return from_container(**url, env, options);

  std::string where;
  for (const auto& l : looked) where += (where.empty() ? "" : ", ") + l;
  return make_error(ErrorKind::access_denied,
                    "no AWS credentials found for profile '" + profile + "': looked in " +
                        (explicit_profile ? std::string() : "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ") + where +
                        " and the container endpoint (AWS_CONTAINER_CREDENTIALS_*_URI unset)",
                    "NoCredentials");
}

Result<std::shared_ptr<CredentialProvider>> CredentialProvider::create(const std::string& profile,
                                                                        CredentialOptions options,
                                                                        std::chrono::seconds refresh_before) {
  auto first = resolve_credentials_from(profile, options);
  if (!first) return first.error();
  return std::shared_ptr<CredentialProvider>(
      new CredentialProvider(profile, std::move(options), refresh_before, std::move(*first)));
}

CredentialProvider::CredentialProvider(std::string profile, CredentialOptions options,
                                       std::chrono::seconds refresh_before, ResolvedCredentials first)
    : profile_(std::move(profile)),
      options_(std::move(options)),
      refresh_before_(refresh_before),
      current_(std::move(first)) {}

Result<Credentials> CredentialProvider::get() {
  std::lock_guard lock(mu_);
  if (!current_.expiration) return current_.credentials;  // keys from the environment or files do not expire
  const auto now = std::chrono::system_clock::now();
  if (*current_.expiration - now > refresh_before_) return current_.credentials;
  auto fresh = resolve_credentials_from(profile_, options_);
  ++resolutions_;
  if (fresh) {
    current_ = std::move(*fresh);
    return current_.credentials;
  }
  if (*current_.expiration > now) return current_.credentials;  // still valid: try again next call
  Error e = fresh.error();
  e.message = "the credentials from " + current_.source + " expired and could not be refreshed: " + e.message;
  return e;
}

CredentialSource CredentialProvider::source() {
  return [self = shared_from_this()]() { return self->get(); };
}

std::string CredentialProvider::describe_source() {
  std::lock_guard lock(mu_);
  return current_.source;
}

int CredentialProvider::resolutions() const {
  std::lock_guard lock(mu_);
  return resolutions_;
}

Result<Credentials> resolve_credentials(const std::string& profile) {
  auto r = resolve_credentials_from(profile, {});
  if (!r) return r.error();
  return std::move(r->credentials);
}

Result<std::string> resolve_region(const std::string& profile_arg, const EnvLookup& env_arg) {
  const EnvLookup env = env_arg ? env_arg : process_environment();
  if (auto r = non_empty(env, "AWS_REGION")) return *r;
  if (auto r = non_empty(env, "AWS_DEFAULT_REGION")) return *r;
  std::string profile = profile_arg;
  if (profile.empty()) profile = non_empty(env, "AWS_PROFILE").value_or("default");
  const auto config_path = shared_file(env, "AWS_CONFIG_FILE", "config");
  auto text = read_small_file(config_path, kMaxSharedFileBytes);
  if (!text) return text.error();
  if (*text) {
    auto section = read_ini_section(**text, "profile " + profile);
    if (section && !*section && profile == "default") section = read_ini_section(**text, "default");
    if (!section) return make_error(ErrorKind::invalid_argument, config_path.string() + ": " + section.error().message);
    if (*section) {
      if (auto it = (*section)->find("region"); it != (*section)->end() && !it->second.empty()) return it->second;
    }
  }
  return make_error(ErrorKind::not_found,
                    "no AWS region: set AWS_REGION or AWS_DEFAULT_REGION, or region in " + config_path.string() +
                        " [profile " + profile + "]",
                    "NoRegion");
}

}  // namespace thumbflow::aws
