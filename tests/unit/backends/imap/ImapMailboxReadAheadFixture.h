#pragma once
// The fixture of the read-ahead tests: six messages of growing size (dot lines in each), and
// helpers that retrieve a message and check its bytes or wait for the FETCHes after the open.

#include <cstdint>
#include <string>
#include <vector>

#include "backends/imap/ImapMailboxFixture.h"

namespace popgate::imap::test {

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

}  // namespace popgate::imap::test
