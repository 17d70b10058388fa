#include "proxy/pop3/Session.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <utility>

#include "lib/common/Ascii.h"
#include "proxy/pop3/Arguments.h"
#include "proxy/pop3/Sasl.h"

namespace popgate::pop3 {

namespace {
constexpr unsigned bit(Session::State s) {
  return 1u << static_cast<unsigned>(s);
}
constexpr unsigned kAuth = bit(Session::State::Authorization);
constexpr unsigned kTrans = bit(Session::State::Transaction);

// `what` explains a temporary failure; `permanent` (if given) one that retrying will not fix.
std::string errorReply(const Error& error, std::string_view what, std::string_view permanent = {}) {
  switch (error.code) {
    case ErrorCode::Auth:
      return "-ERR [AUTH] Authentication failed.";
    case ErrorCode::InUse:
      return "-ERR [IN-USE] Mailbox is locked by another POP3 session.";
    case ErrorCode::Permanent:
      return fmt::format("-ERR [SYS/PERM] {}", permanent.empty() ? what : permanent);
    case ErrorCode::Gone:
      return "-ERR Message no longer exists upstream.";
    default:
      return fmt::format("-ERR [SYS/TEMP] {}", what);
  }
}
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
};

Session::Session(SessionSink& sink, MailboxDirectory& directory, auth::MailboxLocks& locks,
                 SessionSettings settings)
    : sink_(sink),
      directory_(directory),
      locks_(locks),
      settings_(std::move(settings)),
      tlsActive_(settings_.secure) {}

Session::~Session() = default;

void Session::start() {
  reply("+OK POP3 gateway ready.");
}

void Session::reply(std::string_view line) {
  std::string out;
  out.reserve(line.size() + 2);
  out.append(line).append("\r\n");
  sink_.send(std::move(out));
}

void Session::finish() {
  state_ = State::Closed;
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
  bool midBody = busy_ && bodyStarted_;
  mailbox_.reset();
  busy_ = false;
  bodyPaused_ = false;
  // Inside a multi-line reply an -ERR would read as message text: just close, without the ".".
  if (!midBody) reply(line);
  finish();
}

void Session::process() {
  Command command;
  while (state_ != State::Closed && !busy_ && !tlsStarting_ && !sink_.congested()) {
    if (sasl_ != SaslStep::None) {
      std::string line;
      DecodeStatus status = decoder_.nextRawLine(line);
      if (status == DecodeStatus::NeedMore) break;
      if (status == DecodeStatus::LineTooLong) {
        sasl_ = SaslStep::None;
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
  if (loginAllowed()) out.append("USER\r\nSASL PLAIN LOGIN\r\n");
  out.append("UIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
  if (settings_.stlsAvailable && !tlsActive_ && state_ == State::Authorization)
    out.append("STLS\r\n");
  fmt::format_to(std::back_inserter(out), "IMPLEMENTATION {}\r\n.\r\n", settings_.implementation);
  sink_.send(std::move(out));
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

void Session::cmdUser(std::string_view args) {
  if (args.empty()) return badCommand("-ERR USER needs a name.");
  if (!loginAllowed()) return reply("-ERR Login requires TLS: use STLS first.");
  user_ = std::string(args);
  reply("+OK");
}

void Session::cmdPass(std::string_view args) {
  if (!loginAllowed()) return reply("-ERR Login requires TLS: use STLS first.");
  if (!user_) return badCommand("-ERR Send USER first.");
  std::string login = std::move(*user_);
  user_.reset();
  // RFC 1939 §7: the password is the whole rest of the line, spaces included.
  startLogin(std::move(login), std::string(args));
}

void Session::cmdAuth(std::string_view args) {
  if (!loginAllowed()) return reply("-ERR Login requires TLS: use STLS first.");
  auto parts = splitArgs(args);
  if (parts.empty()) {
    // Not in RFC 5034, but clients such as Outlook probe mechanisms this way.
    return sink_.send("+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
  }
  if (parts.size() > 2) return badCommand("-ERR Too many arguments to AUTH.");
  std::string mechanism = asciiUpper(parts[0]);
  std::optional<std::string_view> initial;
  if (parts.size() == 2) initial = parts[1];
  user_.reset();
  if (mechanism == "PLAIN") {
    if (!initial) {
      sasl_ = SaslStep::PlainResponse;
      return reply("+ ");
    }
    return saslPlain(*initial == "=" ? std::string_view{} : *initial);
  }
  if (mechanism == "LOGIN") {
    if (!initial) {
      sasl_ = SaslStep::LoginUser;
      return reply("+ VXNlcm5hbWU6");  // "Username:"
    }
    return saslLoginStep(SaslStep::LoginUser, *initial);
  }
  reply("-ERR Unsupported authentication mechanism.");
}

void Session::saslLine(std::string_view line) {
  SaslStep step = std::exchange(sasl_, SaslStep::None);
  // RFC 5034 §4: "*" cancels the exchange.
  if (line == "*") return reply("-ERR Authentication cancelled.");
  if (step == SaslStep::PlainResponse) return saslPlain(line);
  saslLoginStep(step, line);
}

void Session::saslPlain(std::string_view encoded) {
  auto decoded = decodeBase64(encoded);
  if (!decoded) return reply("-ERR Invalid base64 data.");
  auto credentials = parsePlain(*decoded);
  if (!credentials) return reply("-ERR [AUTH] Malformed PLAIN credentials.");
  if (!credentials->authzid.empty() && credentials->authzid != credentials->authcid) {
    return reply("-ERR [AUTH] Authorization identities are not supported.");
  }
  startLogin(std::move(credentials->authcid), std::move(credentials->password));
}

void Session::saslLoginStep(SaslStep step, std::string_view encoded) {
  auto decoded = decodeBase64(encoded);
  if (!decoded) return reply("-ERR Invalid base64 data.");
  if (step == SaslStep::LoginUser) {
    saslUser_ = std::move(*decoded);
    sasl_ = SaslStep::LoginPassword;
    return reply("+ UGFzc3dvcmQ6");  // "Password:"
  }
  startLogin(std::exchange(saslUser_, {}), std::move(*decoded));
}

void Session::startLogin(std::string login, std::string password) {
  auto entry = directory_.resolve(login);
  if (!entry) {
    spdlog::info("{}: login {} refused: {}", settings_.peer, login, entry.error().detail);
    return reply(errorReply(entry.error(), "Cannot route this login."));
  }
  loginName_ = std::move(login);
  mailbox_ = std::move(entry.value().mailbox);
  lockKey_ = std::move(entry.value().lockKey);
  busy_ = true;
  mailbox_->open(backends::Credentials{std::move(entry.value().upstreamUser), std::move(password)},
                 [this](Result<std::vector<backends::MessageRef>> snapshot) {
                   openFinished(std::move(snapshot));
                 });
}

void Session::openFinished(Result<std::vector<backends::MessageRef>> snapshot) {
  busy_ = false;
  if (!snapshot) {
    spdlog::info("{}: login {} failed: {}", settings_.peer, loginName_, snapshot.error().detail);
    retireMailbox();
    reply(errorReply(snapshot.error(), "Mail store unavailable, try again later.",
                     "The mail store cannot serve this mailbox."));
  } else if (!(lock_ = locks_.tryLock(lockKey_))) {
    spdlog::info("{}: login {} refused: mailbox in use", settings_.peer, loginName_);
    retireMailbox();
    reply(errorReply(Error{ErrorCode::InUse, {}}, {}));
  } else {
    spdlog::info("{}: login {} ok, {} messages", settings_.peer, loginName_,
                 snapshot.value().size());
    messages_ = std::move(snapshot.value());
    deleted_.assign(messages_.size(), false);
    state_ = State::Transaction;
    reply("+OK Logged in.");
  }
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
    if (deleted_[i]) marked.push_back(messages_[i]);
  }
  mailbox_->commit(marked, [this](Status status) { commitFinished(std::move(status)); });
}

void Session::commitFinished(Status status) {
  busy_ = false;
  retireMailbox();
  lock_.reset();  // before +OK: the client may reconnect the moment it reads it
  if (!status)
    spdlog::warn("{}: commit for {} failed: {}", settings_.peer, loginName_, status.error().detail);
  if (status) {
    reply("+OK Logging out.");
  } else {
    reply(errorReply(status.error(), "Some deleted messages were not removed."));
  }
  finish();
}

void Session::cmdStat(std::string_view args) {
  if (!args.empty()) return badCommand("-ERR STAT takes no argument.");
  std::size_t count = 0;
  std::uint64_t octets = 0;
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (deleted_[i]) continue;
    ++count;
    octets += messages_[i].size;
  }
  reply(fmt::format("+OK {} {}", count, octets));
}

std::optional<std::size_t> Session::visibleMessage(std::string_view arg) {
  auto number = parseNumber(arg);
  if (!number) {
    badCommand("-ERR Invalid message number.");
    return std::nullopt;
  }
  if (*number == 0 || *number > messages_.size()) {
    reply(fmt::format("-ERR There's no message {}.", *number));
    return std::nullopt;
  }
  if (deleted_[*number - 1]) {
    reply("-ERR Message is deleted.");
    return std::nullopt;
  }
  return *number - 1;
}

void Session::cmdList(std::string_view args) {
  if (!args.empty()) {
    auto index = visibleMessage(args);
    if (index) reply(fmt::format("+OK {} {}", *index + 1, messages_[*index].size));
    return;
  }
  std::size_t visible = 0;
  std::string lines;
  lines.reserve(messages_.size() * 16);
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (deleted_[i]) continue;
    ++visible;
    appendDecimal(lines, i + 1);
    lines.push_back(' ');
    appendDecimal(lines, messages_[i].size);
    lines.append("\r\n");
  }
  sink_.send(fmt::format("+OK {} messages:\r\n{}.\r\n", visible, lines));
}

void Session::cmdUidl(std::string_view args) {
  if (!args.empty()) {
    auto index = visibleMessage(args);
    if (index) reply(fmt::format("+OK {} {}", *index + 1, messages_[*index].uidl));
    return;
  }
  std::string out = "+OK\r\n";
  out.reserve(messages_.size() * 24 + 8);
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (deleted_[i]) continue;
    appendDecimal(out, i + 1);
    out.push_back(' ');
    out.append(messages_[i].uidl).append("\r\n");
  }
  out.append(".\r\n");
  sink_.send(std::move(out));
}

void Session::cmdRetr(std::string_view args) {
  auto index = visibleMessage(args);
  if (!index) return;
  startRetrieval(*index, std::nullopt, fmt::format("+OK {} octets", messages_[*index].size));
}

void Session::cmdTop(std::string_view args) {
  auto parts = splitArgs(args);
  if (parts.size() != 2) return badCommand("-ERR TOP needs a message number and a line count.");
  auto lines = parseNumber(parts[1]);
  if (!lines) return badCommand("-ERR Invalid line count.");
  auto index = visibleMessage(parts[0]);
  if (!index) return;
  startRetrieval(*index, *lines, "+OK");
}

void Session::startRetrieval(std::size_t index, std::optional<std::uint32_t> bodyLines,
                             std::string okLine) {
  busy_ = true;
  bodyStarted_ = false;
  bodyPaused_ = false;
  bodyOkLine_ = std::move(okLine);
  stuffer_.reset();
  mailbox_->retrieve(messages_[index], bodyLines, *this);
}

void Session::onBodyStart() {
  bodyStarted_ = true;
  reply(bodyOkLine_);
}

void Session::onBodyData(std::string_view bytes) {
  // Pieces, not a stuffed copy: the connection copies only what the socket does not take.
  // At most 64 KiB at a time, so that the list of pieces stays bounded (a body of "." lines
  // makes two pieces per three bytes).
  constexpr std::size_t kSlice = 64 * 1024;
  constexpr std::size_t kKeptPieces = 1024;
  while (!bytes.empty()) {
    std::string_view slice = bytes.substr(0, kSlice);
    bytes.remove_prefix(slice.size());
    bodyPieces_.clear();
    stuffer_.append(slice, bodyPieces_);
    sink_.sendPieces(bodyPieces_);
  }
  if (bodyPieces_.capacity() > kKeptPieces) std::vector<std::string_view>().swap(bodyPieces_);
  if (!bodyPaused_ && sink_.congested()) {
    bodyPaused_ = true;
    mailbox_->pauseBody();
  }
}

void Session::onBodyEnd(Status status) {
  busy_ = false;
  bodyPaused_ = false;
  if (!bodyStarted_) {
    reply(errorReply(status ? Error{ErrorCode::Gone, {}} : status.error(),
                     "Cannot read the message from the mail store."));
  } else if (status) {
    std::string out;
    stuffer_.finish(out);
    sink_.send(std::move(out));
  } else {
    // The response is half sent: the only honest signal left is to close without the final
    // ".", so the client knows the message is incomplete. Nothing is deleted.
    return finish();
  }
  process();
}

void Session::cmdDele(std::string_view args) {
  auto index = visibleMessage(args);
  if (!index) return;
  deleted_[*index] = true;
  reply("+OK Marked to be deleted.");
}

void Session::cmdNoop(std::string_view args) {
  if (!args.empty()) return badCommand("-ERR NOOP takes no argument.");
  reply("+OK");
}

void Session::cmdRset(std::string_view args) {
  if (!args.empty()) return badCommand("-ERR RSET takes no argument.");
  deleted_.assign(messages_.size(), false);
  reply("+OK");
}

}  // namespace popgate::pop3
