#include "proxy/server/SharedServices.h"

#include <spdlog/spdlog.h>

namespace popgate::server {

SharedServices::SharedServices(const config::Config& config)
    : guard(config.limits.failedLogins),
      connections(config.limits.maxConnections, config.limits.maxConnectionsPerAddress),
      metrics(guard) {}

Result<std::unique_ptr<SharedServices>> SharedServices::create(const config::Config& config) {
  auto shared = std::make_unique<SharedServices>(config);
  for (const auto& [backend, policy] : config.logins) {
    if (!policy.usersFile.empty() && !shared->users.count(policy.usersFile)) {
      auto users = login::LocalUsers::load(policy.usersFile);
      if (!users) return users.error();
      shared->users[policy.usersFile] = users.value();
    }
    if (!policy.refreshTokensFile.empty() &&
        !shared->refreshTokens.count(policy.refreshTokensFile)) {
      auto store = std::make_shared<login::RefreshTokenStore>();
      if (auto loaded = store->load(policy.refreshTokensFile); !loaded) return loaded.error();
      shared->refreshTokens[policy.refreshTokensFile] = std::move(store);
    }
  }
  return shared;
}

void SharedServices::reload() {
  for (auto& [path, table] : users) {
    if (table->reload()) spdlog::info("SIGHUP: users {} reloaded ({} users)", path, table->size());
  }
  for (auto& [path, store] : refreshTokens) {
    if (auto status = store->reload(); status)
      spdlog::info("SIGHUP: refresh tokens {} reloaded", path);
    else
      spdlog::warn("SIGHUP: refresh tokens {} kept: {}", path, status.error().detail);
  }
}

}  // namespace popgate::server
