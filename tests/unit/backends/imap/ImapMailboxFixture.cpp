#include "backends/imap/ImapMailboxFixture.h"

#include <fmt/format.h>

#include <charconv>

namespace popgate::imap::test {

namespace {
// Reads a number at the start of `text` and removes it; nullopt if there is none.
std::optional<std::uint64_t> takeNumber(std::string_view& text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc()) return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return value;
}

bool takePrefix(std::string_view& text, std::string_view prefix) {
  if (!text.starts_with(prefix)) return false;
  text.remove_prefix(prefix.size());
  return true;
}

// "UID FETCH <uid> (BODY.PEEK[...])" -> (uid, "BODY.PEEK[...]").
std::optional<std::pair<std::uint32_t, std::string>> bodyFetch(std::string_view text) {
  if (!takePrefix(text, "UID FETCH ")) return std::nullopt;
  auto uid = takeNumber(text);
  if (!uid || !takePrefix(text, " (") || !text.starts_with("BODY.PEEK[") || !text.ends_with(")")) {
    return std::nullopt;
  }
  text.remove_suffix(1);
  return std::pair{static_cast<std::uint32_t>(*uid), std::string(text)};
}

// "BODY.PEEK[TEXT]<origin.octets>" -> (origin, octets).
std::optional<std::pair<std::size_t, std::size_t>> textRange(std::string_view item) {
  if (!takePrefix(item, "BODY.PEEK[TEXT]<")) return std::nullopt;
  auto origin = takeNumber(item);
  if (!origin || !takePrefix(item, ".")) return std::nullopt;
  auto octets = takeNumber(item);
  if (!octets || item != ">") return std::nullopt;
  return std::pair{static_cast<std::size_t>(*origin), static_cast<std::size_t>(*octets)};
}
}  // namespace

void RecordingSink::onBodyStart() {
  EXPECT_FALSE(inCall_) << "onBodyStart from inside the call";
  EXPECT_EQ(starts, 0) << "onBodyStart twice";
  EXPECT_FALSE(end) << "onBodyStart after onBodyEnd";
  ++starts;
}

void RecordingSink::onBodyData(std::string_view bytes) {
  EXPECT_FALSE(inCall_) << "onBodyData from inside the call";
  EXPECT_EQ(starts, 1) << "onBodyData without onBodyStart";
  EXPECT_FALSE(end) << "onBodyData after onBodyEnd";
  ++chunks;
  data.append(bytes);
  if (afterData) afterData(bytes);
}

void RecordingSink::onBodyEnd(Status status) {
  EXPECT_FALSE(inCall_) << "onBodyEnd from inside the call";
  EXPECT_FALSE(end) << "onBodyEnd twice";
  end = std::move(status);
}

void RecordingSink::reset() {
  starts = 0;
  chunks = 0;
  data.clear();
  end.reset();
  afterData = nullptr;
}

ImapMailboxTest::ImapMailboxTest() {
  server_.setGreeting(
      "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] "
      "Dovecot (Debian) ready.");
  server_.setScript([this](const Command& command) {
    if (override_ && override_(command)) return;
    answer(command);
  });
}

// The mailbox goes first: its connection must close before the server and the loop.
ImapMailboxTest::~ImapMailboxTest() {
  mailbox_.reset();
}

ImapSettings ImapMailboxTest::settings() const {
  ImapSettings settings;
  settings.host = "127.0.0.1";
  settings.port = server_.port();
  settings.connectTimeout = timeout_;
  settings.commandTimeout = timeout_;
  settings.readAheadBytes = readAheadBytes_;
  settings.tokenMechanism = tokenMechanism_;
  return settings;
}

void ImapMailboxTest::makeMailbox() {
  mailbox_ = std::make_unique<ImapMailbox>(runner_.loop(), settings());
}

void ImapMailboxTest::reopenWithShortTimeouts() {
  timeout_ = kShortTimeout;
  mailbox_.reset();
  opened_.reset();
  ASSERT_NO_FATAL_FAILURE(openOk());
}

void ImapMailboxTest::startOpen(backends::Credentials credentials) {
  if (!mailbox_) makeMailbox();
  inCall_ = true;
  mailbox_->open(credentials, [this](Result<backends::MessageList> result) {
    EXPECT_FALSE(inCall_) << "open callback from inside open()";
    EXPECT_FALSE(opened_) << "open callback twice";
    ++callbacks_;
    opened_ = fakes::refsOf(result);
  });
  inCall_ = false;
}

