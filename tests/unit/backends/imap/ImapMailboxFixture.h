#pragma once
// Runs the real ImapMailbox against ScriptedImapServer on one loop. The server answers like
// Dovecot 2.3 (its greeting offers SASL-IR and AUTH=PLAIN) from a small message list unless a
// test's `override_` handles a command first.
// Every operation is started with inCall_ set, and every callback checks that it is not.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/imap/ImapMailbox.h"
#include "fakes/MessageLists.h"
#include "support/LoopRunner.h"
#include "support/ScriptedImapServer.h"

namespace popgate::imap::test {

using Command = ScriptedImapServer::Command;
using backends::MessageRef;

constexpr std::uint32_t kUidValidity = 0x6553f100;  // 1700000000

// The connect and command timeouts. Both run on the loop that also serves the scripted server,
// and after a stall (a loaded machine, ASan) libuv runs due timers before it polls for the
// reply that is already there: a timeout that no test means to reach must be far longer than
// any stall. The tests of timeouts ask for the short one and wait it out.
constexpr std::chrono::milliseconds kTimeout = std::chrono::seconds(10);
constexpr std::chrono::milliseconds kShortTimeout = std::chrono::seconds(1);

// Records a retrieval and checks the BodySink contract: one start before any data, one end.
class RecordingSink final : public backends::BodySink {
 public:
  explicit RecordingSink(const bool& inCall) : inCall_(inCall) {}
  void onBodyStart() override;
  void onBodyData(std::string_view bytes) override;
  void onBodyEnd(Status status) override;
  void reset();  // for the next retrieval

  int starts = 0;
  int chunks = 0;
  std::string data;
  std::optional<Status> end;
  std::function<void(std::string_view)> afterData;  // e.g. pauseBody()

 private:
  const bool& inCall_;
};

class ImapMailboxTest : public ::testing::Test {
 protected:
  ImapMailboxTest();
  ~ImapMailboxTest() override;

  ImapSettings settings() const;
  void makeMailbox();
  // A new mailbox with kShortTimeout, opened, for a fixture whose SetUp opened one already.
  void reopenWithShortTimeouts();

  // Starting operations (the callbacks record their results below).
  void startOpen(backends::Credentials credentials = {"alice",
                                                      backends::PasswordCredential{"secret"}});
  void startRetrieve(std::uint32_t uid, std::optional<std::uint32_t> bodyLines = std::nullopt);
  void startCommit(const std::vector<std::uint32_t>& uids);

  // Starting and waiting (at most a few seconds) for the result.
  Result<std::vector<MessageRef>> open(backends::Credentials credentials = {
                                           "alice", backends::PasswordCredential{"secret"}});
  void openOk();  // use with ASSERT_NO_FATAL_FAILURE
  Status retrieve(std::uint32_t uid, std::optional<std::uint32_t> bodyLines = std::nullopt);
  Status commit(const std::vector<std::uint32_t>& uids);

  void pauseBody();
  void resumeBody();

  // Overrides: commands starting with `prefix` get `status` instead of the standard answer, or
  // the server hangs up on them.
  void answerWith(std::string prefix, std::string status);
  void disconnectOn(std::string prefix);

  // The standard answers of the fake server.
  void answer(const Command& command);
  std::string loginReply() const;
  void answerBodyFetch(const Command& command, std::uint32_t uid, const std::string& item);
  const std::string* message(std::uint32_t uid, std::size_t* sequence = nullptr) const;

  LoopRunner runner_;
  ScriptedImapServer server_{runner_.loop()};
  std::unique_ptr<ImapMailbox> mailbox_;
  bool inCall_ = false;
  int callbacks_ = 0;

  // What the fake server knows.
  std::string capabilities_ =
      "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT LITERAL+ "
      "UIDPLUS MOVE NAMESPACE CONDSTORE QRESYNC";
  std::optional<std::string> loginReply_;  // the tagged reply to LOGIN after the tag
  std::optional<std::string> saslTag_;     // an AUTHENTICATE waiting for the client's line
  std::vector<std::pair<std::uint32_t, std::string>> messages_;  // (UID, content), by sequence
  std::vector<std::uint32_t> interrupted_;  // UIDs that UID SEARCH KEYWORD $PopgateDeleting finds
  std::function<bool(const Command&)> override_;
  std::uint64_t readAheadBytes_ = ImapSettings{}.readAheadBytes;
  std::chrono::milliseconds timeout_ = kTimeout;          // for mailboxes made from now on
  TokenMechanism tokenMechanism_ = TokenMechanism::Auto;  // likewise

  // Outcomes.
  std::optional<Result<std::vector<MessageRef>>> opened_;
  RecordingSink sink_{inCall_};
  std::optional<Status> committed_;
};

}  // namespace popgate::imap::test
