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

// Which proofs an authenticator can check, so that the session offers only logins that can
// succeed (CAPA's SASL line, the bare AUTH listing, the APOP timestamp in the greeting).
struct LoginAbilities {
  bool passwords = true;           // PasswordProof (USER/PASS, PLAIN, LOGIN)
  bool challengeResponse = false;  // ApopProof, CramMd5Proof: holds plaintext-equivalent secrets
  bool bearerTokens = false;       // BearerProof: accepts the client's OAuth2 token
};

class Authenticator {
 public:
  using Done = std::function<void(Result<LoginGrant>)>;
  virtual ~Authenticator() = default;
  [[nodiscard]] virtual Pending authenticate(LoginRequest request, Done done) = 0;
  virtual LoginAbilities abilities() const { return {}; }
};

}  // namespace popgate::login