void ImapMailboxTest::startRetrieve(std::uint32_t uid, std::optional<std::uint32_t> bodyLines) {
  std::size_t sequence = 0;
  const std::string* content = message(uid, &sequence);
  MessageRef ref{std::to_string(uid), ImapMailbox::uidl(uid, kUidValidity),
                 content ? content->size() : 0};
  inCall_ = true;
  mailbox_->retrieve(ref, bodyLines, sink_);
  inCall_ = false;
}

void ImapMailboxTest::startCommit(const std::vector<std::uint32_t>& uids) {
  std::vector<MessageRef> refs;
  for (std::uint32_t uid : uids) {
    refs.push_back({std::to_string(uid), ImapMailbox::uidl(uid, kUidValidity), 0});
  }
  inCall_ = true;
  mailbox_->commit(refs, [this](Status status) {
    EXPECT_FALSE(inCall_) << "commit callback from inside commit()";
    EXPECT_FALSE(committed_) << "commit callback twice";
    ++callbacks_;
    committed_ = std::move(status);
  });
  inCall_ = false;
}

Result<std::vector<MessageRef>> ImapMailboxTest::open(backends::Credentials credentials) {
  startOpen(std::move(credentials));
  if (!runner_.runUntil([this] { return opened_.has_value(); })) {
    return Error{ErrorCode::Invalid, "test: open did not finish"};
  }
  return *opened_;
}

void ImapMailboxTest::openOk() {
  auto result = open();
  ASSERT_TRUE(result) << result.error().detail;
}

Status ImapMailboxTest::retrieve(std::uint32_t uid, std::optional<std::uint32_t> bodyLines) {
  startRetrieve(uid, bodyLines);
  if (!runner_.runUntil([this] { return sink_.end.has_value(); })) {
    return Error{ErrorCode::Invalid, "test: retrieve did not finish"};
  }
  return *sink_.end;
}

Status ImapMailboxTest::commit(const std::vector<std::uint32_t>& uids) {
  startCommit(uids);
  if (!runner_.runUntil([this] { return committed_.has_value(); })) {
    return Error{ErrorCode::Invalid, "test: commit did not finish"};
  }
  // The outcome does not wait for LOGOUT's answer; let the server read the LOGOUT. A failed
  // connection sends none: then the wait ends when the server sees it go, or after 5 s (a sent
  // LOGOUT arrives within a few loop turns, so this limit is no race on a loaded machine).
  runner_.runUntil([this] { return server_.sawCommand("LOGOUT") || server_.clientGone(); },
                   std::chrono::seconds(5));
  return *committed_;
}

void ImapMailboxTest::pauseBody() {
  inCall_ = true;
  mailbox_->pauseBody();
  inCall_ = false;
}

void ImapMailboxTest::resumeBody() {
  inCall_ = true;
  mailbox_->resumeBody();
  inCall_ = false;
}

void ImapMailboxTest::answerWith(std::string prefix, std::string status) {
  override_ = [this, prefix, status](const Command& command) {
    if (!command.text.starts_with(prefix)) return false;
    server_.reply(command, status);
    return true;
  };
}

void ImapMailboxTest::disconnectOn(std::string prefix) {
  override_ = [this, prefix](const Command& command) {
    if (!command.text.starts_with(prefix)) return false;
    server_.disconnect();
    return true;
  };
}

std::string ImapMailboxTest::loginReply() const {
  return loginReply_.value_or("OK [CAPABILITY " + capabilities_ + "] Logged in");
}

const std::string* ImapMailboxTest::message(std::uint32_t uid, std::size_t* sequence) const {
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (messages_[i].first != uid) continue;
    if (sequence) *sequence = i + 1;
    return &messages_[i].second;
  }
  return nullptr;
}

