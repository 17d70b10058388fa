// Session: STLS (RFC 2595) and the auth_requires_tls policy.

#include "proxy/pop3/SessionFixture.h"

namespace popgate::pop3 {
namespace {

constexpr std::string_view kPlainCapaWithStls =
    "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
    "PIPELINING\r\nSTLS\r\nIMPLEMENTATION popgate\r\n.\r\n";
constexpr std::string_view kSecureCapa = kDefaultCapa;  // after STLS: USER and SASL again

class SessionStlsTest : public SessionTest {
 protected:
  SessionStlsTest() {
    SessionSettings settings;
    settings.stlsAvailable = true;
    settings.authRequiresTls = true;
    restart(settings);
  }
};

TEST_F(SessionStlsTest, PlainCapaOffersStlsButNotUser) {
  session_->onInput("CAPA\r\n");
  EXPECT_EQ(sink_.take(), kPlainCapaWithStls);
}

TEST_F(SessionStlsTest, LoginBeforeTlsIsRefused) {
  converse(R"(
    C: USER alice
    S: -ERR Login requires TLS: use STLS first.
    C: PASS secret
    S: -ERR Login requires TLS: use STLS first.
  )");
  EXPECT_EQ(authenticator_.logins.size(), 0u);
}

TEST_F(SessionStlsTest, StlsStartsTlsAndCapaIsReevaluated) {
  session_->onInput("STLS\r\n");
  EXPECT_EQ(sink_.take(), "+OK Begin TLS negotiation.\r\n");
  EXPECT_EQ(sink_.tlsStarts(), 1);
  session_->onTlsEstablished();
  session_->onInput("CAPA\r\n");
  EXPECT_EQ(sink_.take(), kSecureCapa);
  converse(R"(
    C: STLS
    S: -ERR TLS is already active.
  )");
  login();
}

TEST_F(SessionStlsTest, CommandsPipelinedBehindStlsAreDropped) {
  // CVE-2011-0411: plain-text bytes after STLS must never run, before or after the handshake.
  session_->onInput("STLS\r\nCAPA\r\nUSER x\r\n");
  EXPECT_EQ(sink_.take(), "+OK Begin TLS negotiation.\r\n");
  session_->onTlsEstablished();
  EXPECT_EQ(sink_.take(), "");
  session_->onInput("NOOP\r\n");
  EXPECT_EQ(sink_.take(), "-ERR Log in first.\r\n");
}

TEST_F(SessionStlsTest, InputBeforeTheHandshakeCompletesWaits) {
  session_->onInput("STLS\r\n");
  sink_.take();
  session_->onInput("CAPA\r\n");  // decrypted input can only follow the handshake; hold it
  EXPECT_EQ(sink_.take(), "");
  session_->onTlsEstablished();
  EXPECT_EQ(sink_.take(), kSecureCapa);
}

TEST_F(SessionStlsTest, StlsIsRefusedAfterLogin) {
  session_->onInput("STLS\r\n");
  session_->onTlsEstablished();
  sink_.take();
  login();
  converse(R"(
    C: STLS
    S: -ERR Command not valid in this state.
  )");
}

TEST_F(SessionTest, StlsWithoutACertificateIsRefused) {
  converse(R"(
    C: STLS
    S: -ERR STLS is not available here.
  )");
  EXPECT_EQ(sink_.tlsStarts(), 0);
}

TEST_F(SessionTest, ImplicitTlsSessionAllowsLoginAndOffersNoStls) {
  SessionSettings settings;
  settings.secure = true;
  settings.stlsAvailable = true;
  settings.authRequiresTls = true;
  restart(settings);
  session_->onInput("CAPA\r\n");
  EXPECT_EQ(sink_.take(), kSecureCapa);
  login();
}

}  // namespace
}  // namespace popgate::pop3
