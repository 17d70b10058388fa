#include "proxy/login/RoutingAuthenticator.h"

#include <utility>

#include "proxy/login/LoginGuard.h"
#include "proxy/login/ObservedMailbox.h"

namespace popgate::login {

namespace {

const char* proofName(const Proof& proof) {
  if (std::holds_alternative<PasswordProof>(proof)) return "a password";
  if (std::holds_alternative<ApopProof>(proof)) return "APOP";
  if (std::holds_alternative<CramMd5Proof>(proof)) return "CRAM-MD5";
  return "an OAuth2 token";
}

// The lookup service's query for this login, as nginx would send it; null for a proof nginx
// cannot pass on (a bearer token).
std::optional<route::AuthHttpQuery> lookupQuery(const LoginRequest& request) {
  route::AuthHttpQuery query;
  query.user = request.login;
  query.clientIp = LoginGuard::hostOf(request.clientAddress);
  query.loginAttempt = request.attempt;
  if (const auto* password = std::get_if<PasswordProof>(&request.proof)) {
    query.method = "plain";
    query.pass = password->password;
  } else if (const auto* apop = std::get_if<ApopProof>(&request.proof)) {
    query.method = "apop";
    query.pass = apop->digest;
    query.salt = apop->timestamp;
  } else if (const auto* cram = std::get_if<CramMd5Proof>(&request.proof)) {
    query.method = "cram-md5";
    query.pass = cram->digest;
    query.salt = cram->challenge;
  } else {
    return std::nullopt;
  }
  return query;
}

}  // namespace

// One login under way. Each asynchronous part has its own handle, so none is replaced from
// inside its own callback; destroying the step (the session's Pending) cancels them all.
class RoutingAuthenticator::Step final : public Cancelable {
 public:
  Step(RoutingAuthenticator& owner, LoginRequest request, Done done)
      : owner_(owner), request_(std::move(request)), done_(std::move(done)) {}

  void start() {
    started_ = owner_.executor_.post([this] {
      if (owner_.lookup_) return askLookup();
      auto route = owner_.router_.route(request_.login);
      if (!route) return finish(route.error());
      auto it = owner_.backends_.find(route.value().backend);
      if (it == owner_.backends_.end()) return finish(Error{ErrorCode::Auth, "unknown backend"});
      name_ = it->first;
      backend_ = &it->second;
      upstreamUser_ = std::move(route.value().upstreamUser);
      lockKey_ = name_ + '\0' + upstreamUser_;
      lock_ = route.value().lock;
      mailbox_ = backend_->backend->newMailbox();
      checkThenGrant();
    });
  }

 private:
  void askLookup() {
    auto query = lookupQuery(request_);
    if (!query) {
      return finish(Error{ErrorCode::Auth, "the lookup service cannot check OAuth2 tokens"});
    }
    lookup_ = owner_.lookup_->lookup->lookup(
        std::move(*query), [this](Result<route::AuthHttpAnswer> answer) { lookedUp(answer); });
  }

  void lookedUp(Result<route::AuthHttpAnswer>& answer) {
    if (!answer) return finish(answer.error());
    route::AuthHttpAnswer& found = answer.value();
    if (!found.ok) {
      // nginx writes "-ERR <text>" after Auth-Wait; popgate keeps the session either way.
      Error refused{found.temporary ? ErrorCode::Temporary : ErrorCode::Auth,
                    "lookup refused the login", "-ERR [AUTH] " + found.errorText};
      if (found.temporary) refused.reply = "-ERR [SYS/TEMP] " + found.errorText;
      if (!found.wait) return finish(std::move(refused));
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*found.wait);
      waited_ = owner_.executor_.postAfter(
          wait, [this, refused = std::move(refused)]() mutable { finish(std::move(refused)); });
      return;
    }
    auto it = owner_.backends_.find(owner_.lookup_->backend);
    name_ = it->first;
    backend_ = &it->second;
    mailbox_ = backend_->backend->newMailboxAt(found.server, found.port);
    if (!mailbox_) {
      return finish(
          Error{ErrorCode::Permanent, "backend '" + name_ + "' cannot be pointed at Auth-Server"});
    }
    upstreamUser_ = found.user.value_or(request_.login);
    lockKey_ = found.server + ':' + std::to_string(found.port) + '\0' + upstreamUser_;
    // The service checked the credentials: the client's password (or the one the service
    // answered) goes upstream, or the template's own credential.
    if (found.pass) request_.proof = PasswordProof{std::move(*found.pass)};
    verified_ = true;
    checkThenGrant();
  }

