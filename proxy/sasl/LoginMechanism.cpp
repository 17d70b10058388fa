#include "proxy/sasl/LoginMechanism.h"

namespace popgate::sasl {

namespace {
class LoginMechanism final : public SaslMechanism {
 public:
  SaslStep start(std::optional<std::string_view> initial) override {
    if (!initial) return SaslStep::ask("Username:");
    return next(*initial);
  }
  SaslStep next(std::string_view response) override {
    if (!user_) {
      user_ = std::string(response);
      return SaslStep::ask("Password:");
    }
    return SaslStep::done({{}, std::move(*user_), login::PasswordProof{std::string(response)}});
  }

 private:
  std::optional<std::string> user_;
};
}  // namespace

std::unique_ptr<SaslMechanism> makeLoginMechanism() {
  return std::make_unique<LoginMechanism>();
}

}  // namespace popgate::sasl
