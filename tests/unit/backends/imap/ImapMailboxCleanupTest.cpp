// Deletions interrupted between UID STORE and UID EXPUNGE (ImapMailboxCleanup.cpp): QUIT marks
// with the keyword $PopgateDeleting beside \Deleted, and the next open removes both from exactly
// the messages that carry the keyword, before the listing is handed out.

#include <gmock/gmock.h>

#include "backends/imap/ImapMailboxFixture.h"

namespace popgate::imap::test {
namespace {

using ::testing::ElementsAre;

class ImapMailboxCleanupTest : public ImapMailboxTest {
 protected:
  void SetUp() override {
    for (std::uint32_t uid : {3, 4, 5, 9}) messages_.push_back({uid, "Subject: x\r\n\r\n"});
  }

  // A SELECT whose PERMANENTFLAGS list no keywords (RFC 3501 §7.1: none can be created).
  void selectWithoutKeywords() {
    override_ = [this](const Command& command) {
      if (!command.text.starts_with("SELECT ")) return false;
      server_.send(
          "* OK [PERMANENTFLAGS (\\Answered \\Deleted \\Seen)] Limited\r\n"
          "* 4 EXISTS\r\n* OK [UIDVALIDITY 1700000000] UIDs valid\r\n");
      server_.reply(command, "OK [READ-WRITE] Select completed.");
      return true;
    };
  }
};

TEST_F(ImapMailboxCleanupTest, MarkedMessagesGetTheirFlagsBackBeforeTheListing) {
  interrupted_ = {4, 9};
  auto result = open();
  ASSERT_TRUE(result) << result.error().detail;
  // RFC 1939 §6: the QUIT that would have deleted them never got +OK; they stay listed.
  EXPECT_EQ(result.value().size(), 4u);
  EXPECT_THAT(
      server_.commandTexts(),
      ElementsAre("AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==", R"(EXAMINE "INBOX")",
                  "UID FETCH 1:* (UID RFC822.SIZE)", "UID SEARCH KEYWORD $PopgateDeleting",
                  R"(SELECT "INBOX")", "UID STORE 4,9 -FLAGS.SILENT (\\Deleted $PopgateDeleting)"));
}

TEST_F(ImapMailboxCleanupTest, WithEsearchTheSetComesCompact) {
  capabilities_ += " ESEARCH";
  interrupted_ = {4, 5, 9};
  ASSERT_NO_FATAL_FAILURE(openOk());
  EXPECT_TRUE(server_.sawCommand("UID SEARCH RETURN (ALL) KEYWORD $PopgateDeleting"));
  EXPECT_TRUE(server_.sawCommand("UID STORE 4,5,9 -FLAGS.SILENT (\\Deleted $PopgateDeleting)"));
}

TEST_F(ImapMailboxCleanupTest, EsearchWithoutMatchesWritesNothing) {
  capabilities_ += " ESEARCH";
  ASSERT_NO_FATAL_FAILURE(openOk());
  EXPECT_TRUE(server_.sawCommand("UID SEARCH RETURN (ALL)"));
  EXPECT_FALSE(server_.sawCommand("SELECT"));
}

TEST_F(ImapMailboxCleanupTest, SearchAnsweredInsideTheSnapshotIsSeen) {
  // Dovecot 2.3 runs the pipelined UID FETCH and UID SEARCH at once: the ESEARCH line comes
  // between the FETCH lines, and the SEARCH's OK before the FETCH's.
  capabilities_ += " ESEARCH";
  std::optional<Command> fetch;
  override_ = [&](const Command& command) {
    if (command.text.starts_with("UID FETCH 1:*")) {
      fetch = command;
      return true;
    }
    if (!command.text.starts_with("UID SEARCH") || !fetch) return false;
    server_.send("* 1 FETCH (UID 3 RFC822.SIZE 14)\r\n* 2 FETCH (UID 4 RFC822.SIZE 14)\r\n");
    server_.send("* ESEARCH (TAG \"" + command.tag + "\") UID ALL 4\r\n");
    server_.send("* 3 FETCH (UID 5 RFC822.SIZE 14)\r\n* 4 FETCH (UID 9 RFC822.SIZE 14)\r\n");
    server_.reply(command, "OK Search completed.");
    server_.reply(*fetch, "OK Fetch completed.");
    return true;
  };
  auto result = open();
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_EQ(result.value().size(), 4u);
  EXPECT_TRUE(server_.sawCommand("UID STORE 4 -FLAGS.SILENT (\\Deleted $PopgateDeleting)"));
}

TEST_F(ImapMailboxCleanupTest, NothingMarkedWritesNothing) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  EXPECT_FALSE(server_.sawCommand("SELECT"));
  EXPECT_FALSE(server_.sawCommand("UID STORE"));
}

TEST_F(ImapMailboxCleanupTest, SearchRefusedStillOpens) {
  // A server that rejects the keyword as a search key has set none of ours.
  answerWith("UID SEARCH", "BAD Error in IMAP command UID SEARCH: Unknown argument");
  auto result = open();
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_EQ(result.value().size(), 4u);
  EXPECT_FALSE(server_.sawCommand("UID STORE"));
}

TEST_F(ImapMailboxCleanupTest, UnflagRefusedStillOpens) {
  interrupted_ = {3};
  answerWith("UID STORE", "NO Mailbox is read-only");
  auto result = open();
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_EQ(result.value().size(), 4u);
}

TEST_F(ImapMailboxCleanupTest, ConnectionLostWhileUnflaggingFailsTheOpen) {
  interrupted_ = {3};
  disconnectOn("UID STORE");
  auto result = open();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Temporary);
}

TEST_F(ImapMailboxCleanupTest, QuitMarksWithTheKeywordWhereKeywordsAreAllowed) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_TRUE(commit({5}));
  EXPECT_TRUE(server_.sawCommand("UID STORE 5 +FLAGS.SILENT (\\Deleted $PopgateDeleting)"));
}

TEST_F(ImapMailboxCleanupTest, WithoutKeywordsQuitMarksDeletedAlone) {
  ASSERT_NO_FATAL_FAILURE(openOk());
  selectWithoutKeywords();
  ASSERT_TRUE(commit({5}));
  EXPECT_TRUE(server_.sawCommand("UID STORE 5 +FLAGS.SILENT (\\Deleted)"));
  EXPECT_FALSE(server_.sawCommand("UID STORE 5 +FLAGS.SILENT (\\Deleted $"));
}

}  // namespace
}  // namespace popgate::imap::test
