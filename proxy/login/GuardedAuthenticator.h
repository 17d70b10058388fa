#pragma once
// Puts the login throttle around another Authenticator (a decorator, as Envoy chains filters):
// the address is admitted before anything is checked, a refused password is answered only after
// the throttle's delay, wherever it was refused (by the authenticator, or by the store when the
// mailbox is opened: the grant's mailbox is wrapped for that), and a login the store accepted
// passes the LOGIN-DELAY check. The session sees an ordinary Authenticator and Mailbox.

#include "lib/common/Executor.h"
#include "proxy/login/Authenticator.h"
#include "proxy/login/LoginThrottle.h"

namespace popgate::login {

class GuardedAuthenticator final : public Authenticator {
 public:
  // All three outlive this authenticator and every mailbox it granted.
  GuardedAuthenticator(Authenticator& inner, LoginThrottle& throttle, Executor& executor);
  [[nodiscard]] Pending authenticate(LoginRequest request, Done done) override;
  LoginAbilities abilities() const override { return inner_.abilities(); }

 private:
  Authenticator& inner_;
  LoginThrottle& throttle_;
  Executor& executor_;
};

}  // namespace popgate::login
