// Session: APOP (RFC 1939 §7), CAPA's LOGIN-DELAY and EXPIRE (RFC 2449 §6.5, §6.7) before and
// after login, and an authenticator's own -ERR line (Error::reply).

#include <set>

#include "proxy/pop3/Apop.h"
#include "proxy/pop3/SessionFixture.h"

namespace popgate::pop3 {
namespace {

using namespace std::string_literals;

constexpr std::string_view kDigest = "c4c9334bac560ecc979e58001b3e22fb";

class SessionApopTest : public SessionTest {
 protected:
  // A session with APOP on; returns the greeting's timestamp.
  std::string startWithApop(SessionSettings settings = {}) {
    authenticator_.loginAbilities.challengeResponse = true;
    std::string greeting = restartWithGreeting(std::move(settings));
    std::string prefix = "+OK POP3 gateway ready. <";
    EXPECT_EQ(greeting.substr(0, prefix.size()), prefix) << greeting;
    EXPECT_TRUE(greeting.ends_with(">\r\n")) << greeting;
    return greeting.substr(prefix.size() - 1, greeting.size() - prefix.size() - 1);
  }
};

TEST(ApopTest, TimestampAndArguments) {
  EXPECT_EQ(formatApopTimestamp(1896, 7, 697170952, "dbc.mtview.ca.us"),
            "<1896.7.697170952@dbc.mtview.ca.us>");
  EXPECT_NE(nextApopTimestamp("h"), nextApopTimestamp("h"));
  auto parsed = parseApopArguments("mrose C4C9334BAC560ECC979E58001B3E22FB");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->name, "mrose");
  EXPECT_EQ(parsed->digest, kDigest);
  EXPECT_EQ(parseApopArguments("john smith "s + std::string(kDigest))->name, "john smith");
  EXPECT_FALSE(parseApopArguments(kDigest));
  EXPECT_FALSE(parseApopArguments("mrose"));
  EXPECT_FALSE(parseApopArguments("mrose c4c9334bac560ecc979e58001b3e22f"));
  EXPECT_FALSE(parseApopArguments("mrose c4c9334bac560ecc979e58001b3e22fbb"));
  EXPECT_FALSE(parseApopArguments("mrose x4c9334bac560ecc979e58001b3e22fb"));
  EXPECT_FALSE(parseApopArguments(""));
}

TEST_F(SessionApopTest, NoTimestampWithoutTheAbility) {
  // The fixture's sessions greet without one (restart() checks the exact line).
  converse(R"(
    C: APOP mrose c4c9334bac560ecc979e58001b3e22fb
    S: -ERR APOP is not available.
  )");
  EXPECT_TRUE(authenticator_.logins.empty());
}

TEST_F(SessionApopTest, TimestampIsUniquePerConnection) {
  SessionSettings settings;
  settings.hostname = "pop.example.org";
  std::set<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    std::string timestamp = startWithApop(settings);
    EXPECT_TRUE(timestamp.ends_with("@pop.example.org>")) << timestamp;
    EXPECT_TRUE(seen.insert(timestamp).second) << timestamp;
  }
}

TEST_F(SessionApopTest, ApopLogsInWithTheTimestampAndDigest) {
  std::string timestamp = startWithApop();
  session_->onInput("apop mrose C4C9334BAC560ECC979E58001B3E22FB\r\n");
  ASSERT_EQ(authenticator_.logins, std::vector<std::string>{"mrose"});
  const auto& apop = std::get<login::ApopProof>(authenticator_.requests.back().proof);
  EXPECT_EQ(apop.timestamp, timestamp);
  EXPECT_EQ(apop.digest, kDigest);
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");
  converse(R"(
    C: APOP mrose c4c9334bac560ecc979e58001b3e22fb
    S: -ERR Command not valid in this state.
  )");
}

TEST_F(SessionApopTest, ApopFailuresAndMalformedCommands) {
  startWithApop();
  authenticator_.failure = Error{ErrorCode::Auth, "digest mismatch"};
  converse(R"(
    C: APOP mrose
    S: -ERR APOP needs a name and a 32-digit hex digest.
    C: APOP mrose c4c9334bac560ecc979e58001b3e22fbXX
    S: -ERR APOP needs a name and a 32-digit hex digest.
    C: APOP mrose c4c9334bac560ecc979e58001b3e22fb
    S: -ERR [AUTH] Authentication failed.
  )");
  EXPECT_EQ(authenticator_.logins.size(), 1u);
  EXPECT_EQ(session_->state(), State::Authorization);
}

