#pragma once
// LoginThrottle over this process's LoginGuard (`state: local`, the default): the answer is known
// at once and delivered through the executor, on the next loop iteration.

#include "lib/common/Executor.h"
#include "proxy/login/LoginGuard.h"
#include "proxy/login/LoginThrottle.h"

namespace popgate::login {

class LocalLoginThrottle final : public LoginThrottle {
 public:
  // Both outlive this throttle.
  LocalLoginThrottle(LoginGuard& guard, Executor& executor) : guard_(guard), executor_(executor) {}

  [[nodiscard]] Pending admit(std::string address, Verdict done) override;
  [[nodiscard]] Pending failed(std::string address, std::string login, Delay done) override;
  [[nodiscard]] Pending succeeded(std::string login, std::string key,
                                  std::optional<std::chrono::seconds> loginDelay,
                                  Verdict done) override;

 private:
  LoginGuard& guard_;
  Executor& executor_;
};

}  // namespace popgate::login
