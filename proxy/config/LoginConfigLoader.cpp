// The login keys: each backend's `login:` block (LoginPolicy) and `routing.lookup` (the
// auth_http-compatible service). Files named here (users, refresh tokens, secrets) are read now,
// so that --check-config reports them as it reports unreadable certificates.

#include "lib/common/FileText.h"
#include "lib/config/TlsClientConfig.h"
#include "proxy/config/LoginConfig.h"
#include "proxy/login/LocalUsers.h"
#include "proxy/login/RefreshTokenStore.h"

namespace popgate::config {

namespace {

using Reader = ConfigReader;

// A secret from `key` or from the file `key_file` (its trailing newline dropped); one of them.
void readSecret(Reader& r, const YAML::Node& node, const std::string& key, std::string& out) {
  const YAML::Node& inline_ = node[key];
  const YAML::Node& file = node[key + "_file"];
  if (inline_ && file) return r.problem(node, "set " + key + " or " + key + "_file, not both");
  if (inline_) {
    r.scalar(inline_, key, out);
    return;
  }
  if (!file) return;
  std::string path;
  if (!r.scalar(file, key + "_file", path)) return;
  auto text = readFileText(path, 64 * 1024);
  if (!text) return r.problem(file, key + "_file: " + text.error().detail);
  out = std::move(text.value());
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
}

void readOAuth2(Reader& r, const YAML::Node& node, const std::string& where,
                login::LoginPolicy& policy) {
  std::set<std::string> known = {
      "token_url", "client_id",   "client_secret",  "client_secret_file", "scope",
      "grant",     "client_auth", "refresh_tokens", "timeout_s",          "refresh_margin_s"};
  known.insert(tlsClientKeys().begin(), tlsClientKeys().end());
  if (!r.mapping(node, where + " oauth2", known)) return;
  auto settings = std::make_shared<login::OAuth2Settings>();
  std::string url;
  if (!node["token_url"]) {
    r.problem(node, where + " oauth2 needs token_url");
  } else if (r.scalar(node["token_url"], "token_url", url)) {
    auto parsed = http::parseHttpUrl(url);
    if (!parsed)
      r.problem(node["token_url"], "token_url: " + parsed.error().detail);
    else
      settings->tokenUrl = parsed.value();
  }
  if (!node["client_id"])
    r.problem(node, where + " oauth2 needs client_id");
  else
    r.scalar(node["client_id"], "client_id", settings->clientId);
  readSecret(r, node, "client_secret", settings->clientSecret);
  if (node["scope"]) r.scalar(node["scope"], "scope", settings->scope);
  std::string grant = "client_credentials";
  if (node["grant"]) r.scalar(node["grant"], "grant", grant);
  if (grant == "client_credentials") {
    settings->grant = login::OAuth2Settings::Grant::ClientCredentials;
  } else if (grant == "refresh_token") {
    settings->grant = login::OAuth2Settings::Grant::RefreshToken;
  } else {
    r.problem(node["grant"], "grant must be client_credentials or refresh_token");
  }
  std::string clientAuth = "post";
  if (node["client_auth"]) r.scalar(node["client_auth"], "client_auth", clientAuth);
  if (clientAuth == "post")
    settings->clientAuth = login::OAuth2Settings::ClientAuth::Post;
  else if (clientAuth == "basic")
    settings->clientAuth = login::OAuth2Settings::ClientAuth::Basic;
  else
    r.problem(node["client_auth"], "client_auth must be post or basic");
  if (node["refresh_tokens"])
    r.scalar(node["refresh_tokens"], "refresh_tokens", policy.refreshTokensFile);
  if (settings->grant == login::OAuth2Settings::Grant::RefreshToken) {
    if (policy.refreshTokensFile.empty()) {
      r.problem(node, where + " oauth2 with grant refresh_token needs refresh_tokens");
    } else if (login::RefreshTokenStore store; !store.load(policy.refreshTokensFile)) {
      r.problem(node["refresh_tokens"],
                "refresh_tokens " + policy.refreshTokensFile + " cannot be loaded");
    }
  }
  std::chrono::seconds seconds{};
  if (node["timeout_s"] && r.seconds(node["timeout_s"], "timeout_s", seconds)) {
    settings->timeout = seconds;
  }
  if (node["refresh_margin_s"]) {
    r.seconds(node["refresh_margin_s"], "refresh_margin_s", settings->refreshMargin, 0);
  }
  net::TlsClientSettings tls;
  readTlsClient(r, node, settings->tokenUrl.host, tls);
  if (settings->tokenUrl.https) policy.tokenTls = makeTlsClientContext(r, node, where, tls);
  policy.oauth2 = std::move(settings);
}

}  // namespace

void readBackendLogin(ConfigReader& r, const YAML::Node& node, const std::string& backend,
                      login::LoginPolicy& policy) {
  std::string where = "backend '" + backend + "' login";
  if (!r.mapping(node, where,
                 {"mode", "users", "master_user", "master_password", "master_password_file",
                  "oauth2", "login_delay_s", "expire_days"}))
    return;
  std::string mode = "passthrough";
  if (node["mode"]) r.scalar(node["mode"], "login mode", mode);
  if (mode == "passthrough") {
    policy.mode = login::LoginMode::Passthrough;
  } else if (mode == "token") {
    policy.mode = login::LoginMode::Token;
  } else if (mode == "master") {
    policy.mode = login::LoginMode::Master;
  } else if (mode == "oauth2") {
    policy.mode = login::LoginMode::OAuth2;
  } else {
    r.problem(node["mode"], "login mode must be passthrough, token, master or oauth2");
  }
  if (node["users"]) r.scalar(node["users"], "users", policy.usersFile);
  if (policy.checksLocally()) {
    if (policy.usersFile.empty()) {
      r.problem(node, where + " mode " + mode + " needs users (a passwd-file)");
    } else if (auto users = login::LocalUsers::load(policy.usersFile); !users) {
      r.problem(node["users"], users.error().detail);
    }
  } else if (node["users"]) {
    r.problem(node["users"], where + ": users is only for modes master and oauth2");
  }
  if (policy.mode == login::LoginMode::Master) {
    if (!node["master_user"])
      r.problem(node, where + " mode master needs master_user");
    else
      r.scalar(node["master_user"], "master_user", policy.masterUser);
    readSecret(r, node, "master_password", policy.masterPassword);
    if (policy.masterPassword.empty())
      r.problem(node, where + " mode master needs master_password or master_password_file");
  }
  if (policy.mode == login::LoginMode::OAuth2) {
    if (!node["oauth2"])
      r.problem(node, where + " mode oauth2 needs an oauth2 block");
    else
      readOAuth2(r, node["oauth2"], where, policy);
  }
  if (node["login_delay_s"]) {
    std::size_t seconds = 0;
    if (r.count(node["login_delay_s"], "login_delay_s", seconds, 0, 86400))
      policy.loginDelay = static_cast<std::uint32_t>(seconds);
  }
  if (node["expire_days"]) {
    // RFC 2449 §6.8: a number of days, or NEVER (mail is never deleted by the server).
    std::string expire;
    if (r.scalar(node["expire_days"], "expire_days", expire)) {
      std::size_t days = 0;
      if (expire == "never" || expire == "NEVER")
        policy.expire = "NEVER";
      else if (r.count(node["expire_days"], "expire_days", days, 0, 100000))
        policy.expire = std::to_string(days);
    }
  }
}

void readLookup(ConfigReader& r, const YAML::Node& node, Config& config) {
  std::set<std::string> known = {"url", "timeout_s", "cache", "backend"};
  known.insert(tlsClientKeys().begin(), tlsClientKeys().end());
  if (!r.mapping(node, "routing.lookup", known)) return;
  auto settings = std::make_shared<route::AuthHttpSettings>();
  LookupConfig lookup;
  std::string url;
  if (!node["url"]) {
    r.problem(node, "routing.lookup needs url");
  } else if (r.scalar(node["url"], "lookup url", url)) {
    auto parsed = http::parseHttpUrl(url);
    if (!parsed)
      r.problem(node["url"], "lookup url: " + parsed.error().detail);
    else
      settings->url = parsed.value();
  }
  std::chrono::seconds timeout{};
  if (node["timeout_s"] && r.seconds(node["timeout_s"], "timeout_s", timeout))
    settings->timeout = timeout;
  if (const YAML::Node& cache = node["cache"]) {
    if (r.mapping(cache, "routing.lookup.cache", {"positive_s", "negative_s", "max_entries"})) {
      if (cache["positive_s"])
        r.seconds(cache["positive_s"], "positive_s", settings->positiveTtl, 0);
      if (cache["negative_s"])
        r.seconds(cache["negative_s"], "negative_s", settings->negativeTtl, 0);
      if (cache["max_entries"])
        r.count(cache["max_entries"], "max_entries", settings->maxEntries, 0, 10'000'000);
    }
  }
  if (!node["backend"]) {
    r.problem(node, "routing.lookup needs backend (the template for Auth-Server)");
  } else if (r.scalar(node["backend"], "lookup backend", lookup.backend) &&
             !config.backends.count(lookup.backend)) {
    r.problem(node["backend"], "routing.lookup names an unknown backend '" + lookup.backend + "'");
  }
  net::TlsClientSettings tls;
  readTlsClient(r, node, settings->url.host, tls);
  if (settings->url.https) lookup.tls = makeTlsClientContext(r, node, "routing.lookup", tls);
  lookup.settings = std::move(settings);
  config.lookup = std::move(lookup);
}

}  // namespace popgate::config
