// Session: AUTH with the challenge-response and bearer mechanisms (RFC 2195 CRAM-MD5, XOAUTH2,
// RFC 7628 OAUTHBEARER), the bearer error report, long SASL lines, and the listings (CAPA's SASL
// line, bare AUTH) as the authenticator's abilities and the TLS state allow.

#include "lib/common/Base64.h"
#include "proxy/pop3/SessionFixture.h"

namespace popgate::pop3 {
namespace {

using namespace std::string_literals;

std::string xoauth2(std::string_view user, std::string_view token) {
  return encodeBase64("user="s.append(user) + "\x01" + "auth=Bearer " + std::string(token) +
                      "\x01\x01");
}

std::string oauthBearer(std::string_view user, std::string_view token) {
  return encodeBase64("n,a="s.append(user) + ",\x01" + "host=mail.example.org\x01port=110\x01" +
                      "auth=Bearer " + std::string(token) + "\x01\x01");
}

class SessionSaslTest : public SessionTest {
 protected:
  // A session whose authenticator has `abilities`, with STLS offered and login before TLS
  // refused when `plainTextRefused`.
  void start(login::LoginAbilities abilities, bool plainTextRefused = false) {
    authenticator_.loginAbilities = abilities;
    SessionSettings settings;
    settings.hostname = "pop.example.org";
    settings.stlsAvailable = plainTextRefused;
    settings.authRequiresTls = plainTextRefused;
    restartWithGreeting(settings);  // with an APOP timestamp where CRAM-MD5 can be checked
  }

  // The CAPA reply's SASL line ("" when none) and the bare AUTH listing, one name per line.
  std::pair<std::string, std::string> listings() {
    session_->onInput("CAPA\r\n");
    std::string capa = sink_.take();
    std::size_t at = capa.find("\r\nSASL");
    std::string sasl =
        at == std::string::npos ? "" : capa.substr(at + 2, capa.find("\r\n", at + 2) - at - 2);
    session_->onInput("AUTH\r\n");
    return {sasl, sink_.take()};
  }

  const login::Proof& proof() { return authenticator_.requests.back().proof; }

  // The challenge the session sent, decoded ("+ " and CRLF removed).
  std::string challenge() {
    std::string line = sink_.take();
    EXPECT_EQ(line.substr(0, 2), "+ ");
    EXPECT_EQ(line.substr(line.size() - 2), "\r\n");
    return decodeBase64(line.substr(2, line.size() - 4)).value_or("<not base64>");
  }

