#pragma once
// The asynchronous login step: "login name + proof + client address" to "store, upstream user,
// upstream credential", or an outcome for the client: Error{Auth} gives [AUTH], Error{Temporary}
// [SYS/TEMP] (a lookup or a token service is down: never confused with a wrong password),
// Error{Permanent} [SYS/PERM], Error{InUse} [IN-USE].
//
// Contract: `done` never fires from inside authenticate(); destroying the returned handle before
// `done` fired cancels the step and `done` never fires. Implementations: PassthroughAuthenticator
// (static SDPS routing, the client's own password upstream); lookups over HTTP and OAuth2 tokens
// come as further implementations of this one interface.

#include <functional>

#include "lib/common/Pending.h"
#include "lib/common/Result.h"
#include "proxy/login/LoginRequest.h"

namespace popgate::login {

class Authenticator {
 public:
  using Done = std::function<void(Result<LoginGrant>)>;
  virtual ~Authenticator() = default;
  [[nodiscard]] virtual Pending authenticate(LoginRequest request, Done done) = 0;
};

}  // namespace popgate::login
