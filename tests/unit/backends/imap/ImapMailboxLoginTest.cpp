// How ImapMailbox logs in, as byte transcripts of what the client sent (tags p1, p2, ...): SASL
// PLAIN with SASL-IR (RFC 4959) or after "+", LOGIN as the fallback, a master user as PLAIN's
// authentication identity, XOAUTH2 and OAUTHBEARER (RFC 7628) with their error challenge, and
// what each refusal means.

#include <gmock/gmock.h>

#include "backends/imap/ImapLogin.h"
#include "backends/imap/ImapMailboxFixture.h"
#include "lib/common/Base64.h"

namespace popgate::imap::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// base64("\0alice\0secret") and base64("alice\0popgate-master\0pw").
constexpr const char* kAlicePlain = "AGFsaWNlAHNlY3JldA==";
constexpr const char* kMasterPlain = "YWxpY2UAcG9wZ2F0ZS1tYXN0ZXIAcHc=";
// base64("user=alice\x01" "auth=Bearer ya29.tok\x01\x01").
constexpr const char* kAliceXoauth2 = "dXNlcj1hbGljZQFhdXRoPUJlYXJlciB5YTI5LnRvawEB";
// base64 of the JSON an OAuth2 server sends before its NO (RFC 7628 §3.2.2).
constexpr const char* kInvalidToken =
    "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NoZW1lcyI6ImJlYXJlciIsInNjb3BlIjoibWFpbCJ9";

const backends::Credentials kMaster{"alice", backends::MasterCredential{"popgate-master", "pw"}};
const backends::Credentials kToken{"alice", backends::TokenCredential{"ya29.tok"}};

class ImapMailboxLoginTest : public ImapMailboxTest {
 protected:
  void greetWith(const std::string& capabilities) {
    server_.setGreeting("* OK [CAPABILITY " + capabilities + "] ready.");
  }
  // After the login, EXAMINE is the next command the client sends.
  static std::string then() { return "p2 EXAMINE \"INBOX\"\r\n"; }
  // The client's SASL lines arrive as a tag without text: answer the pending AUTHENTICATE.
  void answerChallengeResponseWith(std::string tagged) {
    override_ = [this, tagged, pending = std::string()](const Command& command) mutable {
      if (command.text.starts_with("AUTHENTICATE ")) {
        pending = command.tag;
        server_.send(std::string("+ ") + kInvalidToken + "\r\n");
        return true;
      }
      if (pending.empty() || !command.text.empty()) return false;
      server_.reply(Command{std::exchange(pending, {}), ""}, tagged);
      return true;
    };
  }
  std::string oauthBearer() const {
    return encodeBase64("n,a=alice,\x01host=127.0.0.1\x01port=" + std::to_string(server_.port()) +
                        "\x01"
                        "auth=Bearer ya29.tok\x01\x01");
  }
};

TEST_F(ImapMailboxLoginTest, PasswordWithSaslIrGoesOnTheCommandLine) {
  ASSERT_NO_FATAL_FAILURE(openOk());  // the fixture's Dovecot greeting: SASL-IR AUTH=PLAIN
  EXPECT_THAT(server_.received(),
              StartsWith(std::string("p1 AUTHENTICATE PLAIN ") + kAlicePlain + "\r\n" + then()));
}

TEST_F(ImapMailboxLoginTest, PasswordWithoutSaslIrButLoginDisabledWaitsForTheContinuation) {
  greetWith("IMAP4rev1 LOGINDISABLED AUTH=PLAIN");
  ASSERT_NO_FATAL_FAILURE(openOk());
  EXPECT_THAT(server_.received(),
              StartsWith(std::string("p1 AUTHENTICATE PLAIN\r\n") + kAlicePlain + "\r\n" + then()));
}

TEST_F(ImapMailboxLoginTest, PasswordWithoutSaslIrUsesLogin) {
  greetWith("IMAP4rev1 AUTH=PLAIN");
  ASSERT_NO_FATAL_FAILURE(openOk());
  EXPECT_THAT(server_.received(), StartsWith("p1 LOGIN \"alice\" \"secret\"\r\n" + then()));
}

TEST_F(ImapMailboxLoginTest, PasswordWithLoginDisabledAndNoPlainIsPermanent) {
  greetWith("IMAP4rev1 LOGINDISABLED AUTH=GSSAPI SASL-IR");
  auto result = open();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Permanent);
  EXPECT_TRUE(server_.commands().empty());
}

