// Read-ahead of sequential RETRs (ImapReadAhead through ImapMailbox): which FETCHes go out and
// when, that held messages come out byte-exact, and that whatever the session does next (a
// jump, TOP, QUIT, a vanished message, a server that sends more than it announced) gets the
// right bytes or the right error.

#include <gmock/gmock.h>

#include <algorithm>

#include "backends/imap/ImapMailboxReadAheadFixture.h"

namespace popgate::imap::test {
namespace {

using ::testing::ElementsAre;

TEST_F(ImapMailboxReadAheadTest, SecondConsecutiveRetrFetchesTheRestAhead) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  EXPECT_THAT(laterCommands(), ElementsAre(fetchOf(10)));  // one RETR alone: no read-ahead
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  ASSERT_NO_FATAL_FAILURE(waitForCommands(6));
  EXPECT_THAT(laterCommands(), ElementsAre(fetchOf(10), fetchOf(20), fetchOf(30), fetchOf(40),
                                           fetchOf(50), fetchOf(60)));
  for (std::uint32_t uid = 30; uid <= 60; uid += 10) ASSERT_NO_FATAL_FAILURE(retrieveOk(uid));
  EXPECT_EQ(laterCommands().size(), 6u) << "held messages are not fetched again";
}

TEST_F(ImapMailboxReadAheadTest, HeldMessageIsServedAfterItsAnswerCame) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  ASSERT_NO_FATAL_FAILURE(waitForCommands(6));
  runner_.runFor(std::chrono::milliseconds(20));  // every answer is in and held
  server_.disconnect();                           // held bytes need no server any more
  ASSERT_TRUE(runner_.runUntil([&] { return server_.clientGone(); }));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(30));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(40));
}

TEST_F(ImapMailboxReadAheadTest, MessageStillArrivingIsStreamedOnAttach) {
  std::string body;
  for (int i = 0; i < 30; ++i) body += "slow line " + std::to_string(i) + "\r\n";
  messages_[2].second = body;
  override_ = [this, body](const Command& command) {
    if (command.text != fetchOf(30)) return false;
    std::vector<std::string> pieces = {"* 3 FETCH (UID 30 BODY[] {" + std::to_string(body.size()) +
                                       "}\r\n"};
    for (std::size_t pos = 0; pos < body.size(); pos += 50) pieces.push_back(body.substr(pos, 50));
    pieces.push_back(")\r\n" + command.tag + " OK Fetch completed.\r\n");
    server_.sendSlowly(pieces, std::chrono::milliseconds(2));
    return true;
  };
  messages_.resize(3);  // 10, 20 and 30: nothing is answered alongside the slow one
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(30));
  EXPECT_GT(sink_.chunks, 1);
  EXPECT_THAT(laterCommands(), ElementsAre(fetchOf(10), fetchOf(20), fetchOf(30)));
}

TEST_F(ImapMailboxReadAheadTest, BudgetBoundsWhatIsFetchedAhead) {
  readAheadBytes_ = messages_[2].second.size() + messages_[3].second.size();
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  ASSERT_NO_FATAL_FAILURE(waitForCommands(4));
  runner_.runFor(std::chrono::milliseconds(20));
  EXPECT_THAT(laterCommands(), ElementsAre(fetchOf(10), fetchOf(20), fetchOf(30), fetchOf(40)));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(30));  // 40 still held: no room for 50
  runner_.runFor(std::chrono::milliseconds(20));
  EXPECT_EQ(laterCommands().size(), 4u);
  ASSERT_NO_FATAL_FAILURE(retrieveOk(40));  // room for 50, not for 50 and 60
  ASSERT_NO_FATAL_FAILURE(waitForCommands(5));
  runner_.runFor(std::chrono::milliseconds(20));
  EXPECT_EQ(laterCommands().back(), fetchOf(50));
  EXPECT_EQ(laterCommands().size(), 5u);
}

