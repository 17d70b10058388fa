// Read-ahead of sequential RETRs (ImapReadAhead through ImapMailbox): which FETCHes go out and
// when, that held messages come out byte-exact, and that whatever the session does next (a
// jump, TOP, QUIT, a vanished message, a server that sends more than it announced) gets the
// right bytes or the right error.

#include <gmock/gmock.h>

#include <algorithm>

#include "backends/imap/ImapMailboxFixture.h"
#include "backends/imap/ImapReadAhead.h"

namespace popgate::imap::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class ImapMailboxReadAheadTest : public ImapMailboxTest {
 protected:
  void SetUp() override {
    for (std::uint32_t uid = 1; uid <= 6; ++uid) {
      std::string body = "Subject: message " + std::to_string(uid) + "\r\n\r\n";
      for (std::uint32_t line = 0; line < uid * 3; ++line)
        body += ".line " + std::to_string(line) + "\r\n";
      messages_.push_back({uid * 10, body});
    }
  }

  std::vector<std::string> laterCommands() const {
    std::vector<std::string> texts = server_.commandTexts();
    texts.erase(texts.begin(), texts.begin() + 4);  // login, EXAMINE, SEARCH, FETCH
    return texts;
  }

  static std::string fetchOf(std::uint32_t uid) {
    return "UID FETCH " + std::to_string(uid) + " (BODY.PEEK[])";
  }

  // Retrieves `uid` whole and checks the bytes.
  void retrieveOk(std::uint32_t uid) {
    sink_.reset();
    Status status = retrieve(uid);
    ASSERT_TRUE(status) << status.error().detail;
    EXPECT_EQ(sink_.starts, 1);
    ASSERT_NE(message(uid), nullptr);
    EXPECT_EQ(sink_.data, *message(uid));
  }

  // Runs the loop until the server has seen `count` commands after the open sequence.
  void waitForCommands(std::size_t count) {
    ASSERT_TRUE(runner_.runUntil([&] { return laterCommands().size() >= count; }))
        << laterCommands().size();
  }
};

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

// Dovecot runs pipelined FETCHes in parallel: all untagged answers first, then the tagged
// completions. Each body must still reach its own message.
TEST_F(ImapMailboxReadAheadTest, InterleavedAnswersAreRoutedByUid) {
  std::vector<Command> held;
  override_ = [this, &held](const Command& command) {
    if (!command.text.ends_with("(BODY.PEEK[])") || command.text == fetchOf(10)) return false;
    held.push_back(command);
    if (command.text != fetchOf(60)) return true;
    std::string untagged, tagged;
    for (const Command& each : held) {
      std::uint32_t uid = static_cast<std::uint32_t>(std::stoul(each.text.substr(10)));
      const std::string& body = *message(uid);
      untagged += "* " + std::to_string(uid / 10) + " FETCH (UID " + std::to_string(uid) +
                  " BODY[] {" + std::to_string(body.size()) + "}\r\n" + body + ")\r\n";
      tagged += each.tag + " OK Fetch completed.\r\n";
    }
    held.clear();
    server_.send(untagged + tagged);
    return true;
  };
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  sink_.reset();
  startRetrieve(20);  // its FETCH and the read-ahead go out together; 60 ends the batch
  ASSERT_TRUE(runner_.runUntil([&] { return sink_.end.has_value(); }));
  ASSERT_TRUE(*sink_.end);
  EXPECT_EQ(sink_.data, *message(20));
  for (std::uint32_t uid = 30; uid <= 60; uid += 10) ASSERT_NO_FATAL_FAILURE(retrieveOk(uid));
}

