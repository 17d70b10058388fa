#pragma once
// Where the brute-force records and the LOGIN-DELAY times live, asked asynchronously so that
// they can live outside the process: LocalLoginThrottle keeps them in this process's LoginGuard
// (one replica); RedisLoginThrottle keeps them in Redis, so that a guesser spread over replicas
// behind a load balancer meets one count, and LOGIN-DELAY holds whichever replica a user reaches
// (`state: redis`). The rules are LoginGuard's (proxy/login/LoginGuard.h) either way.
// Same contract as every asynchronous step: `done` never fires from inside the call; destroying
// the returned handle cancels the callback.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "lib/common/Pending.h"
#include "lib/common/Result.h"

namespace popgate::login {

class LoginThrottle {
 public:
  // nullopt: go on; an error: the reply the client gets instead.
  using Verdict = std::function<void(std::optional<Error>)>;
  using Delay = std::function<void(std::chrono::milliseconds)>;

  virtual ~LoginThrottle() = default;
  // Before anything is checked: is this address (without port) refused for now?
  [[nodiscard]] virtual Pending admit(std::string address, Verdict done) = 0;
  // A refused password: records it, answers how long to wait before the -ERR.
  [[nodiscard]] virtual Pending failed(std::string address, std::string login, Delay done) = 0;
  // The store accepted the login: clears the name's failures and checks LOGIN-DELAY for the
  // mailbox `key` (recording this login when it passes).
  [[nodiscard]] virtual Pending succeeded(std::string login, std::string key,
                                          std::optional<std::chrono::seconds> loginDelay,
                                          Verdict done) = 0;
};

}  // namespace popgate::login
