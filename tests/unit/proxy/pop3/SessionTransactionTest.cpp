// Session: TRANSACTION commands other than RETR/TOP, and QUIT's UPDATE state (RFC 1939 §5-§6).
// The mailbox holds u1 (120 octets), u2 (200) and u3 (3000) unless a test says otherwise.

#include "proxy/pop3/SessionFixture.h"

namespace popgate::pop3 {
namespace {

using fakes::FakeMailbox;
using Ids = std::vector<std::string>;

class SessionTransactionTest : public SessionTest {
 protected:
  void SetUp() override { login(); }
};

TEST_F(SessionTransactionTest, StatCountsMessagesAndOctets) {
  converse(R"(
    C: STAT
    S: +OK 3 3320
    C: STAT 1
    S: -ERR STAT takes no argument.
  )");
}

TEST_F(SessionTransactionTest, ListAllAndOne) {
  converse(R"(
    C: LIST
    S: +OK 3 messages:
    S: 1 120
    S: 2 200
    S: 3 3000
    S: .
    C: LIST 2
    S: +OK 2 200
    C: list 03
    S: +OK 3 3000
  )");
}

TEST_F(SessionTransactionTest, UidlAllAndOne) {
  converse(R"(
    C: UIDL
    S: +OK
    S: 1 uidl-1
    S: 2 uidl-2
    S: 3 uidl-3
    S: .
    C: UIDL 3
    S: +OK 3 uidl-3
  )");
}

// The same bad message numbers for every command that takes one. Numbers that name no message
// are plain errors; text that is not a number counts as a bad command.
TEST_F(SessionTransactionTest, BadMessageNumbers) {
  SessionSettings settings;
  settings.maxBadCommands = 1000;
  restart(settings);
  login();
  for (std::string verb : {"LIST", "UIDL", "DELE", "RETR"}) {
    SCOPED_TRACE(verb);
    converse("C: " + verb + " 0\nS: -ERR There's no message 0.");
    converse("C: " + verb + " 4\nS: -ERR There's no message 4.");
    converse("C: " + verb + " 999999999\nS: -ERR There's no message 999999999.");
    converse("C: " + verb + " 1234567890\nS: -ERR Invalid message number.");
    converse("C: " + verb + " -1\nS: -ERR Invalid message number.");
    converse("C: " + verb + " +1\nS: -ERR Invalid message number.");
    converse("C: " + verb + " one\nS: -ERR Invalid message number.");
    converse("C: " + verb + " 1 2\nS: -ERR Invalid message number.");
    converse("C: " + verb + "  1\nS: -ERR Invalid message number.");
  }
  EXPECT_TRUE(log().retrievals.empty());
  converse("C: STAT\nS: +OK 3 3320");  // DELE refused them all
}

TEST_F(SessionTransactionTest, MissingMessageNumber) {
  converse(R"(
    C: DELE
    S: -ERR Invalid message number.
    C: RETR
    S: -ERR Invalid message number.
  )");
}

TEST_F(SessionTransactionTest, DeleOnlyMarks) {
  converse(R"(
    C: DELE 2
    S: +OK Marked to be deleted.
    C: DELE 2
    S: -ERR Message is deleted.
  )");
  EXPECT_TRUE(log().commits.empty());
  EXPECT_EQ(mailbox().pending(), FakeMailbox::Operation::None);
}

TEST_F(SessionTransactionTest, DeletedMessagesAreHiddenButKeepTheirNumbers) {
  converse(R"(
    C: DELE 2
    S: +OK Marked to be deleted.
    C: STAT
    S: +OK 2 3120
    C: LIST
    S: +OK 2 messages:
    S: 1 120
    S: 3 3000
    S: .
    C: UIDL
    S: +OK
    S: 1 uidl-1
    S: 3 uidl-3
    S: .
    C: LIST 2
    S: -ERR Message is deleted.
    C: UIDL 2
    S: -ERR Message is deleted.
    C: RETR 2
    S: -ERR Message is deleted.
    C: TOP 2 0
    S: -ERR Message is deleted.
    C: LIST 3
    S: +OK 3 3000
  )");
  EXPECT_TRUE(log().retrievals.empty());
}

TEST_F(SessionTransactionTest, AllDeleted) {
  converse(R"(
    C: DELE 1
    S: +OK Marked to be deleted.
    C: DELE 2
    S: +OK Marked to be deleted.
    C: DELE 3
    S: +OK Marked to be deleted.
    C: STAT
    S: +OK 0 0
    C: LIST
    S: +OK 0 messages:
    S: .
    C: UIDL
    S: +OK
    S: .
  )");
}

TEST_F(SessionTransactionTest, RsetUnmarksEverything) {
  converse(R"(
    C: DELE 1
    S: +OK Marked to be deleted.
    C: DELE 3
    S: +OK Marked to be deleted.
    C: RSET
    S: +OK
    C: STAT
    S: +OK 3 3320
    C: LIST 1
    S: +OK 1 120
    C: RSET x
    S: -ERR RSET takes no argument.
  )");
}

TEST_F(SessionTransactionTest, Noop) {
  converse(R"(
    C: NOOP
    S: +OK
    C: NOOP 1
    S: -ERR NOOP takes no argument.
  )");
}

TEST_F(SessionTransactionTest, QuitCommitsExactlyTheMarkedMessagesThenSaysOk) {
  converse(R"(
    C: DELE 3
    S: +OK Marked to be deleted.
    C: DELE 1
    S: +OK Marked to be deleted.
    C: QUIT
  )");
  EXPECT_EQ(session_->state(), State::Update);
  ASSERT_EQ(log().commits.size(), 1u);
  EXPECT_EQ(log().commits[0], (Ids{"u1", "u3"}));
  EXPECT_FALSE(sink_.closed());  // +OK only once the store confirmed

  mailbox().completeCommit();
  EXPECT_EQ(sink_.take(), "+OK Logging out.\r\n");
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(session_->state(), State::Closed);
  session_.reset();
  EXPECT_EQ(log().commits.size(), 1u);
  EXPECT_EQ(log().cancelled, 0);
  EXPECT_EQ(locks_.size(), 0u);
}

TEST_F(SessionTransactionTest, QuitAfterRsetCommitsNothingMarked) {
  converse(R"(
    C: DELE 2
    S: +OK Marked to be deleted.
    C: RSET
    S: +OK
    C: QUIT
  )");
  ASSERT_EQ(log().commits.size(), 1u);
  EXPECT_EQ(log().commits[0], Ids{});
  mailbox().completeCommit();
  EXPECT_EQ(sink_.take(), "+OK Logging out.\r\n");
}

TEST_F(SessionTransactionTest, FailedCommitGivesSysTempAndCloses) {
  converse("C: DELE 2\nS: +OK Marked to be deleted.\nC: QUIT");
  mailbox().completeCommit(Error{ErrorCode::Temporary, "EXPUNGE: connection lost"});
  EXPECT_EQ(sink_.take(), "-ERR [SYS/TEMP] Some deleted messages were not removed.\r\n");
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(session_->state(), State::Closed);
}

TEST_F(SessionTransactionTest, FailedCommitSaysWhatTheStoreLetsTheClientKnow) {
  converse(
      "C: DELE 2\nS: +OK Marked to be deleted.\nC: DELE 3\nS: +OK Marked to be deleted.\nC: QUIT");
  mailbox().completeCommit(Error{ErrorCode::Temporary, "JMAP: E3 forbidden",
                                 "1 of 2 deleted messages were not removed."});
  EXPECT_EQ(sink_.take(), "-ERR [SYS/TEMP] 1 of 2 deleted messages were not removed.\r\n");
}

TEST_F(SessionTransactionTest, QuitWithArgumentIsRefused) {
  converse(R"(
    C: DELE 1
    S: +OK Marked to be deleted.
    C: QUIT 1
    S: -ERR QUIT takes no argument.
  )");
  EXPECT_TRUE(log().commits.empty());
  EXPECT_EQ(session_->state(), State::Transaction);
}

// In UPDATE nothing the client sends is answered: the session ends when the commit does.
TEST_F(SessionTransactionTest, CommandsInUpdateAreNeverAnswered) {
  converse(R"(
    C: QUIT
    C: STAT
    C: LIST
    C: UIDL
    C: RETR 1
    C: TOP 1 1
    C: DELE 1
    C: RSET
    C: NOOP
    C: CAPA
    C: USER bob
    C: PASS x
    C: QUIT
    C: BOGUS
  )");
  EXPECT_EQ(session_->state(), State::Update);
  EXPECT_EQ(log().commits.size(), 1u);
  mailbox().completeCommit();
  EXPECT_EQ(sink_.take(), "+OK Logging out.\r\n");
  EXPECT_EQ(log().commits.size(), 1u);
  EXPECT_TRUE(log().retrievals.empty());
}

TEST_F(SessionTransactionTest, PipelinedCommandsAfterQuitAreDropped) {
  session_->onInput("DELE 1\r\nQUIT\r\nRSET\r\nQUIT\r\n");
  EXPECT_EQ(sink_.take(), "+OK Marked to be deleted.\r\n");
  mailbox().completeCommit();
  EXPECT_EQ(sink_.take(), "+OK Logging out.\r\n");
  EXPECT_EQ(log().commits, std::vector<Ids>{Ids{"u1"}});
}

TEST_F(SessionTransactionTest, DroppedDuringUpdateCancelsTheCommit) {
  converse("C: DELE 1\nS: +OK Marked to be deleted.\nC: QUIT");
  session_.reset();
  EXPECT_EQ(log().cancelled, 1);
  EXPECT_EQ(locks_.size(), 0u);
}

class EmptyMailboxTest : public SessionTest {
 protected:
  void SetUp() override { login({}); }
};

TEST_F(EmptyMailboxTest, EverythingIsEmpty) {
  converse(R"(
    C: STAT
    S: +OK 0 0
    C: LIST
    S: +OK 0 messages:
    S: .
    C: UIDL
    S: +OK
    S: .
    C: LIST 1
    S: -ERR There's no message 1.
    C: RETR 1
    S: -ERR There's no message 1.
    C: DELE 1
    S: -ERR There's no message 1.
    C: RSET
    S: +OK
    C: QUIT
  )");
  mailbox().completeCommit();
  EXPECT_EQ(sink_.take(), "+OK Logging out.\r\n");
  EXPECT_EQ(log().commits, std::vector<Ids>{Ids{}});
}

}  // namespace
}  // namespace popgate::pop3
