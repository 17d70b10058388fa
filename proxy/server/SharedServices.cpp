#include "proxy/server/SharedServices.h"

#include <spdlog/spdlog.h>

#include "proxy/login/RedisLockService.h"

namespace popgate::server {

SharedServices::SharedServices(const config::Config& config)
    : instanceId(login::RedisLockService::randomInstanceId()),
      guard(config.limits.failedLogins),
      connections(config.limits.maxConnections, config.limits.maxConnectionsPerAddress),
      metrics(guard) {}

Result<std::unique_ptr<SharedServices>> SharedServices::create(const config::Config& config) {
  auto shared = std::make_unique<SharedServices>(config);
  if (auto loaded = shared->update(config); !loaded) return loaded.error();
  return shared;
}

Status SharedServices::update(const config::Config& config) {
  std::map<std::string, std::shared_ptr<login::LocalUsers>> nextUsers;
  std::map<std::string, std::shared_ptr<login::RefreshTokenStore>> nextTokens;
  for (const auto& [backend, policy] : config.logins) {
    const std::string& usersPath = policy.usersFile;
    if (!usersPath.empty() && !nextUsers.count(usersPath)) {
      if (auto it = users.find(usersPath); it != users.end()) {
        if (it->second->reload())
          spdlog::info("SIGHUP: users {} reloaded ({} users)", usersPath, it->second->size());
        nextUsers[usersPath] = it->second;
      } else {
        auto loaded = login::LocalUsers::load(usersPath);
        if (!loaded) return loaded.error();
        nextUsers[usersPath] = loaded.value();
      }
    }
    const std::string& tokensPath = policy.refreshTokensFile;
    if (!tokensPath.empty() && !nextTokens.count(tokensPath)) {
      if (auto it = refreshTokens.find(tokensPath); it != refreshTokens.end()) {
        if (auto status = it->second->reload(); status)
          spdlog::info("SIGHUP: refresh tokens {} reloaded", tokensPath);
        else
          spdlog::warn("SIGHUP: refresh tokens {} kept: {}", tokensPath, status.error().detail);
        nextTokens[tokensPath] = it->second;
      } else {
        auto store = std::make_shared<login::RefreshTokenStore>();
        if (auto loaded = store->load(tokensPath); !loaded) return loaded.error();
        nextTokens[tokensPath] = std::move(store);
      }
    }
  }
  users = std::move(nextUsers);
  refreshTokens = std::move(nextTokens);
  guard.setSettings(config.limits.failedLogins);
  connections.setLimits(config.limits.maxConnections, config.limits.maxConnectionsPerAddress);
  return Ok{};
}

}  // namespace popgate::server
