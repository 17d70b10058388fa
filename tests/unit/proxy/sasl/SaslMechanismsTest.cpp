// The SASL table and its mechanisms as state machines, without a session: bytes in, steps out.

#include <gtest/gtest.h>

#include "proxy/sasl/LoginMechanism.h"
#include "proxy/sasl/PlainMechanism.h"
#include "proxy/sasl/SaslMechanisms.h"

namespace popgate::sasl {
namespace {

using Kind = SaslStep::Kind;

std::string passwordOf(const SaslStep& step) {
  return std::get<login::PasswordProof>(step.credentials->proof).password;
}

TEST(PlainMechanismTest, ParsesTheMessage) {
  auto parsed = parsePlain(std::string("\0alice\0p w\xc3\xa4", 12));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->authzid, "");
  EXPECT_EQ(parsed->authcid, "alice");
  EXPECT_EQ(parsed->password, "p w\xc3\xa4");
  EXPECT_FALSE(parsePlain("alice"));
  EXPECT_FALSE(parsePlain(std::string("\0\0pw", 4)));     // no authcid
  EXPECT_FALSE(parsePlain(std::string("\0a\0p\0q", 6)));  // NUL in the password
}

TEST(PlainMechanismTest, InitialResponseEndsTheExchange) {
  auto plain = makePlainMechanism();
  SaslStep step = plain->start(std::string("admin\0alice\0pw", 14));
  ASSERT_EQ(step.kind, Kind::Done);
  EXPECT_EQ(step.credentials->authzid, "admin");
  EXPECT_EQ(step.credentials->login, "alice");
  EXPECT_EQ(passwordOf(step), "pw");
}

TEST(PlainMechanismTest, WithoutInitialResponseAsksWithAnEmptyChallenge) {
  auto plain = makePlainMechanism();
  SaslStep step = plain->start(std::nullopt);
  ASSERT_EQ(step.kind, Kind::Challenge);
  EXPECT_EQ(step.challenge, "");
  step = plain->next("malformed");
  EXPECT_EQ(step.kind, Kind::Failed);
  EXPECT_EQ(step.error, "-ERR [AUTH] Malformed PLAIN credentials.");
}

TEST(LoginMechanismTest, AsksForNameThenPassword) {
  auto mechanism = makeLoginMechanism();
  SaslStep step = mechanism->start(std::nullopt);
  ASSERT_EQ(step.kind, Kind::Challenge);
  EXPECT_EQ(step.challenge, "Username:");
  step = mechanism->next("alice");
  ASSERT_EQ(step.kind, Kind::Challenge);
  EXPECT_EQ(step.challenge, "Password:");
  step = mechanism->next("p w");
  ASSERT_EQ(step.kind, Kind::Done);
  EXPECT_EQ(step.credentials->login, "alice");
  EXPECT_EQ(step.credentials->authzid, "");
  EXPECT_EQ(passwordOf(step), "p w");
}

TEST(LoginMechanismTest, InitialResponseIsTheName) {
  auto mechanism = makeLoginMechanism();
  SaslStep step = mechanism->start("alice");
  ASSERT_EQ(step.kind, Kind::Challenge);
  EXPECT_EQ(step.challenge, "Password:");
}

std::vector<std::string_view> names(const SaslPolicy& policy) {
  std::vector<std::string_view> out;
  for (const auto* entry : offeredMechanisms(policy)) out.push_back(entry->name);
  return out;
}

TEST(SaslMechanismsTest, PasswordMechanismsOnlyWherePasswordsAreAllowed) {
  EXPECT_EQ(names({true}), (std::vector<std::string_view>{"PLAIN", "LOGIN"}));
  EXPECT_TRUE(names({false}).empty());
  ASSERT_NE(findMechanism("plain", {true}), nullptr);
  EXPECT_EQ(findMechanism("plain", {true})->name, "PLAIN");
  EXPECT_EQ(findMechanism("PLAIN", {false}), nullptr);
  EXPECT_EQ(findMechanism("CRAM-MD5", {true}), nullptr);  // the authenticator cannot check it
  EXPECT_EQ(findMechanism("DIGEST-MD5", {true}), nullptr);
}

TEST(SaslMechanismsTest, OnlyWhatTheAuthenticatorCanCheck) {
  using Names = std::vector<std::string_view>;
  login::LoginAbilities all{.passwords = true, .challengeResponse = true, .bearerTokens = true};
  EXPECT_EQ(names({true, all}), (Names{"OAUTHBEARER", "XOAUTH2", "CRAM-MD5", "PLAIN", "LOGIN"}));
  // Before TLS where plaintext login is refused: a bearer token is as reusable as a password.
  EXPECT_EQ(names({false, all}), (Names{"CRAM-MD5"}));
  login::LoginAbilities tokens{.passwords = false, .bearerTokens = true};
  EXPECT_EQ(names({true, tokens}), (Names{"OAUTHBEARER", "XOAUTH2"}));
  EXPECT_TRUE(names({false, tokens}).empty());
  login::LoginAbilities secrets{.passwords = true, .challengeResponse = true};
  EXPECT_EQ(names({true, secrets}), (Names{"CRAM-MD5", "PLAIN", "LOGIN"}));
  EXPECT_EQ(names({true, {.passwords = false}}), Names{});
  EXPECT_NE(findMechanism("xoauth2", {true, tokens}), nullptr);
  EXPECT_EQ(findMechanism("xoauth2", {false, tokens}), nullptr);
  EXPECT_EQ(findMechanism("plain", {true, tokens}), nullptr);
}

}  // namespace
}  // namespace popgate::sasl
