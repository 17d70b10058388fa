// ImapMailbox::commit: UID STORE + UID EXPUNGE (RFC 4315) of exactly the deleted UIDs, then
// LOGOUT; refusal without UIDPLUS; undoing the flags when EXPUNGE fails.

#include <gmock/gmock.h>

#include "backends/imap/ImapMailboxFixture.h"

namespace popgate::imap::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class ImapMailboxCommitTest : public ImapMailboxTest {
 protected:
  void SetUp() override {
    for (std::uint32_t uid : {3, 4, 5, 6, 9}) messages_.push_back({uid, "Subject: x\r\n\r\n"});
  }

  // Commands sent after the open sequence.
  std::vector<std::string> laterCommands() const {
    std::vector<std::string> texts = server_.commandTexts();
    std::size_t skip = 0;
    while (skip < texts.size() && !texts[skip].starts_with("UID SEARCH")) ++skip;
    texts.erase(texts.begin(),
                texts.begin() + static_cast<std::ptrdiff_t>(std::min(skip + 1, texts.size())));
    return texts;
  }
};

TEST_F(ImapMailboxCommitTest, StoresAndExpungesExactlyTheseUidsThenLogsOut) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  Status status = commit({9, 3, 5, 4});
  ASSERT_TRUE(status) << status.error().detail;
  EXPECT_THAT(
      laterCommands(),
      ElementsAre(R"(SELECT "INBOX")", "UID STORE 3:5,9 +FLAGS.SILENT (\\Deleted $PopgateDeleting)",
                  "UID EXPUNGE 3:5,9", "LOGOUT"));
}

TEST_F(ImapMailboxCommitTest, SuccessOnlyAfterExpungeOk) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  std::optional<Command> expunge;
  override_ = [&](const Command& command) {
    if (!command.text.starts_with("UID EXPUNGE")) return false;
    expunge = command;
    return true;
  };
  startCommit({3, 4, 5, 9});
  ASSERT_TRUE(runner_.runUntil([&] { return expunge.has_value(); }));
  runner_.runFor(std::chrono::milliseconds(100));
  EXPECT_FALSE(committed_);
  EXPECT_FALSE(server_.sawCommand("LOGOUT"));
  server_.send("* 3 EXPUNGE\r\n* 3 EXPUNGE\r\n* 3 EXPUNGE\r\n* 4 EXPUNGE\r\n");
  server_.reply(*expunge, "OK Expunge completed.");
  ASSERT_TRUE(runner_.runUntil([&] { return committed_.has_value(); }));
  EXPECT_TRUE(*committed_);
  EXPECT_TRUE(runner_.runUntil([&] { return server_.sawCommand("LOGOUT"); }));
}

TEST_F(ImapMailboxCommitTest, WithoutUidplusNothingIsDeleted) {
  capabilities_ = "IMAP4rev1 LITERAL+ IDLE";
  ASSERT_NO_FATAL_FAILURE(openOk());
  Status status = commit({3});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Permanent);
  EXPECT_THAT(laterCommands(), ElementsAre("LOGOUT"));
}

TEST_F(ImapMailboxCommitTest, ExpungeNoRemovesTheFlagsAgain) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  answerWith("UID EXPUNGE", "NO [INUSE] Mailbox is locked");
  Status status = commit({3, 4, 5, 9});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Temporary);
  EXPECT_THAT(
      laterCommands(),
      ElementsAre(R"(SELECT "INBOX")", "UID STORE 3:5,9 +FLAGS.SILENT (\\Deleted $PopgateDeleting)",
                  "UID EXPUNGE 3:5,9", "UID STORE 3:5,9 -FLAGS.SILENT (\\Deleted $PopgateDeleting)",
                  "LOGOUT"));
}

TEST_F(ImapMailboxCommitTest, StoreNoSendsNoExpunge) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  answerWith("UID STORE", "NO Mailbox is read-only");
  Status status = commit({6});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Temporary);
  EXPECT_THAT(laterCommands(),
              ElementsAre(R"(SELECT "INBOX")",
                          "UID STORE 6 +FLAGS.SILENT (\\Deleted $PopgateDeleting)", "LOGOUT"));
}

TEST_F(ImapMailboxCommitTest, NothingToDeleteOnlyLogsOut) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  Status status = commit({});
  ASSERT_TRUE(status) << status.error().detail;
  EXPECT_THAT(laterCommands(), ElementsAre("LOGOUT"));
}

TEST_F(ImapMailboxCommitTest, AsksForCapabilitiesWhenLoginDidNotList) {
  loginReply_ = "OK Logged in";
  ASSERT_NO_FATAL_FAILURE(openOk());
  Status status = commit({4});
  ASSERT_TRUE(status) << status.error().detail;
  EXPECT_THAT(laterCommands(), ElementsAre("CAPABILITY", R"(SELECT "INBOX")",
                                           "UID STORE 4 +FLAGS.SILENT (\\Deleted $PopgateDeleting)",
                                           "UID EXPUNGE 4", "LOGOUT"));
}

TEST_F(ImapMailboxCommitTest, UidValidityChangeDeletesNothing) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  // The mailbox was recreated behind our back: the UIDs no longer name the same messages.
  server_.send("* OK [UIDVALIDITY 12345] UIDs changed\r\n");
  runner_.runFor(std::chrono::milliseconds(20));
  Status status = commit({3});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Permanent);
  EXPECT_THAT(laterCommands(), ElementsAre("LOGOUT"));
}

TEST_F(ImapMailboxCommitTest, UidValidityChangeSeenBySelectDeletesNothing) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  // The login EXAMINEd the mailbox; the read-write SELECT before deleting finds it recreated.
  override_ = [this](const Command& command) {
    if (!command.text.starts_with("SELECT ")) return false;
    server_.send("* 1 EXISTS\r\n* OK [UIDVALIDITY 12345] UIDs valid\r\n");
    server_.reply(command, "OK [READ-WRITE] Select completed.");
    return true;
  };
  Status status = commit({3});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Permanent);
  EXPECT_THAT(laterCommands(), ElementsAre(R"(SELECT "INBOX")", "LOGOUT"));
}

TEST_F(ImapMailboxCommitTest, ConnectionLostBeforeCommitFailsWithoutSending) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  server_.disconnect();
  ASSERT_TRUE(runner_.runUntil([&] { return server_.clientGone(); }));
  runner_.runFor(std::chrono::milliseconds(20));
  Status status = commit({3, 4});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Temporary);
  EXPECT_THAT(laterCommands(), IsEmpty());
}

TEST_F(ImapMailboxCommitTest, ConnectionLostAfterStoreIsNotRetried) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  override_ = [&](const Command& command) {
    if (!command.text.starts_with("UID STORE")) return false;
    server_.disconnect();
    return true;
  };
  Status status = commit({3, 4});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Temporary);
  runner_.runFor(std::chrono::milliseconds(50));
  EXPECT_EQ(server_.connections(), 1);
  EXPECT_THAT(
      laterCommands(),
      ElementsAre(R"(SELECT "INBOX")", "UID STORE 3:4 +FLAGS.SILENT (\\Deleted $PopgateDeleting)"));
}

TEST_F(ImapMailboxCommitTest, SilentExpungeTimesOut) {
  timeout_ = kShortTimeout;
  ASSERT_NO_FATAL_FAILURE(openOk());
  override_ = [&](const Command& command) { return command.text.starts_with("UID EXPUNGE"); };
  Status status = commit({3});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Temporary);
}

}  // namespace
}  // namespace popgate::imap::test
