#pragma once
// What every worker thread of one process shares, each part thread-safe: the mailbox locks
// (one session per mailbox), the brute-force and LOGIN-DELAY records, and the connection counts.
// main makes one and hands it to every worker; nothing here belongs to a loop.

#include "proxy/config/Config.h"
#include "proxy/login/InProcessLocks.h"
#include "proxy/login/LoginGuard.h"
#include "proxy/server/ConnectionLimits.h"

namespace popgate::server {

struct SharedServices {
  explicit SharedServices(const config::Config& config)
      : guard(config.limits.failedLogins),
        connections(config.limits.maxConnections, config.limits.maxConnectionsPerAddress) {}

  login::InProcessLocks locks;
  login::LoginGuard guard;
  ConnectionLimits connections;
};

}  // namespace popgate::server
