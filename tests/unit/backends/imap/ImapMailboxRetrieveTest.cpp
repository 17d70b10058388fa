// ImapMailbox::retrieve: streaming literals and quoted bodies, missing messages, a server that
// dies mid-literal, TOP through header and text ranges, and back-pressure.

#include <gmock/gmock.h>

#include "backends/imap/ImapMailboxFixture.h"

namespace popgate::imap::test {
namespace {

using ::testing::ElementsAre;

class ImapMailboxRetrieveTest : public ImapMailboxTest {
 protected:
  void SetUp() override {
    messages_ = {{3, "Subject: three\r\n\r\nbody three\r\n"},
                 {7,
                  "From: a@example.org\r\nSubject: seven\r\n\r\n"
                  "line 1\r\nline 2\r\nline 3\r\n.dot line 4\r\nline 5\r\n"}};
    ASSERT_NO_FATAL_FAILURE(openOk());
  }

  // The commands the client sent after the open sequence.
  std::vector<std::string> laterCommands() const {
    std::vector<std::string> texts = server_.commandTexts();
    texts.erase(texts.begin(), texts.begin() + 4);  // login, EXAMINE, SEARCH, FETCH
    return texts;
  }

  // Answers the whole-message fetch of `uid` with `pieces`, one per millisecond.
  void answerSlowly(std::uint32_t uid, std::vector<std::string> pieces) {
    override_ = [this, uid, pieces](const Command& command) {
      if (command.text != "UID FETCH " + std::to_string(uid) + " (BODY.PEEK[])") return false;
      std::vector<std::string> all = pieces;
      all.back() += command.tag + " OK Fetch completed.\r\n";
      server_.sendSlowly(all, std::chrono::milliseconds(1));
      return true;
    };
  }
};

TEST_F(ImapMailboxRetrieveTest, WholeMessage) {
  Status status = retrieve(7);
  ASSERT_TRUE(status) << status.error().detail;
  EXPECT_EQ(sink_.starts, 1);
  EXPECT_EQ(sink_.data, messages_[1].second);
  EXPECT_THAT(laterCommands(), ElementsAre("UID FETCH 7 (BODY.PEEK[])"));
}

TEST_F(ImapMailboxRetrieveTest, LiteralSplitAcrossManyWrites) {
  std::string body;
  for (int i = 0; i < 40; ++i) body += "line " + std::to_string(i) + " ) p9 OK {3}\r\n";
  std::vector<std::string> pieces = {"* 2 FETCH (UID 7 BODY[] {" + std::to_string(body.size()) +
                                     "}\r\n"};
  for (std::size_t pos = 0; pos < body.size(); pos += 37) pieces.push_back(body.substr(pos, 37));
  pieces.push_back(")\r\n");
  answerSlowly(7, pieces);
  Status status = retrieve(7);
  ASSERT_TRUE(status) << status.error().detail;
  EXPECT_EQ(sink_.data, body);
  EXPECT_GT(sink_.chunks, 1);
}

// A long literal lets the kernel gather bytes before waking popgate (TcpStream's read batch);
// a server that then sends only a trickle must still see every byte passed on while the rest is
// outstanding, never held back until the batch fills or the command times out.
TEST_F(ImapMailboxRetrieveTest, TrickleInsideALongLiteralIsPassedOnAsItComes) {
  const std::size_t size = 3 * 1024 * 1024;
  std::string body;
  while (body.size() < size)
    body += "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijk\r\n";
  body.resize(size - 2);
  body += "\r\n";
  std::string tag;
  override_ = [&](const Command& command) {
    if (command.text != "UID FETCH 7 (BODY.PEEK[])") return false;
    tag = command.tag;
    server_.send("* 2 FETCH (UID 7 BODY[] {" + std::to_string(size) + "}\r\n" +
                 body.substr(0, 1000));
    return true;
  };
  startRetrieve(7);
  ASSERT_TRUE(runner_.runUntil([&] { return sink_.data.size() == 1000; }));
  // Now the stream is inside a literal with megabytes to come: the next 10 bytes alone.
  server_.send(body.substr(1000, 10));
  ASSERT_TRUE(runner_.runUntil([&] { return sink_.data.size() == 1010; }))
      << "held back: " << sink_.data.size();
  server_.send(body.substr(1010, 1024 * 1024));
  ASSERT_TRUE(runner_.runUntil([&] { return sink_.data.size() == 1010 + 1024 * 1024; }));
  server_.send(body.substr(1010 + 1024 * 1024) + ")\r\n" + tag + " OK Fetch completed.\r\n");
  ASSERT_TRUE(runner_.runUntil([&] { return sink_.end.has_value(); }));
  ASSERT_TRUE(*sink_.end);
  EXPECT_EQ(sink_.data, body);
}

TEST_F(ImapMailboxRetrieveTest, BodyAsQuotedString) {
  override_ = [this](const Command& command) {
    if (command.text != "UID FETCH 3 (BODY.PEEK[])") return false;
    server_.send("* 1 FETCH (UID 3 BODY[] \"Subject: \\\"quoted\\\" \\\\ body\")\r\n");
    server_.reply(command, "OK Fetch completed.");
    return true;
  };
  Status status = retrieve(3);
  ASSERT_TRUE(status) << status.error().detail;
  EXPECT_EQ(sink_.starts, 1);
  EXPECT_EQ(sink_.data, "Subject: \"quoted\" \\ body");
}

TEST_F(ImapMailboxRetrieveTest, MissingUidIsGone) {
  Status status = retrieve(99);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Gone);
  EXPECT_EQ(sink_.starts, 0);
  EXPECT_TRUE(sink_.data.empty());
}

TEST_F(ImapMailboxRetrieveTest, NilBodyIsGone) {
  override_ = [this](const Command& command) {
    if (command.text != "UID FETCH 3 (BODY.PEEK[])") return false;
    server_.send("* 1 FETCH (UID 3 BODY[] NIL)\r\n");
    server_.reply(command, "OK Fetch completed.");
    return true;
  };
  Status status = retrieve(3);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Gone);
  EXPECT_EQ(sink_.starts, 0);
}

