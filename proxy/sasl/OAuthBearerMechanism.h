#pragma once
// SASL OAUTHBEARER (RFC 7628): one client message, a GS2 header "n,a=<user>," (RFC 5801 §4)
// then ^A-separated pairs with "auth=Bearer <token>" and optionally host= and port=. popgate
// routes by user name, so the a= part is required here although the RFC makes it optional.
// A refused token is reported in a last challenge (RFC 7628 §3.2.2), see failureChallenge().

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/sasl/SaslMechanism.h"

namespace popgate::sasl {

struct OAuthBearerMessage {
  std::string user;  // the GS2 authzid, =2C and =3D decoded; empty when absent
  std::string token;
  std::string host;  // empty when absent
  std::string port;  // digits; empty when absent
};

// RFC 7628 §3.1 client-resp; nullopt when malformed, or when the client asks for channel
// binding ("p="), which popgate does not offer (RFC 5801 §4).
std::optional<OAuthBearerMessage> parseOAuthBearer(std::string_view message);

// RFC 5801 §4 saslname: "=2C" is ",", "=3D" is "="; any other "=" or a raw "," is malformed.
std::optional<std::string> decodeSaslName(std::string_view name);

std::unique_ptr<SaslMechanism> makeOAuthBearerMechanism();

}  // namespace popgate::sasl
