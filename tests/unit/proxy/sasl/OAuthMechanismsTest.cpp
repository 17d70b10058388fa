// XOAUTH2 and OAUTHBEARER (RFC 7628) as state machines: one client message, a bearer proof, and
// the error report they send as a last challenge when the token is refused.

#include <gtest/gtest.h>

#include "proxy/sasl/OAuthBearerMechanism.h"
#include "proxy/sasl/OAuthFields.h"
#include "proxy/sasl/XOAuth2Mechanism.h"

namespace popgate::sasl {
namespace {

using namespace std::string_literals;
using Kind = SaslStep::Kind;

std::string tokenOf(const SaslStep& step) {
  return std::get<login::BearerProof>(step.credentials->proof).token;
}

// RFC 7628 §4.1's example, with its host and port.
const std::string kRfcMessage =
    "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
    "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"s;

TEST(OAuthBearerMechanismTest, ParsesTheRfcExample) {
  auto message = parseOAuthBearer(kRfcMessage);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->user, "user@example.com");
  EXPECT_EQ(message->token, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
  EXPECT_EQ(message->host, "server.example.com");
  EXPECT_EQ(message->port, "143");
}

TEST(OAuthBearerMechanismTest, DecodesTheSaslName) {
  auto message = parseOAuthBearer(
      "y,a=a=2Cb=3Dc,\x01"
      "auth=bearer  t0k.en~\x01\x01"s);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->user, "a,b=c");
  EXPECT_EQ(message->token, "t0k.en~");
  EXPECT_EQ(decodeSaslName("x=2c"), std::nullopt);  // escapes are upper case
  EXPECT_EQ(decodeSaslName("x=4"), std::nullopt);
  EXPECT_EQ(decodeSaslName("x,y"), std::nullopt);
}

TEST(OAuthBearerMechanismTest, RefusesMalformedMessages) {
  const std::string bad[] = {
      ""s,
      "\x01"s,  // the error-completion reply
      "p=tls-unique,a=u,\x01"
      "auth=Bearer t\x01\x01"s,  // channel binding
      "n,a=u\x01"
      "auth=Bearer t\x01\x01"s,  // header not closed
      "n,u,\x01"
      "auth=Bearer t\x01\x01"s,        // authzid without a=
      "n,a=u,auth=Bearer t\x01\x01"s,  // no kvsep after the header
      "n,a=u,\x01"
      "auth=Bearer t\x01"s,  // no closing kvsep
      "n,a=u,\x01"
      "auth=Bearer t\x01\x01x"s,    // bytes after it
      "n,a=u,\x01host=h\x01\x01"s,  // no auth
      "n,a=u,\x01"
      "auth=Basic dTpw\x01\x01"s,  // not a bearer token
      "n,a=u,\x01"
      "auth=Bearer \x01\x01"s,  // empty token
      "n,a=u,\x01"
      "auth=Bearer a=b\x01\x01"s,  // "=" inside the token
      "n,a=u,\x01"
      "auth=Bearer t\x01"
      "auth=Bearer u\x01\x01"s,  // a repeated key
      "n,a=u,\x01k1=v\x01"
      "auth=Bearer t\x01\x01"s,  // a key that is not ALPHA
      "n,a=u,\x01port=x1\x01"
      "auth=Bearer t\x01\x01"s,  // a port that is not digits
      "n,a=u,\x01"
      "auth=Bearer t\x01x=\x7f\x01\x01"s,  // DEL in a value
  };
  for (const std::string& message : bad) {
    EXPECT_FALSE(parseOAuthBearer(message)) << "accepted: " << message;
  }
}

TEST(OAuthBearerMechanismTest, ExchangeWithInitialResponse) {
  auto mechanism = makeOAuthBearerMechanism();
  SaslStep step = mechanism->start(kRfcMessage);
  ASSERT_EQ(step.kind, Kind::Done);
  EXPECT_EQ(step.credentials->login, "user@example.com");
  EXPECT_EQ(tokenOf(step), "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
  EXPECT_EQ(mechanism->failureChallenge(), R"({"status":"invalid_token"})");
}

TEST(OAuthBearerMechanismTest, ExchangeWithAChallengeAndItsFailures) {
  auto mechanism = makeOAuthBearerMechanism();
  SaslStep step = mechanism->start(std::nullopt);
  ASSERT_EQ(step.kind, Kind::Challenge);
  EXPECT_EQ(step.challenge, "");
  step = mechanism->next(
      "n,,\x01"
      "auth=Bearer t\x01\x01"s);
  ASSERT_EQ(step.kind, Kind::Failed);
  EXPECT_EQ(step.error, "-ERR [AUTH] OAUTHBEARER needs the user name (a=) here.");
  step = makeOAuthBearerMechanism()->start("garbage");
  ASSERT_EQ(step.kind, Kind::Failed);
  EXPECT_EQ(step.error, "-ERR [AUTH] Malformed OAUTHBEARER message.");
}

TEST(XOAuth2MechanismTest, ParsesTheDocumentedFormat) {
  auto message = parseXOAuth2(
      "user=someuser@example.com\x01"
      "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg\x01\x01"s);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->user, "someuser@example.com");
  EXPECT_EQ(message->token, "ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg");
  EXPECT_FALSE(
      parseXOAuth2("user=u\x01"
                   "auth=Bearer t\x01"s));  // no closing ^A
  EXPECT_FALSE(parseXOAuth2("auth=Bearer t\x01\x01"s));
  EXPECT_FALSE(
      parseXOAuth2("user=\x01"
                   "auth=Bearer t\x01\x01"s));
  EXPECT_FALSE(
      parseXOAuth2("user=u\x01"
                   "auth=t\x01\x01"s));
  EXPECT_FALSE(parseXOAuth2(""));
}

TEST(XOAuth2MechanismTest, ExchangeWithAndWithoutInitialResponse) {
  const std::string message =
      "user=u@example.com\x01"
      "auth=Bearer tok\x01\x01"s;
  auto mechanism = makeXOAuth2Mechanism();
  SaslStep step = mechanism->start(message);
  ASSERT_EQ(step.kind, Kind::Done);
  EXPECT_EQ(step.credentials->login, "u@example.com");
  EXPECT_EQ(tokenOf(step), "tok");
  EXPECT_EQ(mechanism->failureChallenge(), R"({"status":"401","schemes":"bearer"})");

  mechanism = makeXOAuth2Mechanism();
  step = mechanism->start(std::nullopt);
  ASSERT_EQ(step.kind, Kind::Challenge);
  EXPECT_EQ(step.challenge, "");
  step = mechanism->next(message);
  ASSERT_EQ(step.kind, Kind::Done);
  step = makeXOAuth2Mechanism()->start("user=u");
  ASSERT_EQ(step.kind, Kind::Failed);
  EXPECT_EQ(step.error, "-ERR [AUTH] Malformed XOAUTH2 message.");
}

TEST(OAuthFieldsTest, PairsAndBearerValues) {
  // The pairs are views into the message: it must outlive them.
  const std::string message =
      "a=1\x01"
      "b=x y\t\x01\x01";
  auto pairs = parseOAuthPairs(message);
  ASSERT_TRUE(pairs);
  ASSERT_EQ(pairs->size(), 2u);
  EXPECT_EQ(findOAuthPair(*pairs, "b"), "x y\t");
  EXPECT_EQ(findOAuthPair(*pairs, "c"), std::nullopt);
  EXPECT_TRUE(parseOAuthPairs("\x01"s));  // no pairs at all
  EXPECT_FALSE(parseOAuthPairs("=v\x01\x01"s));
  EXPECT_EQ(parseBearerAuth("BEARER abc=="), "abc==");
  EXPECT_EQ(parseBearerAuth("Bearer a/b+c-d_e.f~g"), "a/b+c-d_e.f~g");
  EXPECT_EQ(parseBearerAuth("Bearerabc"), std::nullopt);
  EXPECT_EQ(parseBearerAuth("Bearer ab c"), std::nullopt);
  EXPECT_EQ(parseBearerAuth("Bearer =abc"), std::nullopt);
}

}  // namespace
}  // namespace popgate::sasl