TEST_F(ImapMailboxRetrieveTest, FetchBadIsAnError) {
  override_ = [this](const Command& command) {
    if (!command.text.starts_with("UID FETCH 3")) return false;
    server_.reply(command, "BAD Error in IMAP command UID FETCH: Invalid arguments.");
    return true;
  };
  Status status = retrieve(3);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Temporary);
  EXPECT_EQ(sink_.starts, 0);
}

TEST_F(ImapMailboxRetrieveTest, DisconnectMidLiteralEndsWithAnError) {
  override_ = [this](const Command& command) {
    if (command.text != "UID FETCH 7 (BODY.PEEK[])") return false;
    server_.send("* 2 FETCH (UID 7 BODY[] {100}\r\nFrom: a@example.org\r\n");
    server_.disconnect();
    return true;
  };
  Status status = retrieve(7);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Temporary);
  EXPECT_EQ(sink_.starts, 1);
  EXPECT_EQ(sink_.data, "From: a@example.org\r\n");
}

TEST_F(ImapMailboxRetrieveTest, SilenceMidLiteralTimesOut) {
  ASSERT_NO_FATAL_FAILURE(reopenWithShortTimeouts());
  override_ = [this](const Command& command) {
    if (command.text != "UID FETCH 7 (BODY.PEEK[])") return false;
    server_.send("* 2 FETCH (UID 7 BODY[] {100}\r\nFrom: a@example.org\r\n");
    return true;
  };
  Status status = retrieve(7);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Temporary);
  EXPECT_EQ(sink_.starts, 1);
}

