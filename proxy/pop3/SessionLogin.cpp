// AUTHORIZATION (RFC 1939 §4): USER/PASS, and the asynchronous login that every way of logging
// in ends in (AUTH and APOP are in SessionSasl.cpp): authenticate, open the mailbox, lock it.
// Each step is cancelled when the session ends (finish(), autologout, destruction), so nothing
// fires into a closed session.

#include <spdlog/spdlog.h>

#include <utility>

#include "lib/common/Base64.h"
#include "lib/common/LogText.h"
#include "proxy/pop3/ErrorReply.h"
#include "proxy/pop3/Session.h"

namespace popgate::pop3 {

void Session::cmdUser(std::string_view args) {
  if (args.empty()) return badCommand("-ERR USER needs a name.");
  if (!authenticator_.abilities().passwords) return reply("-ERR USER/PASS is not available here.");
  if (!loginAllowed()) return reply("-ERR Login requires TLS: use STLS first.");
  user_ = std::string(args);
  reply("+OK");
}

void Session::cmdPass(std::string_view args) {
  if (!loginAllowed()) return reply("-ERR Login requires TLS: use STLS first.");
  if (!user_) return badCommand("-ERR Send USER first.");
  login::LoginRequest request;
  request.login = std::move(*user_);
  user_.reset();
  // RFC 1939 §7: the password is the whole rest of the line, spaces included.
  request.proof = login::PasswordProof{std::string(args)};
  startLogin(std::move(request));
}

void Session::startLogin(login::LoginRequest request, std::optional<std::string> failureChallenge) {
  loginName_ = request.login;
  failureChallenge_ = std::move(failureChallenge);
  request.clientAddress = settings_.peer;
  request.attempt = ++loginAttempts_;
  busy_ = true;
  loginStep_ = authenticator_.authenticate(
      std::move(request),
      [this](Result<login::LoginGrant> grant) { authenticated(std::move(grant)); });
}

void Session::loginFailed(const Error& error, std::string_view what, std::string_view permanent) {
  busy_ = false;
  retireMailbox();
  messages_.clear();
  std::string line = loginFailureReply(error, what, permanent);
  // RFC 7628 §3.2.2: a refused bearer token is reported in a challenge first; the -ERR answers
  // the client's reply to it. Any other failure (a lookup down, [SYS/TEMP]) is answered now.
  auto challenge = std::exchange(failureChallenge_, std::nullopt);
  if (error.code == ErrorCode::Auth && challenge) {
    failureReply_ = std::move(line);
    reply("+ " + encodeBase64(*challenge));
  } else {
    reply(line);
  }
  process();
}

void Session::authenticated(Result<login::LoginGrant> grant) {
  if (!grant) {
    spdlog::info("{}: login {} refused: {}", settings_.peer, logText(loginName_),
                 logText(grant.error().detail));
    return loginFailed(grant.error(), "Cannot route this login.");
  }
  mailbox_ = std::move(grant.value().mailbox);
  lockKey_ = std::move(grant.value().lockKey);
  exclusive_ = grant.value().exclusive;
  grantedLoginDelay_ = grant.value().loginDelay;
  grantedExpire_ = std::move(grant.value().expire);
  mailbox_->open(grant.value().credentials, [this](Result<backends::MessageList> snapshot) {
    openFinished(std::move(snapshot));
  });
}

void Session::openFinished(Result<backends::MessageList> snapshot) {
  if (!snapshot) {
    spdlog::info("{}: login {} failed: {}", settings_.peer, logText(loginName_),
                 logText(snapshot.error().detail));
    return loginFailed(snapshot.error(), "Mail store unavailable, try again later.",
                       "The mail store cannot serve this mailbox.");
  }
  messages_ = std::move(snapshot.value());
  if (!exclusive_) return locked(std::unique_ptr<login::MailboxLock>());  // `lock: none`
  // Locked only once the store accepted the login: a wrong password never holds a mailbox.
  loginStep_ = locks_.acquire(lockKey_, [this](Result<std::unique_ptr<login::MailboxLock>> lock) {
    locked(std::move(lock));
  });
}

void Session::locked(Result<std::unique_ptr<login::MailboxLock>> lock) {
  if (!lock) {
    spdlog::info("{}: login {} refused: {}", settings_.peer, logText(loginName_),
                 logText(lock.error().detail));
    return loginFailed(lock.error(), "Mailbox lock unavailable, try again later.");
  }
  busy_ = false;
  failureChallenge_.reset();
  lock_ = std::move(lock.value());
  spdlog::info("{}: login {} ok, {} messages", settings_.peer, logText(loginName_),
               messages_.size());
  deleted_.assign(messages_.size(), false);
  state_ = State::Transaction;
  reply("+OK Logged in.");
  process();
}

}  // namespace popgate::pop3
