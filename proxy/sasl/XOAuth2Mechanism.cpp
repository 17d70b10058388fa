#include "proxy/sasl/XOAuth2Mechanism.h"

#include "proxy/sasl/OAuthFields.h"

namespace popgate::sasl {

std::optional<XOAuth2Message> parseXOAuth2(std::string_view message) {
  // The same ^A-separated pairs as OAUTHBEARER's (RFC 7628 §3.1 took them from XOAUTH2).
  auto pairs = parseOAuthPairs(message);
  if (!pairs) return std::nullopt;
  auto user = findOAuthPair(*pairs, "user");
  auto auth = findOAuthPair(*pairs, "auth");
  if (!user || user->empty() || !auth) return std::nullopt;
  auto token = parseBearerAuth(*auth);
  if (!token) return std::nullopt;
  return XOAuth2Message{std::string(*user), std::move(*token)};
}

namespace {
class XOAuth2Mechanism final : public SaslMechanism {
 public:
  SaslStep start(std::optional<std::string_view> initial) override {
    if (!initial) return SaslStep::ask({});
    return next(*initial);
  }
  SaslStep next(std::string_view response) override {
    auto message = parseXOAuth2(response);
    if (!message) return SaslStep::fail("-ERR [AUTH] Malformed XOAUTH2 message.");
    return SaslStep::done(
        {{}, std::move(message->user), login::BearerProof{std::move(message->token)}});
  }
  std::optional<std::string> failureChallenge() const override {
    // Google's XOAUTH2 protocol document: the error is a challenge the client answers empty.
    return std::string(R"({"status":"401","schemes":"bearer"})");
  }
};
}  // namespace

std::unique_ptr<SaslMechanism> makeXOAuth2Mechanism() {
  return std::make_unique<XOAuth2Mechanism>();
}

}  // namespace popgate::sasl
