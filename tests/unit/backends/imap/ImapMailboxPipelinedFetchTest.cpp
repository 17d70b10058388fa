// Read-ahead with pipelined FETCHes whose answers come interleaved, without their UID, as quoted
// strings or longer than announced: each body reaches its own message or fails cleanly, never
// the wrong one.

#include <gmock/gmock.h>

#include <algorithm>
#include <functional>

#include "backends/imap/ImapMailboxReadAheadFixture.h"

namespace popgate::imap::test {
namespace {

using ::testing::ElementsAre;

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

}  // namespace
}  // namespace popgate::imap::test
