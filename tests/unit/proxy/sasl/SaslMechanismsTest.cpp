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

TEST(SaslMechanismsTest, PasswordMechanismsOnlyWherePasswordsAreAllowed) {
  auto names = [](const SaslPolicy& policy) {
    std::vector<std::string_view> out;
    for (const auto* entry : offeredMechanisms(policy)) out.push_back(entry->name);
    return out;
  };
  EXPECT_EQ(names({true}), (std::vector<std::string_view>{"PLAIN", "LOGIN"}));
  EXPECT_TRUE(names({false}).empty());
  ASSERT_NE(findMechanism("plain", {true}), nullptr);
  EXPECT_EQ(findMechanism("plain", {true})->name, "PLAIN");
  EXPECT_EQ(findMechanism("PLAIN", {false}), nullptr);
  EXPECT_EQ(findMechanism("CRAM-MD5", {true}), nullptr);
}

}  // namespace
}  // namespace popgate::sasl
