#include "backends/imap/ImapMailbox.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "backends/imap/ImapLogin.h"
#include "lib/common/Ascii.h"
#include "lib/common/Decimal.h"
#include "lib/common/LogContext.h"
#include "lib/net/TlsStream.h"

namespace popgate::imap {

namespace {
bool isOk(const Result<ImapHead>& reply) {
  return reply && reply.value().keyword == "OK";
}

std::set<std::string> parseCapabilities(std::string_view list) {
  std::set<std::string> caps;
  std::size_t pos = 0;
  while (pos < list.size()) {
    std::size_t end = list.find(' ', pos);
    if (end == std::string_view::npos) end = list.size();
    if (end > pos) caps.insert(asciiUpper(list.substr(pos, end - pos)));
    pos = end + 1;
  }
  return caps;
}

// A command of one line that needs only its completion.
ImapCommand oneLine(std::string text, std::function<void(Result<ImapHead>)> onDone = nullptr) {
  ImapCommand command;
  command.parts = {std::move(text)};
  command.onDone = std::move(onDone);
  return command;
}

}  // namespace

std::string ImapMailbox::uidl(std::uint32_t uid, std::uint32_t uidValidity) {
  return UidlFormat().format(uid, uidValidity);
}

ImapMailbox::ImapMailbox(uv_loop_t* loop, ImapSettings settings)
    : loop_(loop),
      settings_(std::move(settings)),
      readAhead_(settings_.readAheadBytes),
      soon_(loop) {}

ImapMailbox::~ImapMailbox() = default;

void ImapMailbox::onUntagged(const ImapResponse& response, const ImapHead& head) {
  if (head.keyword == "CAPABILITY") {
    capabilities_ =
        parseCapabilities(std::string_view(response.segments[0]).substr(head.restOffset));
  } else if (head.keyword == "EXISTS" && head.number) {
    exists_ = *head.number;
  }
  if (head.code == "CAPABILITY") capabilities_ = parseCapabilities(head.codeArgs);
  if (head.code == "PERMANENTFLAGS") notePermanentFlags(head.codeArgs);
  if (searching_ && (head.keyword == "SEARCH" || head.keyword == "ESEARCH")) {
    noteSearchResult(response, head);
  }
  if (head.code == "UIDVALIDITY") {
    // An nz-number (RFC 3501 §9); anything else counts as 0, which no real UIDVALIDITY equals,
    // so a garbled one beside a real one reads as a change and the commit deletes nothing.
    std::uint32_t value = parseDecimal<std::uint32_t>(head.codeArgs).value_or(0);
    if (uidValidity_ && *uidValidity_ != value) uidValidityChanged_ = true;
    if (!uidValidity_) uidValidity_ = value;
  }
}

void ImapMailbox::open(const backends::Credentials& credentials, SnapshotDone done) {
  openDone_ = std::move(done);
  connector_ = std::make_unique<net::TcpConnector>(loop_);
  // The IMAP connection works for the session whose code runs now: its log lines name it.
  connector_->connect(settings_.host, settings_.port, settings_.connectTimeout,
                      [this, credentials,
                       log = LogScope::capture()](Result<std::unique_ptr<net::TcpStream>> stream) {
                        LogScope scope(log);
                        if (!stream) return finishOpen(stream.error());
                        stream.value()->setQuickAck(true);  // see TcpStream: Courier's FETCHes
                        std::unique_ptr<net::ByteStream> transport = std::move(stream.value());
                        if (settings_.tls == ImapTls::Implicit)
                          transport = wrapTls(std::move(transport));
                        connection_ = std::make_unique<ImapConnection>(
                            loop_, std::move(transport), settings_.commandTimeout,
                            static_cast<ImapConnection::Listener&>(*this));
                        connection_->start([this, credentials](Result<ImapHead> greeting) {
                          greeted(std::move(greeting), credentials);
                        });
                      });
}

void ImapMailbox::greeted(Result<ImapHead> greeting, backends::Credentials credentials) {
  if (!greeting) return finishOpen(greeting.error());
  const ImapHead& head = greeting.value();
  if (head.keyword == "BYE") {
    return finishOpen(Error{ErrorCode::Temporary, "IMAP server refused: " + head.text});
  }
  if (head.keyword == "PREAUTH") {
    // A pre-authenticated upstream cannot check the POP3 user's password.
    return finishOpen(Error{ErrorCode::Permanent, "IMAP server pre-authenticated the connection"});
  }
  if (settings_.tls == ImapTls::StartTls) return startTls(std::move(credentials));
  if (!capabilities_.empty()) return login(credentials);
  afterTls(std::move(credentials));
}

std::unique_ptr<net::ByteStream> ImapMailbox::wrapTls(std::unique_ptr<net::ByteStream> plain) {
  // Verification failures surface as a closed stream whose reason names the failure.
  auto session = settings_.tlsServerName.empty()
                     ? settings_.tlsContext->newSession()
                     : settings_.tlsContext->newSession(settings_.tlsServerName);
  return std::make_unique<net::TlsStream>(loop_, std::move(plain), std::move(session),
                                          net::TlsStream::Role::Client);
}

void ImapMailbox::startTls(backends::Credentials credentials) {
  auto upgrade = [this, credentials]() {
    ImapCommand command = oneLine("STARTTLS");
    command.onDone = [this, credentials](Result<ImapHead> reply) {
      if (!isOk(reply)) {
        return finishOpen(
            reply ? Error{ErrorCode::Temporary, "IMAP STARTTLS refused: " + reply.value().text}
                  : reply.error());
      }
      connection_->startTls(
          [this](std::unique_ptr<net::ByteStream> plain) { return wrapTls(std::move(plain)); });
      // RFC 3501 §6.2.1: capabilities learnt in plain text are void after STARTTLS.
      capabilities_.clear();
      afterTls(credentials);
    };
    connection_->send(std::move(command));
  };
  auto requireStartTls = [this, upgrade]() {
    // Never fall back to plain text when the server does not offer TLS (no silent downgrade).
    if (!capabilities_.count("STARTTLS")) {
      return finishOpen(Error{ErrorCode::Temporary, "IMAP server does not offer STARTTLS"});
    }
    upgrade();
  };
  if (!capabilities_.empty()) return requireStartTls();
  connection_->send(oneLine("CAPABILITY", [this, requireStartTls](Result<ImapHead> reply) {
    if (!isOk(reply)) {
      return finishOpen(reply ? Error{ErrorCode::Temporary, "IMAP CAPABILITY failed"}
                              : reply.error());
    }
    requireStartTls();
  }));
}

void ImapMailbox::afterTls(backends::Credentials credentials) {
  connection_->send(oneLine("CAPABILITY", [this, credentials](Result<ImapHead> reply) {
    if (!isOk(reply)) {
      return finishOpen(reply ? Error{ErrorCode::Temporary, "IMAP CAPABILITY failed"}
                              : reply.error());
    }
    login(credentials);
  }));
}

void ImapMailbox::login(const backends::Credentials& credentials) {
  bool literalPlus = capabilities_.count("LITERAL+") > 0;
  auto made = makeImapLogin(
      credentials, capabilities_,
      ImapLoginTarget{settings_.host, settings_.port, settings_.tokenMechanism, literalPlus});
  if (!made) return finishOpen(made.error());
  ImapLogin login = std::move(made.value());
  login.command.onDone = [this, literalPlus, challenge = login.challenge](Result<ImapHead> reply) {
    if (!reply) return finishOpen(reply.error());
    const ImapHead& head = reply.value();
    if (head.keyword == "OK") {
      if (head.code == "CAPABILITY") {
        capabilities_ = parseCapabilities(head.codeArgs);
        capabilitiesAfterLogin_ = true;
      }
      return listMessages(literalPlus);
    }
    finishOpen(loginRefused(head, *challenge));
  };
  // Nothing goes out behind the login before its tagged OK: a login is a change of state, and
  // Courier's imaplogin hands the connection to imapd after it, dropping whatever was pipelined
  // (RFC 3501 §5.5 allows pipelining only where the server need not wait). One round trip more.
  connection_->send(std::move(login.command));
}

void ImapMailbox::listMessages(bool literalPlus) {
  // EXAMINE and the snapshot FETCH go out in one write: if EXAMINE fails, the FETCH fails too
  // and is ignored.
  connection_->cork();

  // EXAMINE, not SELECT: reading over POP3 changes nothing upstream (not even \Recent), and a
  // session that deletes nothing costs the server no write. commit() selects read-write.
  ImapCommand select;
  select.parts = ImapCommandText(literalPlus)
                     .raw("EXAMINE ")
                     .string(encodeMailboxName(settings_.mailbox))
                     .take();
  select.onDone = [this](Result<ImapHead> reply) {
    if (!isOk(reply)) {
      return finishOpen(
          reply ? Error{ErrorCode::Temporary, "cannot select mailbox: " + reply.value().text}
                : reply.error());
    }
    // EXAMINE's answer said how many messages there are (EXISTS), before the snapshot's first
    // line: room for that many, bounded (a server's number is no promise).
    snapshot_.reserve(std::min<std::size_t>(exists_, kMaxReserved));
  };
  connection_->send(std::move(select));

  ImapCommand fetch;
  fetch.parts = {"UID FETCH 1:* (UID RFC822.SIZE)"};
  // Each "* n FETCH" is its own response, taken as it arrives: the 100,000 lines of a huge
  // mailbox are never one buffer, and every line that arrives re-arms the command timeout.
  fetch.onUntagged = [this](const ImapResponse& response, const ImapHead& head) {
    // Keyed by UID, which every response to a UID command carries (RFC 3501 §6.4.8): an
    // EXPUNGE may come in the middle (§7.4.1) and renumber the messages after it.
    if (head.keyword != "FETCH") return;
    if (response.literals.empty()) {
      if (auto fast = parseUidAndSize(response.segments[0])) {
        snapshot_.push_back({fast->first, fast->second});
        return;
      }
    }
    auto data = parseFetch(response, head);
    if (!data || !data->uid) return;
    snapshot_.push_back({*data->uid, data->size.value_or(SnapshotEntry::kNoSize)});
  };
  fetch.onDone = [this](Result<ImapHead> reply) {
    if (!openDone_) return;
    // Some servers answer NO to "1:*" on an empty mailbox.
    if (!isOk(reply) && !(reply && exists_ == 0)) {
      return finishOpen(reply ? Error{ErrorCode::Temporary, "snapshot FETCH failed"}
                              : reply.error());
    }
    if (!uidValidity_) return finishOpen(Error{ErrorCode::Temporary, "no UIDVALIDITY from server"});
    auto packed = packSnapshot();
    if (!packed) return finishOpen(packed.error());
    listed(std::move(packed.value()));
  };
  connection_->send(std::move(fetch));
  sendInterruptedSearch();
  connection_->uncork();
}

Result<backends::MessageList> ImapMailbox::packSnapshot() {
  auto byUid = [](const SnapshotEntry& a, const SnapshotEntry& b) { return a.uid < b.uid; };
  // Servers answer in UID order, but may send a message twice (say FLAGS without the size).
  if (!std::is_sorted(snapshot_.begin(), snapshot_.end(), byUid)) {
    std::stable_sort(snapshot_.begin(), snapshot_.end(), byUid);
  }
  backends::MessageList messages(
      [format = settings_.uidlFormat, uidValidity = *uidValidity_](
          std::string& out, std::uint32_t uid) { format.appendTo(out, uid, uidValidity); });
  messages.reserve(snapshot_.size());
  for (std::size_t i = 0; i < snapshot_.size();) {
    std::uint32_t uid = snapshot_[i].uid;
    std::uint64_t size = SnapshotEntry::kNoSize;
    for (; i < snapshot_.size() && snapshot_[i].uid == uid; ++i) {
      if (size == SnapshotEntry::kNoSize) size = snapshot_[i].size;
    }
    if (size == SnapshotEntry::kNoSize) {
      return Error{ErrorCode::Temporary, "incomplete FETCH response from server"};
    }
    messages.append(uid, size);
  }
  std::vector<SnapshotEntry>().swap(snapshot_);
  messages.shrinkToFit();
  readAhead_.setSnapshot(messages);
  return messages;
}

void ImapMailbox::finishOpen(Result<backends::MessageList> result) {
  if (!openDone_) return;
  auto done = std::move(openDone_);
  openDone_ = nullptr;
  done(std::move(result));
}

void ImapMailbox::commit(const std::vector<backends::MessageRef>& toDelete, Done done) {
  // Read-ahead still on its way is skipped; the deletion starts once it is answered.
  readAhead_.dropAll();
  whenFetchesDone(
      [this, toDelete, done = std::move(done)]() mutable { commitNow(toDelete, std::move(done)); });
}

void ImapMailbox::commitNow(const std::vector<backends::MessageRef>& toDelete, Done done) {
  std::vector<std::uint32_t> uids;
  for (const backends::MessageRef& message : toDelete) {
    uids.push_back(parseDecimal<std::uint32_t>(message.id).value_or(0));
  }
  if (uids.empty()) return logout(std::move(done), Ok{});
  if (capabilitiesAfterLogin_) return deleteMarked(std::move(uids), std::move(done));
  // Capabilities may change at login (RFC 3501 §6.2.3): ask again before relying on UIDPLUS.
  connection_->send(oneLine("CAPABILITY", [this, uids, done](Result<ImapHead> reply) mutable {
    if (!reply) return done(reply.error());
    capabilitiesAfterLogin_ = true;
    deleteMarked(std::move(uids), std::move(done));
  }));
}

void ImapMailbox::deleteMarked(std::vector<std::uint32_t> uids, Done done) {
  if (uidValidityChanged_) {
    return logout(std::move(done),
                  Error{ErrorCode::Permanent, "UIDVALIDITY changed; nothing was deleted"});
  }
  if (!capabilities_.count("UIDPLUS")) {
    // A plain EXPUNGE would also remove messages other clients marked \Deleted.
    return logout(std::move(done),
                  Error{ErrorCode::Permanent, "IMAP server lacks UIDPLUS; nothing was deleted"});
  }
  std::string set = formatUidSet(std::move(uids));
  keywordsAllowed_ = false;  // this SELECT's PERMANENTFLAGS decide (EXAMINE's list none)
  ImapCommand select;
  select.parts = ImapCommandText(capabilities_.count("LITERAL+") > 0)
                     .raw("SELECT ")
                     .string(encodeMailboxName(settings_.mailbox))
                     .take();
  select.onDone = [this, set, done](Result<ImapHead> selected) mutable {
    if (!isOk(selected)) {
      return logout(std::move(done), Error{ErrorCode::Temporary, "SELECT for deletion failed"});
    }
    // The untagged OK [UIDVALIDITY] of this SELECT has been seen by now.
    if (uidValidityChanged_) {
      return logout(std::move(done),
                    Error{ErrorCode::Permanent, "UIDVALIDITY changed; nothing was deleted"});
    }
    storeAndExpunge(set, std::move(done));
  };
  connection_->send(std::move(select));
}

void ImapMailbox::storeAndExpunge(const std::string& set, Done done) {
  std::string flags = deletionFlags();
  ImapCommand store = oneLine(fmt::format("UID STORE {} +FLAGS.SILENT ({})", set, flags));
  store.onDone = [this, set, flags, done](Result<ImapHead> stored) mutable {
    if (!isOk(stored)) {
      return logout(std::move(done), Error{ErrorCode::Temporary, "STORE \\Deleted failed"});
    }
    ImapCommand expunge = oneLine("UID EXPUNGE " + set);
    expunge.onDone = [this, set, flags, done](Result<ImapHead> expunged) mutable {
      if (isOk(expunged)) return logout(std::move(done), Ok{});
      // Undo the flags so that no later EXPUNGE by another client removes them.
      ImapCommand undo = oneLine(fmt::format("UID STORE {} -FLAGS.SILENT ({})", set, flags));
      undo.onDone = [this, done](Result<ImapHead>) mutable {
        logout(std::move(done), Error{ErrorCode::Temporary, "UID EXPUNGE failed"});
      };
      connection_->send(std::move(undo));
    };
    connection_->send(std::move(expunge));
  };
  connection_->send(std::move(store));
}

void ImapMailbox::logout(Done done, Status outcome) {
  // The outcome is known: LOGOUT's answer adds nothing, so the client's +OK (or -ERR) does not
  // wait for it. The command still leaves before the connection closes (TcpStream sends what it
  // gathered when it is destroyed), so the server logs a clean logout.
  connection_->send(oneLine("LOGOUT"));
  soon_.start(std::chrono::milliseconds(0),
              [done = std::move(done), outcome = std::move(outcome)] { done(outcome); });
}

}  // namespace popgate::imap