void ImapMailboxTest::answer(const Command& command) {
  const std::string& text = command.text;
  if (saslTag_) {
    // The client's line after "+": the ScriptedImapServer reads it as a tag without text.
    server_.reply(Command{*std::exchange(saslTag_, std::nullopt), ""}, loginReply());
  } else if (text.starts_with("AUTHENTICATE ")) {
    // With SASL-IR the response is on the command line; else it follows a "+".
    if (text.find(' ', 13) != std::string::npos) return server_.reply(command, loginReply());
    saslTag_ = command.tag;
    server_.send("+ \r\n");
  } else if (text == "CAPABILITY") {
    server_.send("* CAPABILITY " + capabilities_ + "\r\n");
    server_.reply(command, "OK Capability completed.");
  } else if (text.starts_with("LOGIN ")) {
    server_.reply(command, loginReply());
  } else if (text.starts_with("SELECT ") || text.starts_with("EXAMINE ")) {
    server_.send(fmt::format(
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags "
        "permitted.\r\n"
        "* {} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY {}] UIDs valid\r\n"
        "* OK [UIDNEXT {}] Predicted next UID\r\n",
        messages_.size(), kUidValidity, messages_.empty() ? 1 : messages_.back().first + 1));
    server_.reply(command, text.starts_with("SELECT") ? "OK [READ-WRITE] Select completed."
                                                      : "OK [READ-ONLY] Examine completed.");
  } else if (text == "UID FETCH 1:* (UID RFC822.SIZE)") {
    std::string out;
    for (std::size_t i = 0; i < messages_.size(); ++i) {
      out += fmt::format("* {} FETCH (UID {} RFC822.SIZE {})\r\n", i + 1, messages_[i].first,
                         messages_[i].second.size());
    }
    server_.send(out);
    server_.reply(command, "OK Fetch completed (0.001 + 0.000 secs).");
  } else if (text.starts_with("UID SEARCH RETURN (ALL) KEYWORD ")) {
    // RFC 4731: one compact set (the fixture lists the UIDs one by one, which is also valid).
    std::string found;
    for (std::uint32_t uid : interrupted_)
      found += fmt::format("{}{}", found.empty() ? "" : ",", uid);
    server_.send(fmt::format("* ESEARCH (TAG \"{}\") UID{}\r\n", command.tag,
                             found.empty() ? "" : " ALL " + found));
    server_.reply(command, "OK Search completed (0.001 + 0.000 secs).");
  } else if (text.starts_with("UID SEARCH KEYWORD ")) {
    std::string found;
    for (std::uint32_t uid : interrupted_) found += fmt::format(" {}", uid);
    server_.send("* SEARCH" + found + "\r\n");
    server_.reply(command, "OK Search completed (0.001 + 0.000 secs).");
  } else if (auto fetch = bodyFetch(text)) {
    answerBodyFetch(command, fetch->first, fetch->second);
  } else if (text.starts_with("UID STORE ")) {
    server_.reply(command, "OK Store completed.");
  } else if (text.starts_with("UID EXPUNGE ")) {
    server_.reply(command, "OK Expunge completed.");
  } else if (text == "LOGOUT") {
    server_.send("* BYE Logging out\r\n");
    server_.reply(command, "OK Logout completed (0.001 + 0.000 secs).");
    server_.disconnect();
  } else {
    server_.reply(command, "BAD Error in IMAP command: Unknown command.");
  }
}

void ImapMailboxTest::answerBodyFetch(const Command& command, std::uint32_t uid,
                                      const std::string& item) {
  std::size_t sequence = 0;
  const std::string* content = message(uid, &sequence);
  if (!content) {
    // Dovecot answers a UID FETCH of a missing UID with OK and no data (RFC 3501 §6.4.8).
    server_.reply(command, "OK Fetch completed.");
    return;
  }
  std::size_t headerEnd = content->find("\r\n\r\n");
  headerEnd = headerEnd == std::string::npos ? content->size() : headerEnd + 4;
  std::string name;
  std::string value;
  if (item == "BODY.PEEK[]") {
    name = "BODY[]";
    value = *content;
  } else if (item == "BODY.PEEK[HEADER]") {
    name = "BODY[HEADER]";
    value = content->substr(0, headerEnd);
  } else if (auto range = textRange(item)) {
    name = fmt::format("BODY[TEXT]<{}>", range->first);
    std::string body = content->substr(headerEnd);
    value = range->first < body.size() ? body.substr(range->first, range->second) : "";
  } else {
    server_.reply(command, "BAD Error in IMAP command UID FETCH: Invalid arguments.");
    return;
  }
  server_.send(fmt::format("* {} FETCH (UID {} {} {{{}}}\r\n{})\r\n", sequence, uid, name,
                           value.size(), value));
  server_.reply(command, "OK Fetch completed.");
}

}  // namespace popgate::imap::test
