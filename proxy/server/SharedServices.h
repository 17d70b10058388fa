#pragma once
// What every worker thread of one process shares, each part thread-safe: the mailbox locks
// (one session per mailbox), the brute-force and LOGIN-DELAY records, the connection counts, the
// metrics, and
// the login files (passwd-files, refresh-token stores), loaded once and reloaded on SIGHUP.
// main makes one for the life of the process and hands it to every worker of every configuration
// (SIGHUP): a session of the old configuration and one of the new share the mailbox locks and
// the counts. Nothing here belongs to a loop.

#include <map>
#include <memory>
#include <string>

#include "proxy/config/Config.h"
#include "proxy/login/InProcessLocks.h"
#include "proxy/login/LocalUsers.h"
#include "proxy/login/LoginGuard.h"
#include "proxy/login/RefreshTokenStore.h"
#include "proxy/server/ConnectionLimits.h"
#include "proxy/server/ServerMetrics.h"

namespace popgate::server {

struct SharedServices {
  // Loads every file the login blocks name; Error{Invalid} naming the first that fails.
  static Result<std::unique_ptr<SharedServices>> create(const config::Config& config);
  explicit SharedServices(const config::Config& config);

  // SIGHUP with a valid new configuration, before its workers start: loads the login files it
  // names (those already loaded are read again; a file with problems keeps what was loaded
  // before) and applies its limits. An error (a new file that cannot be loaded) changes nothing.
  // Workers read the tables when they start: those of the old configuration keep theirs.
  Status update(const config::Config& config);

  login::InProcessLocks locks;
  // In every lease token this process writes to Redis (`state: redis`): tells replicas apart.
  std::string instanceId;
  login::LoginGuard guard;
  ConnectionLimits connections;
  ServerMetrics metrics;  // after guard: it reads the guard's counts
  std::map<std::string, std::shared_ptr<login::LocalUsers>> users;                 // by path
  std::map<std::string, std::shared_ptr<login::RefreshTokenStore>> refreshTokens;  // by path
};

}  // namespace popgate::server
