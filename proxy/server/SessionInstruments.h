#pragma once
// What a connection puts between its session and the worker's login services, so that the
// session stays ignorant of metrics and log formats: an Authenticator and a MailboxLockService
// (decorators of the worker's) that count every login by result and by the RFC 3206 code the
// client got, and re-enter the session's log context (lib/common/LogContext.h) around every
// callback that comes back from the loop: the login steps, the granted mailbox's open, body and
// commit. One per connection; it outlives its session (the connection destroys the session
// first), so the callbacks it wraps never outlive it.

#include <chrono>
#include <memory>
#include <string>

#include "lib/common/LogContext.h"
#include "proxy/login/Authenticator.h"
#include "proxy/login/MailboxLockService.h"
#include "proxy/server/ServerMetrics.h"

namespace popgate::server {

class SessionInstruments final : public login::Authenticator, public login::MailboxLockService {
 public:
  SessionInstruments(login::Authenticator& authenticator, login::MailboxLockService& locks,
                     ServerMetrics& metrics, std::shared_ptr<LogContext> log);

  [[nodiscard]] Pending authenticate(login::LoginRequest request,
                                     login::Authenticator::Done done) override;
  login::LoginAbilities abilities() const override { return authenticator_.abilities(); }
  [[nodiscard]] Pending acquire(std::string key, login::MailboxLockService::Done done) override;

  // The login ended: counted once per attempt, by the code the client's -ERR carries.
  void loginFinished(const Error* error);
  // The session's code runs for `event`, timed from `start` (for the log's duration_ms).
  LogScope enter(const char* event, std::chrono::steady_clock::time_point start) const;
  const std::shared_ptr<LogContext>& log() const { return log_; }

 private:
  login::Authenticator& authenticator_;
  login::MailboxLockService& locks_;
  ServerMetrics& metrics_;
  std::shared_ptr<LogContext> log_;
  std::chrono::steady_clock::time_point loginStart_;
};

// A new session id: unique in the process (a counter) and unlikely to repeat across restarts
// (a random start), 16 hex digits.
std::string newSessionId();

// The RFC 2449/3206 response code of the -ERR a failed login gets ("AUTH", "SYS/TEMP",
// "IN-USE", "LOGIN-DELAY", ...), or "" when the reply has none.
std::string loginCode(const Error& error);

}  // namespace popgate::server
