#pragma once
// LoginThrottle shared by every replica through Redis (`state: redis`), LoginGuard's rules with
// the records in Redis, where each expires by itself:
//   <prefix>fail:addr:<address>  failures from an address  } INCR + PEXPIRE window, in one
//   <prefix>fail:login:<name>    failures of a login name  } script; the larger count sets the
//   delay <prefix>delay:<mailbox>      LOGIN-DELAY: SET NX PX delay; nil means too soon
// A success DELetes its name's count (not the address's), as LoginGuard does.
// Redis unreachable or slow: admission and LOGIN-DELAY answer [SYS/TEMP] (a new login is not let
// in on a guess, as the mailbox lease already does); a refused password is still slowed by this
// process's own LoginGuard, so a guesser gains nothing from an outage. The script touches two
// keys: one Redis server (or a primary with replicas), not a Redis Cluster.

#include <memory>
#include <string>

#include "lib/common/Executor.h"
#include "lib/redis/RedisClient.h"
#include "proxy/login/LoginGuard.h"
#include "proxy/login/LoginThrottle.h"

namespace popgate::login {

class RedisLoginThrottle final : public LoginThrottle {
 public:
  // `guard`: the limits (reloaded on SIGHUP), the throttling counts for the metrics, and the
  // fallback while Redis is away. `guard` and `executor` outlive this throttle.
  RedisLoginThrottle(std::shared_ptr<redis::RedisClient> client, std::string keyPrefix,
                     LoginGuard& guard, Executor& executor);

  [[nodiscard]] Pending admit(std::string address, Verdict done) override;
  [[nodiscard]] Pending failed(std::string address, std::string login, Delay done) override;
  [[nodiscard]] Pending succeeded(std::string login, std::string key,
                                  std::optional<std::chrono::seconds> loginDelay,
                                  Verdict done) override;

 private:
  std::string addressKey(const std::string& address) const;
  std::string loginKey(const std::string& login) const;

  std::shared_ptr<redis::RedisClient> client_;
  std::string prefix_;
  LoginGuard& guard_;
  Executor& executor_;
};

}  // namespace popgate::login