TEST_F(SessionApopTest, ApopNeedsNoTls) {
  // No reusable secret crosses the wire: allowed where USER/PASS must wait for STLS.
  SessionSettings settings;
  settings.stlsAvailable = true;
  settings.authRequiresTls = true;
  startWithApop(settings);
  session_->onInput("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
  ASSERT_EQ(authenticator_.logins, std::vector<std::string>{"mrose"});
  mailbox().completeOpen(threeMessages());
  EXPECT_EQ(sink_.take(), "+OK Logged in.\r\n");
}

TEST_F(SessionApopTest, LoginDelayAndExpireInCapa) {
  constexpr std::string_view kTail =
      "PIPELINING\r\nLOGIN-DELAY 900 USER\r\nEXPIRE 30 USER\r\nIMPLEMENTATION popgate\r\n.\r\n";
  SessionSettings settings;
  settings.loginDelay = 900;
  settings.loginDelayPerUser = true;
  settings.expire = "30";
  settings.expirePerUser = true;
  restart(settings);
  session_->onInput("CAPA\r\n");
  EXPECT_TRUE(sink_.take().ends_with(kTail));
  // After login: this user's values, without USER.
  authenticator_.loginDelay = 3600;
  authenticator_.expire = "NEVER";
  login();
  session_->onInput("CAPA\r\n");
  EXPECT_TRUE(sink_.take().ends_with(
      "PIPELINING\r\nLOGIN-DELAY 3600\r\nEXPIRE NEVER\r\nIMPLEMENTATION popgate\r\n.\r\n"));

  // Not in the grant: the listener's values, without USER; not per user: never USER.
  authenticator_.loginDelay.reset();
  authenticator_.expire.reset();
  settings.expirePerUser = false;
  settings.expire = "0";
  restart(settings);
  session_->onInput("CAPA\r\n");
  EXPECT_TRUE(
      sink_.take().ends_with("PIPELINING\r\nLOGIN-DELAY 900 USER\r\nEXPIRE 0\r\nIMPLEMENTATION "
                             "popgate\r\n.\r\n"));
  login();
  session_->onInput("CAPA\r\n");
  EXPECT_TRUE(sink_.take().ends_with(
      "PIPELINING\r\nLOGIN-DELAY 900\r\nEXPIRE 0\r\nIMPLEMENTATION popgate\r\n.\r\n"));
}

TEST_F(SessionApopTest, AnExpireThatIsNeitherNeverNorDaysIsLeftOut) {
  authenticator_.expire = "30\r\n+OK forged";
  login();
  session_->onInput("CAPA\r\n");
  std::string capa = sink_.take();
  EXPECT_EQ(capa.find("EXPIRE"), std::string::npos) << capa;
  EXPECT_EQ(capa.find("forged"), std::string::npos) << capa;
}

TEST_F(SessionApopTest, TheAuthenticatorsOwnReplyIsSentAsItIs) {
  authenticator_.failure =
      Error{ErrorCode::Auth, "too soon", "-ERR [LOGIN-DELAY] Wait 15 minutes between logins."};
  converse(R"(
    C: USER alice
    S: +OK
    C: PASS secret
    S: -ERR [LOGIN-DELAY] Wait 15 minutes between logins.
  )");
  authenticator_.failure = Error{ErrorCode::Temporary, "throttled",
                                 "-ERR [SYS/TEMP] Too many failed logins.\r\n+OK Logged in."};
  converse(R"(
    C: USER alice
    S: +OK
    C: PASS secret
    S: -ERR [SYS/TEMP] Too many failed logins.  +OK Logged in.
  )");
  authenticator_.failure = Error{ErrorCode::Auth, "odd", "+OK not an error"};
  converse(R"(
    C: USER alice
    S: +OK
    C: PASS secret
    S: -ERR +OK not an error
  )");
  authenticator_.failure = Error{ErrorCode::Auth, "long", "-ERR " + std::string(1000, 'x')};
  session_->onInput("USER alice\r\nPASS secret\r\n");
  EXPECT_EQ(sink_.take(), "+OK\r\n-ERR " + std::string(505, 'x') + "\r\n");
  EXPECT_EQ(session_->state(), State::Authorization);
}

TEST_F(SessionApopTest, TheOwnReplyFollowsABearerReport) {
  authenticator_.loginAbilities = {.passwords = false, .bearerTokens = true};
  authenticator_.failure = Error{ErrorCode::Auth, "throttled", "-ERR [AUTH] Slow down."};
  restart({});
  converse(R"(
    C: AUTH XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVyIHQBAQ==
    S: + eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=
    C:
    S: -ERR [AUTH] Slow down.
  )");
}

}  // namespace
}  // namespace popgate::pop3