TEST_F(ImapMailboxReadAheadTest, TopWaitsUntilDroppedReadAheadIsAnswered) {
  std::vector<Command> held;
  override_ = [&held](const Command& command) {
    if (command.text == fetchOf(30) || command.text == fetchOf(40)) {
      held.push_back(command);
      return true;
    }
    return false;
  };
  readAheadBytes_ = messages_[2].second.size() + messages_[3].second.size();
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  sink_.reset();
  startRetrieve(50, 0);
  runner_.runFor(std::chrono::milliseconds(20));
  EXPECT_EQ(laterCommands().size(), 4u) << "TOP went out while read-ahead was pending";
  EXPECT_FALSE(sink_.end);
  for (const Command& each : held) server_.reply(each, "OK Fetch completed.");
  ASSERT_TRUE(runner_.runUntil([&] { return sink_.end.has_value(); }));
  ASSERT_TRUE(*sink_.end);
  EXPECT_EQ(sink_.data, "Subject: message 5\r\n\r\n");
}

TEST_F(ImapMailboxReadAheadTest, NoReadAheadWhenTheServerNamesTheUidAfterTheBody) {
  override_ = [this](const Command& command) {
    if (!command.text.starts_with("UID FETCH ") || !command.text.ends_with("(BODY.PEEK[])"))
      return false;
    std::uint32_t uid = static_cast<std::uint32_t>(std::stoul(command.text.substr(10)));
    const std::string& body = *message(uid);
    server_.send("* " + std::to_string(uid / 10) + " FETCH (BODY[] {" +
                 std::to_string(body.size()) + "}\r\n" + body + " UID " + std::to_string(uid) +
                 ")\r\n");
    server_.reply(command, "OK Fetch completed.");
    return true;
  };
  ASSERT_NO_FATAL_FAILURE(openOk());
  for (std::uint32_t uid = 10; uid <= 40; uid += 10) ASSERT_NO_FATAL_FAILURE(retrieveOk(uid));
  EXPECT_THAT(laterCommands(), ElementsAre(fetchOf(10), fetchOf(20), fetchOf(30), fetchOf(40)));
}

// A server that named the UID first, then (for pipelined FETCHes) only after the body: no body
// may reach the wrong message, not even the one being sent to the client. What cannot be
// placed fails with a temporary error; a retry and everything after it work, one at a time.
TEST_F(ImapMailboxReadAheadTest, BodyWithoutUidAmongPipelinedFetchesIsNeverGuessed) {
  std::vector<Command> held;
  bool released = false;
  auto answer = [this](const Command& command) {
    std::uint32_t uid = static_cast<std::uint32_t>(std::stoul(command.text.substr(10)));
    const std::string& body = *message(uid);
    return std::pair{"* " + std::to_string(uid / 10) + " FETCH (BODY[] {" +
                         std::to_string(body.size()) + "}\r\n" + body + " UID " +
                         std::to_string(uid) + ")\r\n",
                     command.tag + " OK Fetch completed.\r\n"};
  };
  override_ = [&](const Command& command) {
    if (!command.text.ends_with("(BODY.PEEK[])") || command.text == fetchOf(10) ||
        command.text == fetchOf(20)) {
      return false;
    }
    if (!released) {
      held.push_back(command);
      return true;
    }
    auto [untagged, tagged] = answer(command);
    server_.send(untagged + tagged);
    return true;
  };
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));  // 30 to 60 go out behind it
  ASSERT_NO_FATAL_FAILURE(waitForCommands(6));
  sink_.reset();
  startRetrieve(30);  // attached to its pending FETCH before any answer
  runner_.runFor(std::chrono::milliseconds(10));
  released = true;
  std::string untagged, tagged;  // interleaved, as Dovecot answers pipelined FETCHes
  for (const Command& each : held) {
    auto [data, done] = answer(each);
    untagged += data;
    tagged += done;
  }
  server_.send(untagged + tagged);
  ASSERT_TRUE(runner_.runUntil([&] { return sink_.end.has_value(); }));
  if (*sink_.end) {
    EXPECT_EQ(sink_.data, *message(30));
  } else {
    EXPECT_EQ(sink_.end->error().code, ErrorCode::Temporary);
    EXPECT_TRUE(sink_.data.empty());
  }
  for (std::uint32_t uid = 30; uid <= 60; uid += 10) ASSERT_NO_FATAL_FAILURE(retrieveOk(uid));
}

