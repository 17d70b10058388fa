#include "proxy/pop3/Session.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "lib/common/LogText.h"
#include "proxy/pop3/Apop.h"
#include "proxy/pop3/ErrorReply.h"
#include "proxy/sasl/SaslMechanisms.h"

namespace popgate::pop3 {

namespace {
constexpr unsigned bit(Session::State s) {
  return 1u << static_cast<unsigned>(s);
}
constexpr unsigned kAuth = bit(Session::State::Authorization);
constexpr unsigned kTrans = bit(Session::State::Transaction);
}  // namespace

// RFC 1939 §3-§6 legality per state; CAPA per RFC 2449 §5 is legal in both.
const Session::CommandSpec Session::kCommands[] = {
    {"CAPA", kAuth | kTrans, &Session::cmdCapa}, {"USER", kAuth, &Session::cmdUser},
    {"PASS", kAuth, &Session::cmdPass},          {"QUIT", kAuth | kTrans, &Session::cmdQuit},
    {"STAT", kTrans, &Session::cmdStat},         {"LIST", kTrans, &Session::cmdList},
    {"UIDL", kTrans, &Session::cmdUidl},         {"RETR", kTrans, &Session::cmdRetr},
    {"TOP", kTrans, &Session::cmdTop},           {"DELE", kTrans, &Session::cmdDele},
    {"NOOP", kTrans, &Session::cmdNoop},         {"RSET", kTrans, &Session::cmdRset},
    {"STLS", kAuth, &Session::cmdStls},          {"AUTH", kAuth, &Session::cmdAuth},
    {"APOP", kAuth, &Session::cmdApop},  // RFC 1939 §7
};

Session::Session(SessionSink& sink, login::Authenticator& authenticator,
                 login::MailboxLockService& locks, SessionSettings settings)
    : sink_(sink),
      authenticator_(authenticator),
      locks_(locks),
      settings_(std::move(settings)),
      decoder_(settings_.maxSaslLine),
      tlsActive_(settings_.secure) {}

Session::~Session() = default;

void Session::start() {
  // RFC 1939 §7: the timestamp announces APOP; only where the authenticator can check it.
  if (!authenticator_.abilities().challengeResponse) return reply("+OK POP3 gateway ready.");
  apopTimestamp_ = nextApopTimestamp(settings_.hostname);
  reply("+OK POP3 gateway ready. " + apopTimestamp_);
}

void Session::reply(std::string_view line) {
  std::string out;
  out.reserve(line.size() + 2);
  out.append(line).append("\r\n");
  sink_.send(std::move(out));
}

void Session::finish() {
  state_ = State::Closed;
  loginStep_.reset();  // a login still under way is cancelled: nothing of it fires afterwards
  // Free the mailbox now, not when the connection is destroyed: a client that reconnects right
  // after QUIT must not meet its own old session's lock.
  lock_.reset();
  sink_.close();
}

void Session::retireMailbox() {
  if (mailbox_) retired_.push_back(std::move(mailbox_));
}

void Session::onInput(std::string_view bytes) {
  retired_.clear();
  if (state_ == State::Closed) return;
  decoder_.feed(bytes);
  process();
  if (state_ != State::Closed && !inputPaused_ && decoder_.buffered() > settings_.maxPendingInput) {
    inputPaused_ = true;
    sink_.pauseInput();
  }
}

void Session::onDrained() {
  retired_.clear();
  if (bodyPaused_) {
    bodyPaused_ = false;
    mailbox_->resumeBody();
  }
  if (listing_) continueListing();
  process();
}

void Session::onIdleTimeout() {
  retired_.clear();
  if (state_ == State::Closed || state_ == State::Update) return;  // UPDATE ends by itself
  abandon("-ERR Disconnected for inactivity.");
}

void Session::shutdown(bool now) {
  retired_.clear();
  // UPDATE: QUIT's commit is upstream already; its outcome decides the reply (RFC 1939 §6).
  if (state_ == State::Closed || state_ == State::Update) return;
  // A login under way may still succeed, and a client in TRANSACTION may still fetch and QUIT.
  if (!now && (busy_ || state_ == State::Transaction)) return;
  // RFC 3206 §4: SYS/TEMP, the failure is not the client's and a later try may succeed.
  abandon(now ? "-ERR [SYS/TEMP] Server shutting down."
              : "-ERR [SYS/TEMP] Server shutting down, try again later.");
}

void Session::abandon(std::string_view line) {
  // Cancel what still runs upstream (a login, a retrieval), or its callback would revive the
  // closed session. Safe: only the owner calls this, never from a mailbox callback.
  bool midBody = busy_ && (bodyStarted_ || listing_);
  loginStep_.reset();
  mailbox_.reset();
  listing_.reset();
  busy_ = false;
  bodyPaused_ = false;
  // Inside a multi-line reply an -ERR would read as message text: just close, without the ".".
  if (!midBody) reply(line);
  finish();
}

void Session::process() {
  Command command;
  while (state_ != State::Closed && !busy_ && !tlsStarting_ && !sink_.congested()) {
    if (sasl_ || failureReply_) {
      std::string line;
      DecodeStatus status = decoder_.nextRawLine(line);
      if (status == DecodeStatus::NeedMore) break;
      if (status == DecodeStatus::LineTooLong) {
        sasl_.reset();
        failureReply_.reset();
        badCommand("-ERR Authentication line too long.");
      } else {
        saslLine(line);
      }
      continue;
    }
    DecodeStatus status = decoder_.next(command);
    if (status == DecodeStatus::NeedMore) break;
    if (status == DecodeStatus::Command) {
      dispatch(command);
    } else if (status == DecodeStatus::LineTooLong) {
      badCommand("-ERR Command line too long.");
    } else {
      badCommand("-ERR Unknown command.");
    }
  }
  if (inputPaused_ && decoder_.buffered() <= settings_.maxPendingInput / 2 &&
      state_ != State::Closed) {
    inputPaused_ = false;
    sink_.resumeInput();
  }
}

void Session::badCommand(std::string_view text) {
  reply(text);
  if (++badCommands_ >= settings_.maxBadCommands) {
    reply("-ERR Too many bad commands, closing.");
    finish();
  }
}

void Session::dispatch(const Command& command) {
  for (const CommandSpec& spec : kCommands) {
    if (spec.verb != command.verb) continue;
    if (!(spec.states & bit(state_))) {
      badCommand(state_ == State::Authorization ? "-ERR Log in first."
                                                : "-ERR Command not valid in this state.");
      return;
    }
    (this->*spec.handler)(command.rest);
    return;
  }
  badCommand("-ERR Unknown command.");
}

void Session::cmdCapa(std::string_view args) {
  if (!args.empty()) return badCommand("-ERR CAPA takes no argument.");
  // RFC 2595 §4 / nginx's "starttls only": no USER before TLS when login requires it, and STLS
  // only while it can still be used.
  std::string out = "+OK Capability list follows\r\nTOP\r\n";
  if (loginAllowed() && authenticator_.abilities().passwords) out.append("USER\r\n");
  auto mechanisms = sasl::offeredMechanisms(saslPolicy());
  if (!mechanisms.empty()) {
    out.append("SASL");
    for (const auto* mechanism : mechanisms) out.append(" ").append(mechanism->name);
    out.append("\r\n");
  }
  out.append("UIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
  appendCapaPolicy(out);
  if (settings_.stlsAvailable && !tlsActive_ && state_ == State::Authorization)
    out.append("STLS\r\n");
  fmt::format_to(std::back_inserter(out), "IMPLEMENTATION {}\r\n.\r\n", settings_.implementation);
  sink_.send(std::move(out));
}

void Session::appendCapaPolicy(std::string& out) const {
  // RFC 2449 §6.5 / §6.7: before login the listener's values, with USER when a user's may
  // differ; after login the values for this user, without USER.
  bool transaction = state_ != State::Authorization;
  auto loginDelay = transaction && grantedLoginDelay_ ? grantedLoginDelay_ : settings_.loginDelay;
  if (loginDelay) {
    fmt::format_to(std::back_inserter(out), "LOGIN-DELAY {}{}\r\n", *loginDelay,
                   !transaction && settings_.loginDelayPerUser ? " USER" : "");
  }
  const auto& expire = transaction && grantedExpire_ ? grantedExpire_ : settings_.expire;
  // "NEVER" or a number of days: anything else would break the line, so it is left out.
  bool valid = expire && (*expire == "NEVER" ||
                          (!expire->empty() && expire->size() <= 9 &&
                           expire->find_first_not_of("0123456789") == std::string::npos));
  if (valid) {
    fmt::format_to(std::back_inserter(out), "EXPIRE {}{}\r\n", *expire,
                   !transaction && settings_.expirePerUser ? " USER" : "");
  }
}

void Session::cmdStls(std::string_view args) {
  if (!args.empty()) return badCommand("-ERR STLS takes no argument.");
  if (tlsActive_) return reply("-ERR TLS is already active.");
  if (!settings_.stlsAvailable) return reply("-ERR STLS is not available here.");
  reply("+OK Begin TLS negotiation.");
  // RFC 2595 §4 (CVE-2011-0411): whatever the client pipelined behind STLS in plain text is
  // dropped, never executed inside the TLS session.
  decoder_.discardBuffered();
  user_.reset();
  tlsStarting_ = true;
  sink_.startTls();
}

void Session::onTlsEstablished() {
  retired_.clear();
  if (state_ == State::Closed) return;
  tlsStarting_ = false;
  tlsActive_ = true;
  process();
}

void Session::cmdQuit(std::string_view args) {
  if (!args.empty()) return badCommand("-ERR QUIT takes no argument.");
  if (state_ == State::Authorization) {
    reply("+OK Logging out.");
    return finish();
  }
  // RFC 1939 §6: UPDATE removes the marked messages; +OK only once the store confirmed.
  state_ = State::Update;
  busy_ = true;
  std::vector<backends::MessageRef> marked;
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (deleted_[i]) marked.push_back(messages_.at(i));
  }
  mailbox_->commit(marked, [this](Status status) { commitFinished(std::move(status)); });
}

void Session::commitFinished(Status status) {
  busy_ = false;
  retireMailbox();
  lock_.reset();  // before +OK: the client may reconnect the moment it reads it
  if (!status)
    spdlog::warn("{}: commit for {} failed: {}", settings_.peer, logText(loginName_),
                 logText(status.error().detail));
  if (status) {
    reply("+OK Logging out.");
  } else {
    const std::string& says = status.error().reply;
    reply(errorReply(status.error(),
                     says.empty() ? "Some deleted messages were not removed." : replyText(says)));
  }
  finish();
}

}  // namespace popgate::pop3
