#pragma once
// The login steps of one worker, on its loop: this worker's instance of every configured
// backend, the HTTP clients of the lookup service and the token endpoints, the authenticator
// that routes logins (with the brute-force guard around it), and the mailbox lock service.
// Which kinds of backend exist is the registry's business: nothing here names one.

#include <uv.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/mailbox/Backend.h"
#include "lib/http/HttpClient.h"
#include "lib/net/LoopExecutor.h"
#include "lib/redis/RedisClient.h"
#include "proxy/config/Config.h"
#include "proxy/login/GuardedAuthenticator.h"
#include "proxy/login/LocalLockService.h"
#include "proxy/login/LoginThrottle.h"
#include "proxy/login/OAuth2TokenSource.h"
#include "proxy/login/RoutingAuthenticator.h"
#include "proxy/route/AuthHttpLookup.h"
#include "proxy/server/SharedServices.h"

namespace popgate::server {

class LoginServices {
 public:
  LoginServices(uv_loop_t* loop, const config::Config& config, SharedServices& shared);

  login::Authenticator& authenticator() { return guarded_; }
  login::MailboxLockService& locks() { return *locks_; }

  // What the login step talks to over HTTP, on this worker's loop.
  struct HttpServices {
    std::vector<std::unique_ptr<http::HttpClient>> clients;
    std::map<std::string, std::unique_ptr<login::OAuth2TokenSource>> tokens;  // by backend
    std::unique_ptr<route::AuthHttpLookup> lookup;
  };

 private:
  net::LoopExecutor executor_;
  std::map<std::string, std::unique_ptr<backends::Backend>> backends_;
  HttpServices http_;
  login::RoutingAuthenticator authenticator_;  // after backends_ and http_: it points into them
  // `state: redis`: this worker's own Redis connection, for the throttle and the locks.
  std::shared_ptr<redis::RedisClient> redis_;
  // LocalLoginThrottle over shared.guard, or RedisLoginThrottle (`state: redis`).
  std::unique_ptr<login::LoginThrottle> throttle_;
  login::GuardedAuthenticator guarded_;  // the limits around the authenticator
  // LocalLockService over shared.locks, or RedisLockService (`state: redis`).
  std::unique_ptr<login::MailboxLockService> locks_;
};

}  // namespace popgate::server
