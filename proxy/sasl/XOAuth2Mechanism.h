#pragma once
// SASL XOAUTH2, as Google and Microsoft document it: one client message
// "user=<user>^Aauth=Bearer <token>^A^A". A refused token is reported in a last challenge
// {"status":"401","schemes":"bearer"} that the client answers with an empty line.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/sasl/SaslMechanism.h"

namespace popgate::sasl {

struct XOAuth2Message {
  std::string user;
  std::string token;
};

// nullopt when malformed or without a non-empty user= and a Bearer auth=.
std::optional<XOAuth2Message> parseXOAuth2(std::string_view message);

std::unique_ptr<SaslMechanism> makeXOAuth2Mechanism();

}  // namespace popgate::sasl
