#include "proxy/login/PassthroughAuthenticator.h"

namespace popgate::login {

PassthroughAuthenticator::PassthroughAuthenticator(
    route::RoutingTable routing, std::map<std::string, backends::Backend*> backends,
    Executor& executor)
    : router_(std::move(routing)), backends_(std::move(backends)), executor_(executor) {}

Pending PassthroughAuthenticator::authenticate(LoginRequest request, Done done) {
  // Routing is immediate, but the answer still comes from the loop (the Authenticator contract);
  // the mailbox is made when the task runs, so a cancelled login never built one.
  return executor_.post([this, request = std::move(request), done = std::move(done)]() mutable {
    done(grant(request));
  });
}

Result<LoginGrant> PassthroughAuthenticator::grant(LoginRequest& request) const {
  auto* password = std::get_if<PasswordProof>(&request.proof);
  if (!password) return Error{ErrorCode::Auth, "only a password can be passed to the store"};
  auto route = router_.route(request.login);
  if (!route) return route.error();
  auto backend = backends_.find(route.value().backend);
  if (backend == backends_.end()) return Error{ErrorCode::Auth, "unknown backend"};
  LoginGrant grant;
  grant.mailbox = backend->second->newMailbox();
  grant.lockKey = backend->first + '\0' + route.value().upstreamUser;
  // Backends here carry no policy: exclusive unless the domain says otherwise.
  grant.exclusive =
      route.value().lock.value_or(route::LockPolicy::Exclusive) == route::LockPolicy::Exclusive;
  grant.credentials.user = std::move(route.value().upstreamUser);
  grant.credentials.secret = backends::PasswordCredential{std::move(password->password)};
  return grant;
}

}  // namespace popgate::login