TEST_F(ImapMailboxLoginTest, NothingGoesOutBeforeTheContinuationNorBeforeTheTaggedOk) {
  greetWith("IMAP4rev1 AUTH=PLAIN LOGINDISABLED");
  std::optional<Command> authenticate;
  override_ = [&](const Command& command) {
    if (!command.text.starts_with("AUTHENTICATE")) return false;
    authenticate = command;
    return true;
  };
  startOpen();
  ASSERT_TRUE(runner_.runUntil([&] { return authenticate.has_value(); }));
  runner_.runFor(std::chrono::milliseconds(50));
  EXPECT_EQ(server_.received(), "p1 AUTHENTICATE PLAIN\r\n");
  override_ = nullptr;
  saslTag_ = authenticate->tag;
  server_.send("+\r\n");  // a bare "+" (no space) is an empty challenge too
  ASSERT_TRUE(runner_.runUntil([&] { return opened_.has_value(); }));
  EXPECT_TRUE(*opened_);
  EXPECT_THAT(server_.received(),
              StartsWith(std::string("p1 AUTHENTICATE PLAIN\r\n") + kAlicePlain + "\r\n" + then()));
}

TEST_F(ImapMailboxLoginTest, MasterUserIsPlainsAuthenticationIdentity) {
  auto result = open(kMaster);
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_THAT(server_.received(),
              StartsWith(std::string("p1 AUTHENTICATE PLAIN ") + kMasterPlain + "\r\n" + then()));
}

TEST_F(ImapMailboxLoginTest, MasterUserWithoutSaslIrAfterTheContinuation) {
  greetWith("IMAP4rev1 AUTH=PLAIN");  // LOGIN would be possible, but has no authzid
  auto result = open(kMaster);
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_THAT(server_.received(), StartsWith(std::string("p1 AUTHENTICATE PLAIN\r\n") +
                                             kMasterPlain + "\r\n" + then()));
}

TEST_F(ImapMailboxLoginTest, MasterUserNeedsAuthPlain) {
  greetWith("IMAP4rev1 SASL-IR AUTH=XOAUTH2");
  auto result = open(kMaster);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Permanent);
  EXPECT_TRUE(server_.commands().empty());
}

TEST_F(ImapMailboxLoginTest, MasterUserNotAllowedForThatUserIsAuth) {
  loginReply_ = "NO [AUTHORIZATIONFAILED] Authorization failed";
  auto result = open(kMaster);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Auth);
  EXPECT_EQ(result.error().detail, "Authorization failed");
}

TEST_F(ImapMailboxLoginTest, TokenAutoTakesXoauth2WhenNoOauthbearer) {
  greetWith("IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2");
  auto result = open(kToken);
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_THAT(server_.received(), StartsWith(std::string("p1 AUTHENTICATE XOAUTH2 ") +
                                             kAliceXoauth2 + "\r\n" + then()));
}

TEST_F(ImapMailboxLoginTest, TokenAutoPrefersOauthbearer) {
  greetWith("IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER");
  auto result = open(kToken);
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_THAT(server_.received(),
              StartsWith("p1 AUTHENTICATE OAUTHBEARER " + oauthBearer() + "\r\n" + then()));
}

TEST_F(ImapMailboxLoginTest, TokenMechanismSettingWins) {
  greetWith("IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER");
  tokenMechanism_ = TokenMechanism::XOAuth2;
  auto result = open(kToken);
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_THAT(server_.received(), StartsWith(std::string("p1 AUTHENTICATE XOAUTH2 ")));
}

TEST_F(ImapMailboxLoginTest, ConfiguredMechanismNotOfferedIsPermanent) {
  greetWith("IMAP4rev1 SASL-IR AUTH=XOAUTH2");
  tokenMechanism_ = TokenMechanism::OAuthBearer;
  auto result = open(kToken);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Permanent);
  EXPECT_TRUE(server_.commands().empty());
}

TEST_F(ImapMailboxLoginTest, TokenWithoutSaslIrAfterTheContinuation) {
  greetWith("IMAP4rev1 AUTH=OAUTHBEARER");
  auto result = open(kToken);
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_THAT(server_.received(),
              StartsWith("p1 AUTHENTICATE OAUTHBEARER\r\n" + oauthBearer() + "\r\n" + then()));
}

