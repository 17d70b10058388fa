#pragma once
// Access tokens for upstream logins (IMAP XOAUTH2/OAUTHBEARER, HTTP Bearer), one source per
// worker loop. A token is cached per identity (one for everybody with client credentials) until
// `refreshMargin` before it expires; when none is cached, one request goes to the token
// endpoint however many logins wait for it (single flight), and its answer serves them all.
//
// Contract, as for every login step:
// - `done` never fires from inside token(); it fires once, from the loop.
// - Destroying the returned Pending cancels that one waiter. The request itself runs on: its
//   answer serves the next login, and a refresh token the endpoint rotated must not be lost
//   because the login that asked for it went away.
// - A failed request (transport, timeout, any status but 200, an answer that is not a usable
//   Bearer token) answers every waiter Error{Temporary}; for `failureBackoff` later logins of
//   that identity get the same answer without a request, and then the endpoint is asked again.
// - A user with no refresh token in the store is Error{Permanent}: only the administrator can
//   change that (the store's reload()).
// - Never logs a token, a secret or a refresh token; the endpoint's error code and description
//   are escaped.
// Destroying the source cancels its requests; its waiters never fire.

#include <uv.h>

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <variant>

#include "lib/common/Pending.h"
#include "lib/common/Result.h"
#include "lib/http/HttpClient.h"
#include "lib/net/LoopExecutor.h"
#include "proxy/login/OAuth2Protocol.h"
#include "proxy/login/OAuth2Settings.h"
#include "proxy/login/RefreshTokenStore.h"

namespace popgate::login {

class OAuth2TokenSource {
 public:
  using Done = std::function<void(Result<std::string>)>;
  // Monotonic time; the loop's clock (uv_now) unless a test gives its own.
  using Clock = std::function<std::chrono::milliseconds()>;

  // `store` is needed for the refresh_token grant and may be null for client credentials.
  OAuth2TokenSource(uv_loop_t* loop, http::HttpClient& client,
                    std::shared_ptr<const OAuth2Settings> settings,
                    std::shared_ptr<RefreshTokenStore> store, Clock clock = {});
  ~OAuth2TokenSource();
  OAuth2TokenSource(const OAuth2TokenSource&) = delete;
  OAuth2TokenSource& operator=(const OAuth2TokenSource&) = delete;

  // The access token for `identity` (ignored with client credentials).
  [[nodiscard]] Pending token(const std::string& identity, Done done);
  // The upstream refused a login with `token`: forget it if it is still the cached one, so the
  // next login asks for a new one. A newer token already cached is kept.
  void invalidate(const std::string& identity, const std::string& token);

  std::size_t cachedTokens() const { return cache_.size(); }
  std::size_t requestsInFlight() const { return flights_.size(); }

 private:
  class Waiter;
  struct Flight {
    std::string key;
    std::string refreshToken;  // the one sent, to tell a rotation
    Pending request;
    std::list<Waiter*> waiters;  // in order of arrival
  };
  // A token, or the failure that is remembered for the back-off.
  struct Entry {
    std::variant<std::string, Error> answer;
    std::chrono::milliseconds until{0};
    std::list<std::string>::iterator age;  // position in order_
  };

  std::string keyFor(const std::string& identity) const;
  void startFlight(Flight& flight);
  void finish(const std::string& key, Result<http::HttpResponse> response);
  Result<std::string> settle(Flight& flight, Result<http::HttpResponse> response);
  void remember(const std::string& key, std::variant<std::string, Error> answer,
                std::chrono::milliseconds until);
  void forget(std::map<std::string, Entry>::iterator it);
  // A token is used until `margin` before it ends; one that lives no longer than the margin is
  // used for half its life instead of not at all.
  std::chrono::milliseconds usableFor(std::chrono::seconds lifetime) const;

  http::HttpClient& client_;
  std::shared_ptr<const OAuth2Settings> settings_;
  std::shared_ptr<RefreshTokenStore> store_;
  Clock clock_;
  net::LoopExecutor executor_;
  std::map<std::string, Entry> cache_;
  std::list<std::string> order_;  // cache keys, oldest first
  std::map<std::string, std::unique_ptr<Flight>> flights_;
  // Expires with the source: how finish() notices that a waiter's callback destroyed it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace popgate::login
