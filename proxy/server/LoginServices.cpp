#include "proxy/server/LoginServices.h"

#include "proxy/login/LocalLoginThrottle.h"
#include "proxy/login/RedisLockService.h"
#include "proxy/login/RedisLoginThrottle.h"
#include "proxy/server/MeteredMailbox.h"

namespace popgate::server {

namespace {

// Each backend behind the metrics decorator: its mailboxes are counted and timed.
std::map<std::string, std::unique_ptr<backends::Backend>> instantiate(uv_loop_t* loop,
                                                                      const config::Config& config,
                                                                      ServerMetrics& metrics) {
  std::map<std::string, std::unique_ptr<backends::Backend>> out;
  for (const auto& [name, definition] : config.backends)
    out[name] = std::make_unique<MeteredBackend>(definition->instantiate(loop), name, metrics);
  return out;
}

http::HttpClient& newClient(uv_loop_t* loop, LoginServices::HttpServices& http,
                            std::shared_ptr<const net::TlsClientContext> tls) {
  http::HttpClientSettings settings;
  settings.tls = std::move(tls);
  http.clients.push_back(std::make_unique<http::HttpClient>(loop, std::move(settings)));
  return *http.clients.back();
}

LoginServices::HttpServices connectHttp(uv_loop_t* loop, const config::Config& config,
                                        SharedServices& shared) {
  LoginServices::HttpServices http;
  for (const auto& [backend, policy] : config.logins) {
    if (policy.mode != login::LoginMode::OAuth2 || !policy.oauth2) continue;
    std::shared_ptr<login::RefreshTokenStore> store;
    if (auto it = shared.refreshTokens.find(policy.refreshTokensFile);
        it != shared.refreshTokens.end())
      store = it->second;
    http.tokens[backend] = std::make_unique<login::OAuth2TokenSource>(
        loop, newClient(loop, http, policy.tokenTls), policy.oauth2, std::move(store));
  }
  if (config.lookup) {
    http.lookup = std::make_unique<route::AuthHttpLookup>(
        loop, newClient(loop, http, config.lookup->tls), config.lookup->settings);
  }
  return http;
}

std::map<std::string, login::RoutedBackend> routed(
    const config::Config& config,
    const std::map<std::string, std::unique_ptr<backends::Backend>>& backends,
    LoginServices::HttpServices& http, SharedServices& shared) {
  std::map<std::string, login::RoutedBackend> out;
  for (const auto& [name, backend] : backends) {
    login::RoutedBackend& entry = out[name];
    entry.backend = backend.get();
    if (auto it = config.logins.find(name); it != config.logins.end()) entry.policy = it->second;
    if (auto it = shared.users.find(entry.policy.usersFile); it != shared.users.end())
      entry.users = it->second;
    if (auto it = http.tokens.find(name); it != http.tokens.end()) entry.tokens = it->second.get();
  }
  return out;
}

std::optional<login::LookupRoute> lookupRoute(const config::Config& config,
                                              LoginServices::HttpServices& http) {
  if (!http.lookup) return std::nullopt;
  return login::LookupRoute{http.lookup.get(), config.lookup->backend};
}

std::shared_ptr<redis::RedisClient> connectRedis(uv_loop_t* loop, const config::Config& config) {
  const config::StateConfig& state = config.state;
  if (state.type == config::StateType::Local) return nullptr;
  redis::RedisSettings settings;
  settings.address = state.address;
  settings.port = state.port;
  settings.password = state.password;
  settings.connectTimeout = state.connectTimeout;
  settings.commandTimeout = state.connectTimeout;
  return std::make_shared<redis::RedisClient>(loop, std::move(settings));
}

std::unique_ptr<login::LoginThrottle> loginThrottle(const config::Config& config,
                                                    std::shared_ptr<redis::RedisClient> redis,
                                                    SharedServices& shared, Executor& executor) {
  if (!redis) return std::make_unique<login::LocalLoginThrottle>(shared.guard, executor);
  return std::make_unique<login::RedisLoginThrottle>(std::move(redis), config.state.keyPrefix,
                                                     shared.guard, executor);
}

std::unique_ptr<login::MailboxLockService> lockService(uv_loop_t* loop,
                                                       const config::Config& config,
                                                       std::shared_ptr<redis::RedisClient> redis,
                                                       SharedServices& shared, Executor& executor) {
  if (!redis) return std::make_unique<login::LocalLockService>(shared.locks, executor);
  const config::StateConfig& state = config.state;
  return std::make_unique<login::RedisLockService>(
      loop, std::move(redis), login::RedisLockSettings{state.keyPrefix, state.lease},
      shared.instanceId);
}

}  // namespace

LoginServices::LoginServices(uv_loop_t* loop, const config::Config& config, SharedServices& shared)
    : executor_(loop),
      backends_(instantiate(loop, config, shared.metrics)),
      http_(connectHttp(loop, config, shared)),
      authenticator_(loop, executor_, config.routing, routed(config, backends_, http_, shared),
                     lookupRoute(config, http_)),
      redis_(connectRedis(loop, config)),
      throttle_(loginThrottle(config, redis_, shared, executor_)),
      guarded_(authenticator_, *throttle_, executor_),
      locks_(lockService(loop, config, redis_, shared, executor_)) {}

}  // namespace popgate::server
