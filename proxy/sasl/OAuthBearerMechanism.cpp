#include "proxy/sasl/OAuthBearerMechanism.h"

#include <algorithm>

#include "proxy/sasl/OAuthFields.h"

namespace popgate::sasl {

std::optional<std::string> decodeSaslName(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == ',') return std::nullopt;
    if (c != '=') {
      out.push_back(c);
      continue;
    }
    std::string_view escape = name.substr(i, 3);
    if (escape == "=2C") {
      out.push_back(',');
    } else if (escape == "=3D") {
      out.push_back('=');
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

std::optional<OAuthBearerMessage> parseOAuthBearer(std::string_view message) {
  // gs2-header = gs2-cb-flag "," [gs2-authzid] "," ; then kvsep, the pairs, the closing kvsep.
  std::size_t first = message.find(',');
  if (first == std::string_view::npos) return std::nullopt;
  std::string_view flag = message.substr(0, first);
  if (flag != "n" && flag != "y") return std::nullopt;  // "p=..." asks for channel binding
  std::size_t second = message.find(',', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  std::string_view authzid = message.substr(first + 1, second - first - 1);
  OAuthBearerMessage out;
  if (!authzid.empty()) {
    if (authzid.substr(0, 2) != "a=" || authzid.size() == 2) return std::nullopt;
    auto user = decodeSaslName(authzid.substr(2));
    if (!user) return std::nullopt;
    out.user = std::move(*user);
  }
  std::string_view rest = message.substr(second + 1);
  if (rest.empty() || rest.front() != '\x01') return std::nullopt;
  auto pairs = parseOAuthPairs(rest.substr(1));
  if (!pairs) return std::nullopt;
  auto auth = findOAuthPair(*pairs, "auth");
  if (!auth) return std::nullopt;
  auto token = parseBearerAuth(*auth);
  if (!token) return std::nullopt;
  out.token = std::move(*token);
  if (auto host = findOAuthPair(*pairs, "host")) out.host = std::string(*host);
  if (auto port = findOAuthPair(*pairs, "port")) {
    bool digits = !port->empty() && std::all_of(port->begin(), port->end(),
                                                [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return std::nullopt;
    out.port = std::string(*port);
  }
  return out;
}

namespace {
class OAuthBearerMechanism final : public SaslMechanism {
 public:
  SaslStep start(std::optional<std::string_view> initial) override {
    // Client first (RFC 7628 §3.1): without an initial response, an empty challenge.
    if (!initial) return SaslStep::ask({});
    return next(*initial);
  }
  SaslStep next(std::string_view response) override {
    auto message = parseOAuthBearer(response);
    if (!message) return SaslStep::fail("-ERR [AUTH] Malformed OAUTHBEARER message.");
    if (message->user.empty()) {
      return SaslStep::fail("-ERR [AUTH] OAUTHBEARER needs the user name (a=) here.");
    }
    return SaslStep::done(
        {{}, std::move(message->user), login::BearerProof{std::move(message->token)}});
  }
  std::optional<std::string> failureChallenge() const override {
    // RFC 7628 §3.2.2: the error as JSON; scope and openid-configuration are left out, popgate
    // does not know the authorization server's.
    return std::string(R"({"status":"invalid_token"})");
  }
};
}  // namespace

std::unique_ptr<SaslMechanism> makeOAuthBearerMechanism() {
  return std::make_unique<OAuthBearerMechanism>();
}

}  // namespace popgate::sasl
