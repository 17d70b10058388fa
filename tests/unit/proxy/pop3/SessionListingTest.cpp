// Session: LIST and UIDL of a large mailbox go out in slices as the client takes them
// (issue 13, huge mailboxes), and stay byte for byte what RFC 1939 §5 says.

#include "proxy/pop3/SessionFixture.h"

namespace popgate::pop3 {
namespace {

class SessionListingTest : public SessionTest {
 protected:
  static constexpr std::size_t kMessages = 5000;

  void SetUp() override {
    std::vector<backends::MessageRef> messages;
    for (std::size_t i = 1; i <= kMessages; ++i) {
      messages.push_back(
          fakes::message("id" + std::to_string(i), "uidl-" + std::to_string(i), 1000 + i));
    }
    login(std::move(messages));
  }

  // The whole reply, message `skip` left out (0: none).
  static std::string listing(bool uidl, std::size_t skip = 0) {
    std::string out =
        uidl ? "+OK\r\n" : "+OK " + std::to_string(kMessages - (skip ? 1 : 0)) + " messages:\r\n";
    for (std::size_t i = 1; i <= kMessages; ++i) {
      if (i == skip) continue;
      out += std::to_string(i) + " " +
             (uidl ? "uidl-" + std::to_string(i) : std::to_string(1000 + i)) + "\r\n";
    }
    return out + ".\r\n";
  }
};

TEST_F(SessionListingTest, ListWaitsForTheClientBetweenSlices) {
  sink_.congestAfter(2);  // the +OK line and one slice
  session_->onInput("LIST\r\nNOOP\r\n");
  std::string first = sink_.take();
  EXPECT_GT(first.size(), 16u * 1024);
  EXPECT_LT(first.size(), 20u * 1024) << "one slice, then it waits for the drain";
  EXPECT_EQ(listing(false).substr(0, first.size()), first);

  std::string rest;
  int drains = 0;
  for (; drains < 100 && rest.find("+OK\r\n") == std::string::npos; ++drains) {
    sink_.congestAfter(1);
    session_->onDrained();
    rest += sink_.take();
  }
  EXPECT_GT(drains, 1);
  EXPECT_EQ(first + rest, listing(false) + "+OK\r\n") << "the NOOP waits for the listing";
}

TEST_F(SessionListingTest, UidlSkipsDeletedMessagesInOneGoWhenTheClientKeepsUp) {
  session_->onInput("DELE 4000\r\n");
  EXPECT_EQ(sink_.take(), "+OK Marked to be deleted.\r\n");
  int before = sink_.sends();
  session_->onInput("UIDL\r\nLIST\r\n");
  EXPECT_EQ(sink_.take(), listing(true, 4000) + listing(false, 4000));
  EXPECT_GT(sink_.sends() - before, 4) << "in slices, not one string";
}

TEST_F(SessionListingTest, ClientGoneQuietMidListingIsClosedWithoutAnError) {
  sink_.congestAfter(2);
  session_->onInput("UIDL\r\n");
  std::string first = sink_.take();
  session_->onIdleTimeout();
  EXPECT_EQ(sink_.take(), "") << "an -ERR inside the listing would read as a line of it";
  EXPECT_TRUE(sink_.closed());
  EXPECT_EQ(first.find(".\r\n"), std::string::npos);
}

}  // namespace
}  // namespace popgate::pop3