// A sink that starts the next RETR from inside onBodyEnd, as a session does for a client that
// pipelines.
class ChainingSink final : public backends::BodySink {
 public:
  std::function<void()> next;
  std::string data;
  void onBodyStart() override {}
  void onBodyData(std::string_view bytes) override { data.append(bytes); }
  void onBodyEnd(Status) override {
    if (next) next();
  }
};

// The next RETR takes a fetched-ahead message in the middle of a read; the rest of that read
// brings more bytes than the snapshot announced before the held bytes are handed over. The
// message must be fetched again, not sent empty or cut.
TEST_F(ImapMailboxReadAheadTest, OverflowAfterTakeFetchesAgain) {
  std::vector<Command> held;
  std::string longer = *message(40) + "one more line\r\n";
  override_ = [&](const Command& command) {
    if (command.text != fetchOf(30) && command.text != fetchOf(40)) return false;
    if (held.size() < 2) {
      held.push_back(command);
      return true;
    }
    server_.send("* 4 FETCH (UID 40 BODY[] {" + std::to_string(longer.size()) + "}\r\n" + longer +
                 ")\r\n");
    server_.reply(command, "OK Fetch completed.");
    return true;
  };
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  ASSERT_NO_FATAL_FAILURE(waitForCommands(6));
  runner_.runFor(std::chrono::milliseconds(20));
  ASSERT_EQ(held.size(), 2u);
  MessageRef ref30{"30", ImapMailbox::uidl(30, kUidValidity), message(30)->size()};
  MessageRef ref40{"40", ImapMailbox::uidl(40, kUidValidity), message(40)->size()};
  ChainingSink first;
  sink_.reset();
  first.next = [&] { mailbox_->retrieve(ref40, std::nullopt, sink_); };
  mailbox_->retrieve(ref30, std::nullopt, first);
  runner_.runFor(std::chrono::milliseconds(10));
  server_.send("* 3 FETCH (UID 30 BODY[] {" + std::to_string(message(30)->size()) + "}\r\n" +
               *message(30) + ")\r\n" + held[0].tag + " OK Fetch completed.\r\n" +
               "* 4 FETCH (UID 40 BODY[] {" + std::to_string(longer.size()) + "}\r\n" + longer +
               ")\r\n" + held[1].tag + " OK Fetch completed.\r\n");
  ASSERT_TRUE(runner_.runUntil([&] { return sink_.end.has_value(); }));
  EXPECT_EQ(first.data, *message(30));
  ASSERT_TRUE(*sink_.end);
  EXPECT_EQ(sink_.data, longer);
  std::vector<std::string> texts = laterCommands();
  EXPECT_EQ(std::count(texts.begin(), texts.end(), fetchOf(40)), 2);
}

