#pragma once
// The login steps of one worker, on its loop: this worker's instance of every configured
// backend, the authenticator that routes logins to them, and the mailbox lock service. Which
// kinds of backend exist is the registry's business: nothing here names one.

#include <uv.h>

#include <map>
#include <memory>
#include <string>

#include "backends/mailbox/Backend.h"
#include "lib/net/LoopExecutor.h"
#include "proxy/config/Config.h"
#include "proxy/login/LocalLockService.h"
#include "proxy/login/GuardedAuthenticator.h"
#include "proxy/login/PassthroughAuthenticator.h"
#include "proxy/server/SharedServices.h"

namespace popgate::server {

class LoginServices {
 public:
  LoginServices(uv_loop_t* loop, const config::Config& config, SharedServices& shared);

  login::Authenticator& authenticator() { return guarded_; }
  login::MailboxLockService& locks() { return locks_; }

 private:
  net::LoopExecutor executor_;
  std::map<std::string, std::unique_ptr<backends::Backend>> backends_;
  login::PassthroughAuthenticator authenticator_;  // after backends_: it points into them
  login::GuardedAuthenticator guarded_;            // the limits around it
  login::LocalLockService locks_;
};

}  // namespace popgate::server
