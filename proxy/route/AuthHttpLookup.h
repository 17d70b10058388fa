#pragma once
// routing.lookup: asks an nginx-style auth_http service who a user is and where their mailbox
// lives (AuthHttpProtocol.h has the wire format), with a cache in front (AuthHttpCache.h). One
// per worker loop, on that loop's HTTP client.
//
// The contract: the answer, OK or refused, is a value; the service down, slow (the timeout
// covers connecting, the request and the answer), answering a status other than 200, a
// redirect, or a malformed answer is Error{Temporary} ([SYS/TEMP] to the client, RFC 3206),
// never a refusal. A WAIT answer is asked again after its Auth-Wait, a few times at most, as
// nginx does without a bound. `done` never fires from inside lookup(); destroying the returned
// handle cancels the request and any wait. Nothing here logs: the password, the digest and
// whatever the service sends in Auth-Pass never reach a log line, and the error details name
// only the URL and what went wrong.

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "lib/common/Pending.h"
#include "lib/common/Result.h"
#include "lib/http/HttpClient.h"
#include "lib/http/HttpUrl.h"
#include "proxy/route/AuthHttpCache.h"
#include "proxy/route/AuthHttpProtocol.h"

namespace popgate::route {

// routing.lookup in the YAML: url, timeout_s, cache: {positive_s, negative_s, max_entries}.
struct AuthHttpSettings {
  http::HttpUrl url;
  std::chrono::milliseconds timeout{5000};
  std::chrono::seconds positiveTtl{60};
  std::chrono::seconds negativeTtl{10};
  std::size_t maxEntries = 10000;
  // nginx ignores the body; popgate reads and drops at most this much of it.
  std::size_t maxResponseBytes = 16384;
};

class AuthHttpLookup {
 public:
  using Done = std::function<void(Result<AuthHttpAnswer>)>;
  using Clock = AuthHttpCache::Clock;

  // WAIT answers asked again at most this many times, then Error{Temporary}.
  static constexpr int kMaxWaitRounds = 3;

  // `client` and this object outlive every handle lookup() returns.
  AuthHttpLookup(uv_loop_t* loop, http::HttpClient& client,
                 std::shared_ptr<const AuthHttpSettings> settings);
  ~AuthHttpLookup();
  AuthHttpLookup(const AuthHttpLookup&) = delete;
  AuthHttpLookup& operator=(const AuthHttpLookup&) = delete;

  [[nodiscard]] Pending lookup(AuthHttpQuery query, Done done);

  const AuthHttpCache& cache() const { return cache_; }
  // Tests move time on for the cache without waiting for it.
  void setClock(std::function<Clock::time_point()> now) { now_ = std::move(now); }

 private:
  class Request;
  friend class Request;

  http::HttpRequest makeRequest(http::HttpHeaders headers) const;

  uv_loop_t* loop_;
  http::HttpClient& client_;
  std::shared_ptr<const AuthHttpSettings> settings_;
  AuthHttpCache cache_;
  std::function<Clock::time_point()> now_;
};

}  // namespace popgate::route
