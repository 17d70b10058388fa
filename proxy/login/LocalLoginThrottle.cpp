#include "proxy/login/LocalLoginThrottle.h"

#include <utility>

namespace popgate::login {

namespace {
using Clock = LoginGuard::Clock;
}

Pending LocalLoginThrottle::admit(std::string address, Verdict done) {
  return executor_.post(
      [verdict = guard_.admit(address, Clock::now()), done = std::move(done)] { done(verdict); });
}

Pending LocalLoginThrottle::failed(std::string address, std::string login, Delay done) {
  return executor_.post([delay = guard_.failed(address, login, Clock::now()),
                         done = std::move(done)] { done(delay); });
}

Pending LocalLoginThrottle::succeeded(std::string login, std::string key,
                                      std::optional<std::chrono::seconds> loginDelay,
                                      Verdict done) {
  return executor_.post([verdict = guard_.succeeded(login, key, loginDelay, Clock::now()),
                         done = std::move(done)] { done(verdict); });
}

}  // namespace popgate::login
