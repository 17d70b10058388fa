// CRAM-MD5 (RFC 2195) as a state machine: the challenge, then "user SP digest".

#include <gtest/gtest.h>

#include "proxy/sasl/CramMd5Mechanism.h"
#include "proxy/sasl/SaslMechanisms.h"

namespace popgate::sasl {
namespace {

using Kind = SaslStep::Kind;

// RFC 2195 §2's example exchange.
constexpr std::string_view kChallenge = "<1896.697170952@postoffice.reston.mci.net>";
constexpr std::string_view kResponse = "tim b913a602c7eda7a495b4e6e7334d3890";

TEST(CramMd5MechanismTest, ChallengeHasTheMessageIdForm) {
  EXPECT_EQ(cramMd5Challenge(1896, 697170952, "postoffice.reston.mci.net"), kChallenge);
}

TEST(CramMd5MechanismTest, TheRfcExchange) {
  auto mechanism = makeCramMd5Mechanism(std::string(kChallenge));
  SaslStep step = mechanism->start(std::nullopt);
  ASSERT_EQ(step.kind, Kind::Challenge);
  EXPECT_EQ(step.challenge, kChallenge);
  step = mechanism->next(kResponse);
  ASSERT_EQ(step.kind, Kind::Done);
  EXPECT_EQ(step.credentials->login, "tim");
  EXPECT_EQ(step.credentials->authzid, "");
  const auto& proof = std::get<login::CramMd5Proof>(step.credentials->proof);
  EXPECT_EQ(proof.challenge, kChallenge);
  EXPECT_EQ(proof.digest, "b913a602c7eda7a495b4e6e7334d3890");
  EXPECT_FALSE(mechanism->failureChallenge());
}

TEST(CramMd5MechanismTest, ParsesTheResponse) {
  auto parsed = parseCramMd5Response("tim smith B913A602C7EDA7A495B4E6E7334D3890");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->user, "tim smith");                           // the name ends at the last space
  EXPECT_EQ(parsed->digest, "b913a602c7eda7a495b4e6e7334d3890");  // lower-cased
  EXPECT_FALSE(parseCramMd5Response("b913a602c7eda7a495b4e6e7334d3890"));       // no user
  EXPECT_FALSE(parseCramMd5Response(" b913a602c7eda7a495b4e6e7334d3890"));      // empty user
  EXPECT_FALSE(parseCramMd5Response("tim b913a602c7eda7a495b4e6e7334d389"));    // 31 digits
  EXPECT_FALSE(parseCramMd5Response("tim b913a602c7eda7a495b4e6e7334d38900"));  // 33 digits
  EXPECT_FALSE(parseCramMd5Response("tim g913a602c7eda7a495b4e6e7334d3890"));   // not hex
  EXPECT_FALSE(parseCramMd5Response("tim "));
  EXPECT_FALSE(parseCramMd5Response(""));
}

TEST(CramMd5MechanismTest, MalformedResponseAndInitialResponseFail) {
  auto mechanism = makeCramMd5Mechanism(std::string(kChallenge));
  ASSERT_EQ(mechanism->start(std::nullopt).kind, Kind::Challenge);
  SaslStep step = mechanism->next("tim");
  EXPECT_EQ(step.kind, Kind::Failed);
  EXPECT_EQ(step.error, "-ERR [AUTH] Malformed CRAM-MD5 response.");
  step = makeCramMd5Mechanism(std::string(kChallenge))->start(kResponse);
  EXPECT_EQ(step.kind, Kind::Failed);
  EXPECT_EQ(step.error, "-ERR [AUTH] CRAM-MD5 takes no initial response.");
}

TEST(CramMd5MechanismTest, TheTableMakesAFreshChallengeEachTime) {
  const SaslMechanismEntry* entry =
      findMechanism("cram-md5", {true, {.passwords = false, .challengeResponse = true}});
  ASSERT_NE(entry, nullptr);
  SaslContext context{"mail.example.org"};
  std::string first = entry->create(context)->start(std::nullopt).challenge;
  std::string second = entry->create(context)->start(std::nullopt).challenge;
  EXPECT_NE(first, second);
  EXPECT_EQ(first.front(), '<');
  EXPECT_TRUE(first.ends_with("@mail.example.org>")) << first;
}

}  // namespace
}  // namespace popgate::sasl