TEST_F(ImapMailboxLoginTest, OauthbearerErrorChallengeGetsTheDummyResponse) {
  greetWith("IMAP4rev1 SASL-IR AUTH=OAUTHBEARER");
  answerChallengeResponseWith("NO [AUTHENTICATIONFAILED] Authentication failed.");
  auto result = open(kToken);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Auth);
  // RFC 7628 §3.2.3: the client answers the error with a single %x01.
  EXPECT_EQ(server_.received(), "p1 AUTHENTICATE OAUTHBEARER " + oauthBearer() + "\r\nAQ==\r\n");
  EXPECT_EQ(result.error().detail,
            "Authentication failed. "
            R"(({"status":"invalid_token","schemes":"bearer","scope":"mail"}))");
}

TEST_F(ImapMailboxLoginTest, Xoauth2ErrorChallengeGetsAnEmptyLine) {
  greetWith("IMAP4rev1 SASL-IR AUTH=XOAUTH2");
  answerChallengeResponseWith("NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)");
  auto result = open(kToken);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Auth);
  EXPECT_EQ(server_.received(),
            std::string("p1 AUTHENTICATE XOAUTH2 ") + kAliceXoauth2 + "\r\n\r\n");
  EXPECT_THAT(result.error().detail, HasSubstr(R"("status":"invalid_token")"));
}

TEST_F(ImapMailboxLoginTest, ChallengeBytesAreEscapedInTheDetail) {
  greetWith("IMAP4rev1 SASL-IR AUTH=XOAUTH2");
  override_ = [this, pending = std::string()](const Command& command) mutable {
    if (command.text.starts_with("AUTHENTICATE ")) {
      pending = command.tag;
      server_.send("+ " + encodeBase64("{\"status\":\"x\x1b[31m\r\nforged\"}") + "\r\n");
      return true;
    }
    if (pending.empty()) return false;
    server_.reply(Command{std::exchange(pending, {}), ""}, "NO failed");
    return true;
  };
  auto result = open(kToken);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().detail, R"(failed ({"status":"x\x1b[31m\x0d\x0aforged"}))");
}

TEST_F(ImapMailboxLoginTest, PlainGetsNoSecondChallengeAndCancels) {
  // PLAIN has one step (RFC 4616): a further "+" is answered with "*" (RFC 3501 §6.2.2).
  answerChallengeResponseWith("BAD AUTHENTICATE cancelled");
  auto result = open();
  ASSERT_FALSE(result);
  EXPECT_EQ(server_.received(), std::string("p1 AUTHENTICATE PLAIN ") + kAlicePlain + "\r\n*\r\n");
}

TEST_F(ImapMailboxLoginTest, UnavailableAndServerbugAreTemporary) {
  for (const char* code : {"UNAVAILABLE", "SERVERBUG"}) {
    for (const backends::Credentials& credentials :
         {backends::Credentials{"alice", backends::PasswordCredential{"secret"}}, kMaster}) {
      mailbox_.reset();
      opened_.reset();
      loginReply_ = std::string("NO [") + code + "] Temporary authentication failure.";
      auto result = open(credentials);
      ASSERT_FALSE(result);
      EXPECT_EQ(result.error().code, ErrorCode::Temporary) << code;
    }
  }
}

TEST_F(ImapMailboxLoginTest, WrongTokenIsAuth) {
  greetWith("IMAP4rev1 SASL-IR AUTH=XOAUTH2");
  loginReply_ = "NO [AUTHENTICATIONFAILED] Authentication failed.";
  auto result = open(kToken);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Auth);
}

TEST(ImapLoginMessages, AsTheSpecificationsSpellThem) {
  using namespace std::string_literals;
  EXPECT_EQ(saslPlainMessage("", "alice", "pw"), "\0alice\0pw"s);
  EXPECT_EQ(saslPlainMessage("alice", "master", "pw"), "alice\0master\0pw"s);
  EXPECT_EQ(xoauth2Message("a@b.c", "t"),
            "user=a@b.c\x01"
            "auth=Bearer t\x01\x01"s);
  // RFC 7628 §4.1's example, and RFC 5801 saslname escapes for "," and "=".
  EXPECT_EQ(oauthBearerMessage("user@example.com", "server.example.com", 143, "vF9dft4qmT"),
            "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
            "auth=Bearer vF9dft4qmT\x01\x01"s);
  EXPECT_EQ(oauthBearerMessage("a,b=c", "h", 993, "t").substr(0, 14), "n,a=a=2Cb=3Dc,");
}

}  // namespace
}  // namespace popgate::imap::test