TEST_F(ImapMailboxRetrieveTest, TopSendsHeaderThenFirstTextRangeAndCutsLines) {
  Status status = retrieve(7, 2);
  ASSERT_TRUE(status) << status.error().detail;
  EXPECT_EQ(sink_.data, "From: a@example.org\r\nSubject: seven\r\n\r\nline 1\r\nline 2\r\n");
  EXPECT_THAT(laterCommands(), ElementsAre("UID FETCH 7 (BODY.PEEK[HEADER])",
                                           "UID FETCH 7 (BODY.PEEK[TEXT]<0.16384>)"));
}

TEST_F(ImapMailboxRetrieveTest, TopZeroSendsOnlyTheHeader) {
  Status status = retrieve(7, 0);
  ASSERT_TRUE(status) << status.error().detail;
  EXPECT_EQ(sink_.data, "From: a@example.org\r\nSubject: seven\r\n\r\n");
  EXPECT_THAT(laterCommands(), ElementsAre("UID FETCH 7 (BODY.PEEK[HEADER])"));
}

TEST_F(ImapMailboxRetrieveTest, TopMoreLinesThanTheBodyHas) {
  Status status = retrieve(7, 100);
  ASSERT_TRUE(status) << status.error().detail;
  EXPECT_EQ(sink_.data, messages_[1].second);
}

TEST_F(ImapMailboxRetrieveTest, TopReadsGrowingRangesUntilEnoughLines) {
  std::string longLine(20000, 'x');
  messages_.push_back({9, "Subject: long\r\n\r\n" + longLine + "\r\nsecond\r\nthird\r\n"});
  Status status = retrieve(9, 2);
  ASSERT_TRUE(status) << status.error().detail;
  EXPECT_EQ(sink_.data, "Subject: long\r\n\r\n" + longLine + "\r\nsecond\r\n");
  EXPECT_THAT(laterCommands(), ElementsAre("UID FETCH 9 (BODY.PEEK[HEADER])",
                                           "UID FETCH 9 (BODY.PEEK[TEXT]<0.16384>)",
                                           "UID FETCH 9 (BODY.PEEK[TEXT]<16384.65536>)"));
}

// Courier-IMAP 5.0 on a message that is only a header (no blank line): BODY[HEADER] ends with
// the last line's CR, and BODY[TEXT] is one octet: the CR's LF, or (as Courier-IMAP 5.0.13
// really sends, tests/integration/test_stores.py) a CR. RETR (BODY[]) is the whole message.
class CourierHeaderOnlyTest : public ImapMailboxRetrieveTest,
                              public ::testing::WithParamInterface<char> {
 protected:
  static constexpr const char* kMessage =
      "From: a@example.org\r\nSubject: only a header\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n";
  void SetUp() override {
    ImapMailboxRetrieveTest::SetUp();
    messages_.push_back({11, kMessage});
    override_ = [this](const Command& command) {
      std::string message = kMessage;
      std::string header = message.substr(0, message.size() - 1);  // up to the lone CR
      if (command.text == "UID FETCH 11 (BODY.PEEK[HEADER])") {
        server_.send("* 3 FETCH (UID 11 BODY[HEADER] {" + std::to_string(header.size()) + "}\r\n" +
                     header + ")\r\n");
      } else if (command.text.starts_with("UID FETCH 11 (BODY.PEEK[TEXT]<0.")) {
        server_.send(std::string("* 3 FETCH (UID 11 BODY[TEXT]<0> {1}\r\n") + GetParam() + ")\r\n");
      } else {
        return false;
      }
      server_.reply(command, "OK FETCH completed.");
      return true;
    };
  }
};

TEST_P(CourierHeaderOnlyTest, TopIsAPrefixOfRetr) {
  ASSERT_TRUE(retrieve(11));
  std::string retr = sink_.data;
  EXPECT_EQ(retr, kMessage);
  for (std::uint32_t lines : {0u, 1u, 3u}) {
    sink_.reset();
    Status status = retrieve(11, lines);
    ASSERT_TRUE(status) << status.error().detail;
    EXPECT_EQ(sink_.data, retr) << "TOP 11 " << lines;  // never "...\r\r\n"
  }
}

