#pragma once
// The first Authenticator: static SDPS routing (SdpsRouter) to one of this worker's backends,
// and the client's own name-after-routing and password upstream. popgate checks nothing itself:
// the store does, when the mailbox is opened. Only password proofs can be passed on.

#include <map>
#include <string>

#include "backends/mailbox/Backend.h"
#include "lib/common/Executor.h"
#include "proxy/login/Authenticator.h"
#include "proxy/route/SdpsRouter.h"

namespace popgate::login {

class PassthroughAuthenticator final : public Authenticator {
 public:
  // `backends` by name: this worker's instances, which outlive the authenticator.
  PassthroughAuthenticator(route::RoutingTable routing,
                           std::map<std::string, backends::Backend*> backends, Executor& executor);
  [[nodiscard]] Pending authenticate(LoginRequest request, Done done) override;

 private:
  Result<LoginGrant> grant(LoginRequest& request) const;

  route::SdpsRouter router_;
  std::map<std::string, backends::Backend*> backends_;
  Executor& executor_;
};

}  // namespace popgate::login