TEST_F(ImapMailboxReadAheadTest, ZeroBudgetTurnsItOff) {
  readAheadBytes_ = 0;
  ASSERT_NO_FATAL_FAILURE(openOk());
  for (std::uint32_t uid = 10; uid <= 30; uid += 10) ASSERT_NO_FATAL_FAILURE(retrieveOk(uid));
  EXPECT_THAT(laterCommands(), ElementsAre(fetchOf(10), fetchOf(20), fetchOf(30)));
}

TEST_F(ImapMailboxReadAheadTest, JumpDropsWhatWasSkippedAndKeepsTheTarget) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(50));  // 30 and 40 were fetched for nothing
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));  // backwards: fetched anew
  EXPECT_EQ(laterCommands().back(), fetchOf(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(60));
  EXPECT_EQ(laterCommands().back(), fetchOf(60));
}

TEST_F(ImapMailboxReadAheadTest, TopAfterReadAheadGetsItsOwnAnswer) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  sink_.reset();
  Status status = retrieve(30, 0);
  ASSERT_TRUE(status) << status.error().detail;
  EXPECT_EQ(sink_.data, "Subject: message 3\r\n\r\n");
  ASSERT_NO_FATAL_FAILURE(retrieveOk(30));  // the read-ahead was dropped with the TOP
  EXPECT_EQ(laterCommands().back(), fetchOf(30));
}

TEST_F(ImapMailboxReadAheadTest, CommitWaitsBehindReadAheadAndDeletesExactly) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  Status status = commit({10, 20});
  ASSERT_TRUE(status) << status.error().detail;
  std::vector<std::string> texts = laterCommands();
  EXPECT_THAT(
      std::vector<std::string>(texts.end() - 4, texts.end()),
      ElementsAre("SELECT \"INBOX\"", "UID STORE 10,20 +FLAGS.SILENT (\\Deleted $PopgateDeleting)",
                  "UID EXPUNGE 10,20", "LOGOUT"));
}

TEST_F(ImapMailboxReadAheadTest, MessageGoneBeforeItsTurnIsGone) {
  override_ = [this](const Command& command) {
    if (command.text != fetchOf(30)) return false;
    server_.reply(command, "OK Fetch completed.");  // expunged meanwhile: no FETCH data
    return true;
  };
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  sink_.reset();
  Status status = retrieve(30);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Gone);
  EXPECT_EQ(sink_.starts, 0);
  ASSERT_NO_FATAL_FAILURE(retrieveOk(40));
}

TEST_F(ImapMailboxReadAheadTest, MoreBytesThanAnnouncedAreNotHeldButFetchedAgain) {
  bool first = true;
  override_ = [this, &first](const Command& command) {
    if (command.text != fetchOf(30) || !first) return false;
    first = false;
    std::string longer = *message(30) + "extra\r\n";
    server_.send("* 3 FETCH (UID 30 BODY[] {" + std::to_string(longer.size()) + "}\r\n" + longer +
                 ")\r\n");
    server_.reply(command, "OK Fetch completed.");
    return true;
  };
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  ASSERT_NO_FATAL_FAILURE(waitForCommands(6));
  runner_.runFor(std::chrono::milliseconds(20));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(30));
  std::vector<std::string> texts = laterCommands();
  EXPECT_EQ(std::count(texts.begin(), texts.end(), fetchOf(30)), 2);
}

TEST_F(ImapMailboxReadAheadTest, ConnectionLostWhileHoldingFailsOnlyWhatWasNotComplete) {
  override_ = [this](const Command& command) {
    if (command.text != fetchOf(40)) return false;
    server_.send("* 4 FETCH (UID 40 BODY[] {500}\r\nSubject: cut\r\n");
    server_.disconnect();
    return true;
  };
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  ASSERT_TRUE(runner_.runUntil([&] { return server_.clientGone(); }));
  runner_.runFor(std::chrono::milliseconds(20));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(30));  // complete before the server left
  sink_.reset();
  Status status = retrieve(40);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Temporary);
}

}  // namespace
}  // namespace popgate::imap::test
