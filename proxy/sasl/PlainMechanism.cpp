#include "proxy/sasl/PlainMechanism.h"

namespace popgate::sasl {

std::optional<PlainMessage> parsePlain(std::string_view message) {
  std::size_t first = message.find('\0');
  if (first == std::string_view::npos) return std::nullopt;
  std::size_t second = message.find('\0', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  PlainMessage parsed{std::string(message.substr(0, first)),
                      std::string(message.substr(first + 1, second - first - 1)),
                      std::string(message.substr(second + 1))};
  if (parsed.authcid.empty() || parsed.password.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  return parsed;
}

namespace {
class PlainMechanism final : public SaslMechanism {
 public:
  SaslStep start(std::optional<std::string_view> initial) override {
    // RFC 4616 §2: the client speaks first; without an initial response, an empty challenge.
    if (!initial) return SaslStep::ask({});
    return next(*initial);
  }
  SaslStep next(std::string_view response) override {
    auto message = parsePlain(response);
    if (!message) return SaslStep::fail("-ERR [AUTH] Malformed PLAIN credentials.");
    return SaslStep::done({std::move(message->authzid), std::move(message->authcid),
                           login::PasswordProof{std::move(message->password)}});
  }
};
}  // namespace

std::unique_ptr<SaslMechanism> makePlainMechanism() {
  return std::make_unique<PlainMechanism>();
}

}  // namespace popgate::sasl
