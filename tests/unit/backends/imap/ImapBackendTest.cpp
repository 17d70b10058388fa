// The `type: imap` section's login key (token_mechanism) and newMailboxAt: a mailbox with the
// configured settings toward the server a login lookup names (auth_http's Auth-Server).

#include <gmock/gmock.h>

#include "backends/imap/ImapBackend.h"
#include "backends/imap/ImapMailboxFixture.h"

namespace popgate::imap::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class ImapBackendTest : public ImapMailboxTest {
 protected:
  std::shared_ptr<const backends::BackendDefinition> parse(const std::string& yaml) {
    config::ConfigReader reader(problems_, warnings_);
    return parseImapBackend(reader, YAML::Load(yaml), "store");
  }

  // Opens `mailbox` and waits for the outcome.
  Result<std::vector<MessageRef>> openThere(backends::Mailbox& mailbox,
                                            const backends::Credentials& credentials) {
    std::optional<Result<std::vector<MessageRef>>> outcome;
    mailbox.open(credentials,
                 [&](Result<backends::MessageList> result) { outcome = fakes::refsOf(result); });
    if (!runner_.runUntil([&] { return outcome.has_value(); })) {
      return Error{ErrorCode::Invalid, "test: open did not finish"};
    }
    return *outcome;
  }

  std::vector<config::ConfigProblem> problems_;
  std::vector<config::ConfigProblem> warnings_;
};

TEST_F(ImapBackendTest, TokenMechanismTakesThreeValues) {
  for (const char* value : {"auto", "xoauth2", "oauthbearer"}) {
    parse(std::string("type: imap\nhost: imap.example.org\ntoken_mechanism: ") + value);
    EXPECT_TRUE(problems_.empty()) << value;
  }
  parse("type: imap\nhost: imap.example.org\ntoken_mechanism: scram-sha-1\n");
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].line, 3);
  EXPECT_THAT(problems_[0].message, HasSubstr("token_mechanism must be auto, xoauth2 or"));
}

TEST_F(ImapBackendTest, NewMailboxAtReachesTheNamedServerWithTheSameSettings) {
  // The configured host is unreachable (TEST-NET-1): only the named server can answer.
  auto definition = parse(
      "type: imap\nhost: 192.0.2.1\nport: 1\nconnect_timeout_s: 5\n"
      "token_mechanism: xoauth2\nuidl_format: cyrus\n");
  ASSERT_TRUE(problems_.empty()) << problems_[0].message;
  server_.setGreeting("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER] ready.");
  messages_ = {{7, "Subject: x\r\n\r\nbody\r\n"}};
  std::unique_ptr<backends::Backend> backend = definition->instantiate(runner_.loop());
  std::unique_ptr<backends::Mailbox> mailbox =
      backend->newMailboxAt("127.0.0.1", static_cast<std::uint16_t>(server_.port()));
  ASSERT_TRUE(mailbox);
  auto result = openThere(*mailbox, {"alice", backends::TokenCredential{"ya29.tok"}});
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_EQ(server_.connections(), 1);
  // token_mechanism and uidl_format came along (Cyrus: "<uidvalidity>.<uid>").
  EXPECT_THAT(server_.received(), StartsWith("p1 AUTHENTICATE XOAUTH2 "));
  ASSERT_EQ(result.value().size(), 1u);
  EXPECT_EQ(result.value()[0].uidl, std::to_string(kUidValidity) + ".7");
  mailbox.reset();
}

TEST(BackendNewMailboxAt, DefaultIsThatAKindCannotBePointedElsewhere) {
  class Fixed final : public backends::Backend {
   public:
    std::unique_ptr<backends::Mailbox> newMailbox() override { return nullptr; }
  };
  Fixed fixed;
  EXPECT_EQ(fixed.newMailboxAt("imap2.example.org", 143), nullptr);
}

}  // namespace
}  // namespace popgate::imap::test
