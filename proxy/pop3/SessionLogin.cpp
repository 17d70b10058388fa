// AUTHORIZATION (RFC 1939 §4): USER/PASS, AUTH (RFC 5034) through the SASL table, and the
// asynchronous login: authenticate, open the mailbox, lock it. Each step is cancelled when the
// session ends (finish(), autologout, destruction), so nothing fires into a closed session.

#include <spdlog/spdlog.h>

#include <utility>

#include "lib/common/Ascii.h"
#include "lib/common/Base64.h"
#include "lib/common/LogText.h"
#include "proxy/pop3/Arguments.h"
#include "proxy/pop3/ErrorReply.h"
#include "proxy/pop3/Session.h"
#include "proxy/sasl/SaslMechanisms.h"

namespace popgate::pop3 {

void Session::cmdUser(std::string_view args) {
  if (args.empty()) return badCommand("-ERR USER needs a name.");
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

void Session::cmdAuth(std::string_view args) {
  sasl::SaslPolicy policy{loginAllowed()};
  auto offered = sasl::offeredMechanisms(policy);
  if (offered.empty()) return reply("-ERR Login requires TLS: use STLS first.");
  auto parts = splitArgs(args);
  if (parts.empty()) {
    // Not in RFC 5034, but clients such as Outlook probe mechanisms this way.
    std::string out = "+OK\r\n";
    for (const auto* mechanism : offered) out.append(mechanism->name).append("\r\n");
    return sink_.send(out.append(".\r\n"));
  }
  if (parts.size() > 2) return badCommand("-ERR Too many arguments to AUTH.");
  const sasl::SaslMechanismEntry* mechanism = sasl::findMechanism(parts[0], policy);
  if (!mechanism) return reply("-ERR Unsupported authentication mechanism.");
  user_.reset();
  std::optional<std::string> initial;
  if (parts.size() == 2) {
    // RFC 5034 §4: "=" is an initial response of zero length.
    initial = parts[1] == "=" ? std::optional<std::string>("") : decodeBase64(parts[1]);
    if (!initial) return reply("-ERR Invalid base64 data.");
  }
  sasl_ = mechanism->create();
  continueSasl(sasl_->start(initial));
}

void Session::saslLine(std::string_view line) {
  // RFC 5034 §4: "*" cancels the exchange.
  if (line == "*") {
    sasl_.reset();
    return reply("-ERR Authentication cancelled.");
  }
  auto decoded = decodeBase64(line);
  if (!decoded) {
    sasl_.reset();
    return reply("-ERR Invalid base64 data.");
  }
  continueSasl(sasl_->next(*decoded));
}

void Session::continueSasl(sasl::SaslStep step) {
  if (step.kind == sasl::SaslStep::Kind::Challenge) {
    return reply("+ " + encodeBase64(step.challenge));
  }
  sasl_.reset();
  if (step.kind == sasl::SaslStep::Kind::Failed) return reply(step.error);
  sasl::SaslCredentials& credentials = *step.credentials;
  // Acting as another user needs a login policy that allows it (master users): none does yet.
  if (!credentials.authzid.empty() && credentials.authzid != credentials.login) {
    return reply("-ERR [AUTH] Authorization identities are not supported.");
  }
  login::LoginRequest request;
  request.login = std::move(credentials.login);
  request.proof = std::move(credentials.proof);
  startLogin(std::move(request));
}

void Session::startLogin(login::LoginRequest request) {
  loginName_ = request.login;
  request.clientAddress = settings_.peer;
  busy_ = true;
  loginStep_ = authenticator_.authenticate(
      std::move(request),
      [this](Result<login::LoginGrant> grant) { authenticated(std::move(grant)); });
}

void Session::loginFailed(const Error& error, std::string_view what, std::string_view permanent) {
  busy_ = false;
  retireMailbox();
  messages_.clear();
  reply(errorReply(error, what, permanent));
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
  mailbox_->open(grant.value().credentials,
                 [this](Result<std::vector<backends::MessageRef>> snapshot) {
                   openFinished(std::move(snapshot));
                 });
}

void Session::openFinished(Result<std::vector<backends::MessageRef>> snapshot) {
  if (!snapshot) {
    spdlog::info("{}: login {} failed: {}", settings_.peer, logText(loginName_),
                 logText(snapshot.error().detail));
    return loginFailed(snapshot.error(), "Mail store unavailable, try again later.",
                       "The mail store cannot serve this mailbox.");
  }
  messages_ = std::move(snapshot.value());
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
  lock_ = std::move(lock.value());
  spdlog::info("{}: login {} ok, {} messages", settings_.peer, logText(loginName_),
               messages_.size());
  deleted_.assign(messages_.size(), false);
  state_ = State::Transaction;
  reply("+OK Logged in.");
  process();
}

}  // namespace popgate::pop3
