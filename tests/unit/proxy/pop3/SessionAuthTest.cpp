// Session: AUTH (RFC 5034) with the mechanisms of the SASL table (PLAIN, RFC 4616, and LOGIN).

#include "lib/common/Base64.h"
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

TEST_F(SessionTest, AuthPlainWithInitialResponse) {
  session_->onInput("AUTH PLAIN " + plain("", "alice", "s e\"cret") + "\r\n");
  ASSERT_EQ(authenticator_.logins, std::vector<std::string>{"alice"});
  EXPECT_EQ(fakes::passwordOf(log().opens.back()), "s e\"cret");
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
  ASSERT_EQ(authenticator_.logins, std::vector<std::string>{"alice"});
  EXPECT_EQ(fakes::passwordOf(log().opens.back()), "pw");
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
  EXPECT_TRUE(authenticator_.logins.empty());
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
  EXPECT_TRUE(authenticator_.logins.empty());
}

}  // namespace
}  // namespace popgate::pop3