  static constexpr login::LoginAbilities kAll{true, true, true};
  static constexpr login::LoginAbilities kTokens{false, false, true};
};

TEST_F(SessionSaslTest, ListingsFollowAbilitiesAndTls) {
  start(kAll);
  EXPECT_EQ(listings(), std::make_pair("SASL OAUTHBEARER XOAUTH2 CRAM-MD5 PLAIN LOGIN"s,
                                       "+OK\r\nOAUTHBEARER\r\nXOAUTH2\r\nCRAM-MD5\r\nPLAIN\r\n"
                                       "LOGIN\r\n.\r\n"s));
  start(kAll, true);  // before TLS: nothing reusable may cross the wire (RFC 2595 §2.1)
  EXPECT_EQ(listings(), std::make_pair("SASL CRAM-MD5"s, "+OK\r\nCRAM-MD5\r\n.\r\n"s));
  session_->onInput("STLS\r\n");
  EXPECT_EQ(sink_.take(), "+OK Begin TLS negotiation.\r\n");
  session_->onTlsEstablished();
  EXPECT_EQ(listings().first, "SASL OAUTHBEARER XOAUTH2 CRAM-MD5 PLAIN LOGIN");

  start(kTokens);
  EXPECT_EQ(listings(),
            std::make_pair("SASL OAUTHBEARER XOAUTH2"s, "+OK\r\nOAUTHBEARER\r\nXOAUTH2\r\n.\r\n"s));
  session_->onInput("CAPA\r\n");
  EXPECT_EQ(sink_.take().find("USER"), std::string::npos);  // no passwords: no USER either
  converse(R"(
    C: USER alice
    S: -ERR USER/PASS is not available here.
    C: AUTH PLAIN
    S: -ERR Unsupported authentication mechanism.
  )");
  start(kTokens, true);
  EXPECT_EQ(listings(), std::make_pair(""s, "-ERR Login requires TLS: use STLS first.\r\n"s));

  start({.passwords = true, .challengeResponse = true});
  EXPECT_EQ(listings().first, "SASL CRAM-MD5 PLAIN LOGIN");
  start({.passwords = true, .challengeResponse = true}, true);
  EXPECT_EQ(listings().first, "SASL CRAM-MD5");
  converse(R"(
    C: AUTH PLAIN
    S: -ERR Login requires TLS: use STLS first.
    C: AUTH XOAUTH2
    S: -ERR Unsupported authentication mechanism.
  )");
  start({.passwords = false});
  EXPECT_EQ(listings(), std::make_pair(""s, "-ERR No authentication mechanism is available.\r\n"s));
}

TEST_F(SessionSaslTest, CramMd5) {
  start(kAll, true);  // allowed before TLS
  session_->onInput("AUTH CRAM-MD5\r\n");
  std::string sent = challenge();
  EXPECT_EQ(sent.front(), '<');
  EXPECT_TRUE(sent.ends_with("@pop.example.org>")) << sent;
  session_->onInput(encodeBase64("alice B913A602C7EDA7A495B4E6E7334D3890") + "\r\n");
  ASSERT_EQ(authenticator_.logins, std::vector<std::string>{"alice"});
  const auto& cram = std::get<login::CramMd5Proof>(proof());
  EXPECT_EQ(cram.challenge, sent);
  EXPECT_EQ(cram.digest, "b913a602c7eda7a495b4e6e7334d3890");
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");

  start(kAll);
  session_->onInput("AUTH CRAM-MD5\r\n");
  EXPECT_NE(challenge(), sent);  // a fresh challenge per exchange
  converse(R"(
    C: YWxpY2U=
    S: -ERR [AUTH] Malformed CRAM-MD5 response.
    C: AUTH CRAM-MD5 YWxpY2U=
    S: -ERR [AUTH] CRAM-MD5 takes no initial response.
  )");
  EXPECT_EQ(authenticator_.logins.size(), 1u);
}

TEST_F(SessionSaslTest, XOAuth2WithInitialResponseAndWithAChallenge) {
  start(kTokens);
  session_->onInput("AUTH XOAUTH2 " + xoauth2("alice@example.org", "ya29.tok") + "\r\n");
  ASSERT_EQ(authenticator_.logins, std::vector<std::string>{"alice@example.org"});
  EXPECT_EQ(std::get<login::BearerProof>(proof()).token, "ya29.tok");
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");

  start(kTokens);
  converse(R"(
    C: AUTH xoauth2
    S: + 
  )");
  session_->onInput(xoauth2("bob", "t2") + "\r\n");
  ASSERT_EQ(authenticator_.logins.back(), "bob");
  EXPECT_EQ(std::get<login::BearerProof>(proof()).token, "t2");
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");
}

TEST_F(SessionSaslTest, OAuthBearerWithInitialResponseAndWithAChallenge) {
  start(kTokens);
  session_->onInput("AUTH OAUTHBEARER " + oauthBearer("alice", "tok==") + "\r\n");
  ASSERT_EQ(authenticator_.logins, std::vector<std::string>{"alice"});
  EXPECT_EQ(std::get<login::BearerProof>(proof()).token, "tok==");
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");

  start(kTokens);
  session_->onInput("AUTH OAUTHBEARER\r\n");
  EXPECT_EQ(sink_.take(), "+ \r\n");
  session_->onInput(encodeBase64("n,,\x01"
                                 "auth=Bearer t\x01\x01"s) +
                    "\r\n");
  EXPECT_EQ(sink_.take(), "-ERR [AUTH] OAUTHBEARER needs the user name (a=) here.\r\n");
  session_->onInput("AUTH OAUTHBEARER\r\n" + oauthBearer("bob", "t2") + "\r\n");
  EXPECT_EQ(sink_.take(), "+ \r\n");
  ASSERT_EQ(authenticator_.logins.back(), "bob");
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");
}

TEST_F(SessionSaslTest, RefusedTokenIsReportedInAChallengeFirst) {
  start(kTokens);
  authenticator_.failure = Error{ErrorCode::Auth, "token expired"};
  // OAUTHBEARER (RFC 7628 §3.2.2): the client answers the report with ^A.
  session_->onInput("AUTH OAUTHBEARER " + oauthBearer("alice", "old") + "\r\n");
  EXPECT_EQ(challenge(), R"({"status":"invalid_token"})");
  session_->onInput(encodeBase64("\x01") + "\r\n");
  EXPECT_EQ(sink_.take(), "-ERR [AUTH] Authentication failed.\r\n");
  // XOAUTH2 (Google's document): an empty line. And "*" (RFC 4422 §3.5's abort) ends it too.
  session_->onInput("AUTH XOAUTH2 " + xoauth2("alice", "old") + "\r\n");
  EXPECT_EQ(challenge(), R"({"status":"401","schemes":"bearer"})");
  converse(R"(
    C:
    S: -ERR [AUTH] Authentication failed.
    C: AUTH XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVyIHQBAQ==
    S: + eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=
    C: *
    S: -ERR [AUTH] Authentication failed.
  )");
  EXPECT_EQ(session_->state(), State::Authorization);
}

TEST_F(SessionSaslTest, TokenRefusedByTheStoreIsReportedToo) {
  start(kTokens);
  session_->onInput("AUTH XOAUTH2 " + xoauth2("alice", "t") + "\r\n");
  mailbox().completeOpen(Error{ErrorCode::Auth, "NO [AUTHENTICATIONFAILED]"});
  EXPECT_EQ(challenge(), R"({"status":"401","schemes":"bearer"})");
  converse(R"(
    C:
    S: -ERR [AUTH] Authentication failed.
  )");
}

TEST_F(SessionSaslTest, OtherFailuresAreAnsweredAtOnce) {
  start(kTokens);
  authenticator_.failure = Error{ErrorCode::Temporary, "token service down"};
  session_->onInput("AUTH OAUTHBEARER " + oauthBearer("alice", "t") + "\r\n");
  EXPECT_EQ(sink_.take(), "-ERR [SYS/TEMP] Cannot route this login.\r\n");
  // The next line is a command again, not a reply to a report.
  converse(R"(
    C: NOOP
    S: -ERR Log in first.
  )");
  // A password login's [AUTH] has no report either.
  start(kAll);
  authenticator_.failure = Error{ErrorCode::Auth, "no"};
  converse(R"(
    C: AUTH PLAIN AGFsaWNlAHB3
    S: -ERR [AUTH] Authentication failed.
  )");
}

TEST_F(SessionSaslTest, SaslLinesUpToTheBound) {
  authenticator_.loginAbilities = kTokens;
  SessionSettings settings;
  settings.maxSaslLine = 4096;
  restart(settings);
  // An AUTH line of exactly 4096 octets with its CRLF.
  std::string prefix = "AUTH XOAUTH2 ";
  std::string fixed = xoauth2("alice", "");
  std::string token(((4096 - prefix.size() - 2) / 4 * 3) - (fixed.size() / 4 * 3 - 2), 'T');
  std::string line = prefix + xoauth2("alice", token) + "\r\n";
  ASSERT_LE(line.size(), 4096u);
  ASSERT_GT(line.size(), 4090u);
  session_->onInput(line);
  ASSERT_EQ(authenticator_.logins, std::vector<std::string>{"alice"});
  EXPECT_EQ(std::get<login::BearerProof>(proof()).token, token);
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");

  // A response line: exactly at the bound, then one octet over.
  restart(settings);
  session_->onInput("AUTH XOAUTH2\r\n");
  EXPECT_EQ(sink_.take(), "+ \r\n");
  session_->onInput(std::string(4094, 'A') + "\r\n");  // at the bound: read (and not base64)
  EXPECT_EQ(sink_.take(), "-ERR Invalid base64 data.\r\n");
  session_->onInput("AUTH XOAUTH2\r\n");
  EXPECT_EQ(sink_.take(), "+ \r\n");
  session_->onInput(std::string(4095, 'A'));
  EXPECT_EQ(sink_.take(), "");  // could still end at the bound
  session_->onInput("A");
  EXPECT_EQ(sink_.take(), "-ERR Authentication line too long.\r\n");
  // The rest of the line is dropped unbuffered; the exchange is over.
  session_->onInput(std::string(100000, 'A') + "\r\nCAPA\r\n");
  EXPECT_EQ(sink_.take().substr(0, 4), "+OK ");
  session_->onInput(prefix + std::string(5000, 'A') + "\r\n");
  EXPECT_EQ(sink_.take(), "-ERR Command line too long.\r\n");
  EXPECT_EQ(authenticator_.logins.size(), 1u);
}

TEST_F(SessionSaslTest, CancelAndBadBase64) {
  start(kAll);
  session_->onInput("AUTH CRAM-MD5\r\n");
  challenge();
  converse(R"(
    C: *
    S: -ERR Authentication cancelled.
    C: AUTH OAUTHBEARER
    S: + 
    C: %%%
    S: -ERR Invalid base64 data.
    C: AUTH XOAUTH2 %%%
    S: -ERR Invalid base64 data.
  )");
  EXPECT_TRUE(authenticator_.logins.empty());
}

}  // namespace
}  // namespace popgate::pop3
