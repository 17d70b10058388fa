// Session: AUTH (RFC 5034) with PLAIN (RFC 4616) and LOGIN, and the SASL helpers.

#include "proxy/pop3/Sasl.h"
#include "proxy/pop3/SessionFixture.h"

namespace popgate::pop3 {
namespace {

std::string plain(std::string_view authzid, std::string_view user, std::string_view password) {
  std::string message(authzid);
  message.push_back('\0');
  message.append(user).push_back('\0');
  message.append(password);
  return encodeBase64(message);
}

TEST(SaslTest, Base64RoundTripAndStrictness) {
  EXPECT_EQ(encodeBase64("Username:"), "VXNlcm5hbWU6");
  EXPECT_EQ(decodeBase64("UGFzc3dvcmQ6"), std::optional<std::string>("Password:"));
  EXPECT_EQ(decodeBase64(""), std::optional<std::string>(""));
  EXPECT_FALSE(decodeBase64("not base64!"));
  EXPECT_FALSE(decodeBase64("QQ"));  // padding required
}

TEST(SaslTest, PlainMessage) {
  auto parsed = parsePlain(std::string("\0alice\0p w\xc3\xa4", 12));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->authzid, "");
  EXPECT_EQ(parsed->authcid, "alice");
  EXPECT_EQ(parsed->password, "p w\xc3\xa4");
  EXPECT_FALSE(parsePlain("alice"));
  EXPECT_FALSE(parsePlain(std::string("\0\0pw", 4)));     // no authcid
  EXPECT_FALSE(parsePlain(std::string("\0a\0p\0q", 6)));  // NUL in the password
}

TEST_F(SessionTest, AuthPlainWithInitialResponse) {
  session_->onInput("AUTH PLAIN " + plain("", "alice", "s e\"cret") + "\r\n");
  ASSERT_EQ(directory_.logins, std::vector<std::string>{"alice"});
  EXPECT_EQ(log().opens.back().password, "s e\"cret");
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");
  EXPECT_EQ(session_->state(), State::Transaction);
}

TEST_F(SessionTest, AuthPlainWithContinuation) {
  session_->onInput("auth plain\r\n");
  EXPECT_EQ(sink_.take(), "+ \r\n");
  session_->onInput(plain("alice", "alice", "pw") + "\r\n");  // authzid = authcid is fine
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");
}

TEST_F(SessionTest, AuthLoginAsksForNameThenPassword) {
  converse(R"(
    C: AUTH LOGIN
    S: + VXNlcm5hbWU6
    C: YWxpY2U=
    S: + UGFzc3dvcmQ6
  )");
  session_->onInput(encodeBase64("pw") + "\r\n");
  ASSERT_EQ(directory_.logins, std::vector<std::string>{"alice"});
  EXPECT_EQ(log().opens.back().password, "pw");
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");
}

TEST_F(SessionTest, AuthFailuresAndCancel) {
  converse(R"(
    C: AUTH PLAIN
    S: + 
    C: *
    S: -ERR Authentication cancelled.
    C: AUTH PLAIN !!!
    S: -ERR Invalid base64 data.
    C: AUTH CRAM-MD5
    S: -ERR Unsupported authentication mechanism.
    C: AUTH
    S: +OK
    S: PLAIN
    S: LOGIN
    S: .
  )");
  session_->onInput("AUTH PLAIN " + plain("admin", "alice", "pw") + "\r\n");
  EXPECT_EQ(sink_.take(), "-ERR [AUTH] Authorization identities are not supported.\r\n");
  EXPECT_TRUE(directory_.logins.empty());
  session_->onInput("AUTH PLAIN " + plain("", "alice", "wrong") + "\r\n");
  mailbox().completeOpen(Error{ErrorCode::Auth, "no"});
  EXPECT_EQ(sink_.take(), "-ERR [AUTH] Authentication failed.\r\n");
  EXPECT_EQ(session_->state(), State::Authorization);
}

TEST_F(SessionTest, AuthIsRefusedBeforeTlsWhenRequired) {
  SessionSettings settings;
  settings.stlsAvailable = true;
  settings.authRequiresTls = true;
  restart(settings);
  session_->onInput("AUTH PLAIN " + plain("", "alice", "pw") + "\r\n");
  EXPECT_EQ(sink_.take(), "-ERR Login requires TLS: use STLS first.\r\n");
  EXPECT_TRUE(directory_.logins.empty());
}

}  // namespace
}  // namespace popgate::pop3
