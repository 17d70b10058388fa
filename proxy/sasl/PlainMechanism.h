#pragma once
// SASL PLAIN (RFC 4616): one message "authzid NUL authcid NUL password".

#include <memory>
#include <optional>
#include <string_view>

#include "proxy/sasl/SaslMechanism.h"

namespace popgate::sasl {

struct PlainMessage {
  std::string authzid;
  std::string authcid;
  std::string password;
};

// nullopt when malformed (RFC 4616 §2: no empty authcid, no NUL in the password).
std::optional<PlainMessage> parsePlain(std::string_view message);

std::unique_ptr<SaslMechanism> makePlainMechanism();

}  // namespace popgate::sasl