// Bodies sent as quoted strings, without UIDs, to pipelined FETCHes: never guessed either, not
// even into the message being sent to the client.
TEST_F(ImapMailboxReadAheadTest, QuotedBodyWithoutUidAmongPipelinedFetchesIsNeverGuessed) {
  for (std::size_t i = 2; i < messages_.size(); ++i) {
    messages_[i].second = "Subject: tiny " + std::to_string(messages_[i].first);
  }
  std::vector<Command> held;
  bool released = false;
  auto quoted = [this](const Command& command) {
    std::uint32_t uid = static_cast<std::uint32_t>(std::stoul(command.text.substr(10)));
    return "* " + std::to_string(uid / 10) + " FETCH (BODY[] \"" + *message(uid) + "\")\r\n";
  };
  override_ = [&](const Command& command) {
    if (!command.text.ends_with("(BODY.PEEK[])") || command.text == fetchOf(10) ||
        command.text == fetchOf(20)) {
      return false;
    }
    if (!released) {
      held.push_back(command);
      return true;
    }
    server_.send(quoted(command) + command.tag + " OK Fetch completed.\r\n");
    return true;
  };
  ASSERT_NO_FATAL_FAILURE(openOk());
  ASSERT_NO_FATAL_FAILURE(retrieveOk(10));
  ASSERT_NO_FATAL_FAILURE(retrieveOk(20));
  ASSERT_NO_FATAL_FAILURE(waitForCommands(6));
  sink_.reset();
  startRetrieve(30);  // attached to its pending FETCH before any answer
  runner_.runFor(std::chrono::milliseconds(10));
  released = true;
  std::string untagged, tagged;
  for (const Command& each : held) {
    untagged += quoted(each);
    tagged += each.tag + " OK Fetch completed.\r\n";
  }
  server_.send(untagged + tagged);
  ASSERT_TRUE(runner_.runUntil([&] { return sink_.end.has_value(); }));
  if (*sink_.end) {
    EXPECT_EQ(sink_.data, *message(30));
  } else {
    EXPECT_EQ(sink_.end->error().code, ErrorCode::Temporary);
    EXPECT_TRUE(sink_.data.empty());
  }
  for (std::uint32_t uid = 30; uid <= 60; uid += 10) ASSERT_NO_FATAL_FAILURE(retrieveOk(uid));
}

// A snapshot as ImapMailbox makes it: numbered by UID.
backends::MessageList numbered(const std::vector<std::pair<std::uint32_t, std::uint64_t>>& uids) {
  backends::MessageList list(
      [](std::string& out, std::uint32_t uid) { out += ImapMailbox::uidl(uid, kUidValidity); });
  for (const auto& [uid, size] : uids) list.append(uid, size);
  return list;
}

TEST(ImapReadAheadPlanTest, NothingAheadUntilTwoConsecutiveRetrs) {
  ImapReadAhead readAhead(1000);
  readAhead.setSnapshot(numbered({{1, 100}, {2, 100}, {5, 100}, {9, 100}}));
  EXPECT_THAT(readAhead.plan(2), IsEmpty());
  EXPECT_EQ(readAhead.take(5), nullptr);
  auto planned = readAhead.plan(5);
  ASSERT_EQ(planned.size(), 1u);
  EXPECT_EQ(planned[0]->uid, 9u);
  EXPECT_THAT(readAhead.plan(9), IsEmpty());  // the end of the mailbox
}

TEST(ImapReadAheadPlanTest, LargeMessageEndsTheReadAheadAndCountIsBounded) {
  ImapReadAhead readAhead(1000);
  std::vector<std::pair<std::uint32_t, std::uint64_t>> messages;
  for (std::uint32_t uid = 1; uid <= 20; ++uid) messages.emplace_back(uid, uid == 4 ? 5000 : 10);
  readAhead.setSnapshot(numbered(messages));
  readAhead.plan(1);
  EXPECT_EQ(readAhead.plan(2).size(), 1u);  // 3 only: 4 is larger than the budget
  EXPECT_NE(readAhead.take(3), nullptr);
  EXPECT_THAT(readAhead.plan(3), IsEmpty());  // 4 comes next, and does not fit
  EXPECT_EQ(readAhead.take(4), nullptr);
  EXPECT_EQ(readAhead.plan(4).size(), ImapReadAhead::kMaxMessagesAhead);  // 5 to 12
  EXPECT_NE(readAhead.take(5), nullptr);
  auto more = readAhead.plan(5);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0]->uid, 13u);
}

TEST(ImapReadAheadPlanTest, HoldRefusesMoreThanTheSnapshotSize) {
  BodyFetch fetch(7, 10);
  EXPECT_TRUE(fetch.hold("12345"));
  EXPECT_TRUE(fetch.hold("67890"));
  EXPECT_FALSE(fetch.hold("x"));
  EXPECT_TRUE(fetch.dropped);
  EXPECT_TRUE(fetch.held.empty());
}

}  // namespace
}  // namespace popgate::imap::test