  void checkThenGrant() {
    const LoginPolicy& policy = backend_->policy;
    if (policy.checksLocally() && !verified_) {
      check_ = backend_->users->check(owner_.loop_, request_.login, request_.proof,
                                      [this](Result<LocalUser> user) {
                                        if (!user) return finish(user.error());
                                        verified_ = true;
                                        checkThenGrant();
                                      });
      return;
    }
    backends::Credentials credentials;
    credentials.user = upstreamUser_;
    switch (policy.mode) {
      case LoginMode::Passthrough: {
        auto* password = std::get_if<PasswordProof>(&request_.proof);
        if (!password) return refuse("backend '" + name_ + "' passes passwords only");
        credentials.secret = backends::PasswordCredential{std::move(password->password)};
        return grant(std::move(credentials));
      }
      case LoginMode::Token: {
        auto* bearer = std::get_if<BearerProof>(&request_.proof);
        if (!bearer) return refuse("backend '" + name_ + "' takes OAuth2 tokens only");
        credentials.secret = backends::TokenCredential{std::move(bearer->token)};
        return grant(std::move(credentials));
      }
      case LoginMode::Master:
        observe(nullptr);
        credentials.secret = backends::MasterCredential{policy.masterUser, policy.masterPassword};
        return grant(std::move(credentials));
      case LoginMode::OAuth2:
        token_ = backend_->tokens->token(upstreamUser_, [this](Result<std::string> token) {
          if (!token) return finish(token.error());
          // A token the store refuses (revoked, or expired early) leaves the cache, so the
          // next login asks the endpoint instead of failing until the token's expiry.
          auto* tokens = backend_->tokens;
          observe([tokens, user = upstreamUser_, used = token.value()] {
            tokens->invalidate(user, used);
          });
          backends::Credentials withToken;
          withToken.user = upstreamUser_;
          withToken.secret = backends::TokenCredential{std::move(token.value())};
          grant(std::move(withToken));
        });
        return;
    }
  }

  // popgate checked the client and logs in with its own credential: a store that refuses it is
  // a configuration or token trouble, never the client's wrong password (RFC 3206: [SYS/TEMP],
  // not [AUTH], so a client does not ask its user for a new password). `refused` runs first.
  void observe(std::function<void()> refused) {
    mailbox_ = std::make_unique<ObservedMailbox>(
        std::move(mailbox_),
        [refused = std::move(refused), name = name_](Result<backends::MessageList>& opened) {
          if (opened || opened.error().code != ErrorCode::Auth) return;
          if (refused) refused();
          opened = Error{
              ErrorCode::Temporary,
              "backend '" + name + "' refused popgate's credential: " + opened.error().detail};
        });
  }

  void refuse(std::string why) {
    finish(Error{ErrorCode::Auth, std::move(why) + ", not " + proofName(request_.proof)});
  }

  void grant(backends::Credentials credentials) {
    LoginGrant out;
    out.mailbox = std::move(mailbox_);
    out.credentials = std::move(credentials);
    out.lockKey = std::move(lockKey_);
    out.exclusive = lock_.value_or(backend_->policy.lock) == LockPolicy::Exclusive;
    out.loginDelay = backend_->policy.loginDelay;
    out.expire = backend_->policy.expire;
    finish(std::move(out));
  }

  void finish(Result<LoginGrant> result) {
    // The callback may destroy this step: nothing after it.
    std::exchange(done_, nullptr)(std::move(result));
  }

  RoutingAuthenticator& owner_;
  LoginRequest request_;
  Done done_;
  std::string name_;
  RoutedBackend* backend_ = nullptr;
  std::unique_ptr<backends::Mailbox> mailbox_;
  std::string upstreamUser_;
  std::string lockKey_;
  std::optional<LockPolicy> lock_;  // the domain's, when it has one (else the backend's)
  bool verified_ = false;           // popgate or the lookup service checked the credentials
  Pending started_;
  Pending lookup_;
  Pending waited_;
  Pending check_;
  Pending token_;
};

RoutingAuthenticator::RoutingAuthenticator(uv_loop_t* loop, Executor& executor,
                                           route::RoutingTable routing,
                                           std::map<std::string, RoutedBackend> backends,
                                           std::optional<LookupRoute> lookup)
    : loop_(loop),
      executor_(executor),
      router_(std::move(routing)),
      backends_(std::move(backends)),
      lookup_(std::move(lookup)) {}

LoginAbilities RoutingAuthenticator::abilities() const {
  // Offered when some route can take it (RFC 5034 §3: CAPA lists what may succeed). Computed
  // each time: a SIGHUP reload may add or remove plaintext-equivalent secrets.
  LoginAbilities out;
  out.passwords = lookup_.has_value();
  out.challengeResponse = lookup_.has_value();
  out.bearerTokens = false;
  for (const auto& [name, backend] : backends_) {
    if (backend.policy.mode == LoginMode::Token) {
      out.bearerTokens = true;
    } else {
      out.passwords = true;
    }
    if (backend.users && backend.users->hasChallengeSecrets()) out.challengeResponse = true;
  }
  return out;
}

Pending RoutingAuthenticator::authenticate(LoginRequest request, Done done) {
  auto step = std::make_unique<Step>(*this, std::move(request), std::move(done));
  step->start();
  return step;
}

}  // namespace popgate::login