TEST_P(CourierHeaderOnlyTest, TopZeroReadsTheTextsFirstOctetOnly) {
  ASSERT_TRUE(retrieve(11, 0));
  EXPECT_THAT(laterCommands(), ElementsAre("UID FETCH 11 (BODY.PEEK[HEADER])",
                                           "UID FETCH 11 (BODY.PEEK[TEXT]<0.1>)"));
}

INSTANTIATE_TEST_SUITE_P(SecondHalf, CourierHeaderOnlyTest, ::testing::Values('\n', '\r'));

TEST_F(ImapMailboxRetrieveTest, TopOfMissingUidIsGone) {
  Status status = retrieve(99, 3);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Gone);
  EXPECT_EQ(sink_.starts, 0);
  EXPECT_THAT(laterCommands(), ElementsAre("UID FETCH 99 (BODY.PEEK[HEADER])"));
}

TEST_F(ImapMailboxRetrieveTest, PauseBodyStopsReadingUntilResume) {
  ASSERT_NO_FATAL_FAILURE(reopenWithShortTimeouts());  // to run past the timeout while paused
  std::string body(64, 'a');
  for (char c = 'b'; c <= 'k'; ++c) body += std::string(64, c);
  std::vector<std::string> pieces = {"* 2 FETCH (UID 7 BODY[] {" + std::to_string(body.size()) +
                                     "}\r\n" + body.substr(0, 64)};
  for (std::size_t pos = 64; pos < body.size(); pos += 64) pieces.push_back(body.substr(pos, 64));
  pieces.push_back(")\r\n");
  answerSlowly(7, pieces);
  // Pieces that arrive together are read together (a slow build may read several at once):
  // what matters is that nothing more is read after the pause.
  std::string atPause;
  sink_.afterData = [&](std::string_view) {
    if (sink_.chunks != 1) return;
    mailbox_->pauseBody();
    atPause = sink_.data;
  };
  startRetrieve(7);
  ASSERT_TRUE(runner_.runUntil([&] { return sink_.chunks == 1; }));
  // The server sends everything within a few milliseconds; the paused client must neither read
  // it nor time out while the sink is congested.
  runner_.runFor(kShortTimeout + std::chrono::milliseconds(500));
  EXPECT_EQ(sink_.data, atPause);
  EXPECT_LT(atPause.size(), body.size());
  EXPECT_FALSE(sink_.end);
  resumeBody();
  ASSERT_TRUE(runner_.runUntil([&] { return sink_.end.has_value(); }));
  EXPECT_TRUE(*sink_.end);
  EXPECT_EQ(sink_.data, body);
}

TEST_F(ImapMailboxRetrieveTest, RetrievalsFollowOneAnother) {
  ASSERT_TRUE(retrieve(3));
  EXPECT_EQ(sink_.data, messages_[0].second);
  sink_.starts = 0;
  sink_.data.clear();
  sink_.end.reset();
  ASSERT_TRUE(retrieve(7, 1));
  EXPECT_EQ(sink_.data, "From: a@example.org\r\nSubject: seven\r\n\r\nline 1\r\n");
  sink_.starts = 0;
  sink_.data.clear();
  sink_.end.reset();
  ASSERT_TRUE(retrieve(7));
  EXPECT_EQ(sink_.data, messages_[1].second);
}

TEST_F(ImapMailboxRetrieveTest, RetrieveAfterTheServerLeftFailsLater) {
  server_.disconnect();
  ASSERT_TRUE(runner_.runUntil([&] { return server_.clientGone(); }));
  runner_.runFor(std::chrono::milliseconds(20));
  Status status = retrieve(3);  // the helper checks that onBodyEnd does not come from inside
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Temporary);
  EXPECT_EQ(sink_.starts, 0);
}

}  // namespace
}  // namespace popgate::imap::test
