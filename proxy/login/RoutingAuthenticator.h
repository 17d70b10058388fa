#pragma once
// The login step as configured: where a user's mailbox is (the static SDPS table, or the
// routing.lookup service that nginx's auth_http speaks to), who checks the user (the store,
// popgate against a passwd-file, or the lookup service), and what goes upstream (the user's
// password or token, a master login, an OAuth2 token): LoginPolicy per backend.
//
// Outcomes (Authenticator.h): a wrong password, unknown user or lookup refusal is Error{Auth};
// a lookup service or token endpoint that is down is Error{Temporary}, never Auth: the client
// must not be told that a good password is wrong (RFC 3206 [SYS/TEMP] against [AUTH]).

#include <uv.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "backends/mailbox/Backend.h"
#include "lib/common/Executor.h"
#include "proxy/login/Authenticator.h"
#include "proxy/login/LocalUsers.h"
#include "proxy/login/LoginPolicy.h"
#include "proxy/login/OAuth2TokenSource.h"
#include "proxy/route/AuthHttpLookup.h"
#include "proxy/route/SdpsRouter.h"

namespace popgate::login {

// One backend as this worker's login step uses it. Every pointer outlives the authenticator.
struct RoutedBackend {
  backends::Backend* backend = nullptr;
  LoginPolicy policy;
  std::shared_ptr<const LocalUsers> users;  // checksLocally()
  OAuth2TokenSource* tokens = nullptr;      // mode oauth2
};

struct LookupRoute {
  route::AuthHttpLookup* lookup = nullptr;
  std::string backend;  // the template: TLS, mailbox and login mode toward Auth-Server
};

class RoutingAuthenticator final : public Authenticator {
 public:
  RoutingAuthenticator(uv_loop_t* loop, Executor& executor, route::RoutingTable routing,
                       std::map<std::string, RoutedBackend> backends,
                       std::optional<LookupRoute> lookup);
  [[nodiscard]] Pending authenticate(LoginRequest request, Done done) override;
  LoginAbilities abilities() const override;

 private:
  class Step;
  friend class Step;

  uv_loop_t* loop_;
  Executor& executor_;
  route::SdpsRouter router_;
  std::map<std::string, RoutedBackend> backends_;
  std::optional<LookupRoute> lookup_;
};

}  // namespace popgate::login
