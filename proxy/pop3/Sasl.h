#pragma once
// SASL pieces for POP3 AUTH (RFC 5034): base64 and the PLAIN message (RFC 4616). Pure.

#include <optional>
#include <string>
#include <string_view>

namespace popgate::pop3 {

// Strict base64 (RFC 4648 §4, padding required); nullopt on any invalid input.
std::optional<std::string> decodeBase64(std::string_view text);
std::string encodeBase64(std::string_view bytes);

struct PlainCredentials {
  std::string authzid;  // authorization identity; empty when the client acts as itself
  std::string authcid;  // authentication identity (the login name)
  std::string password;
};

// "authzid NUL authcid NUL password"; nullopt when malformed (RFC 4616 §2).
std::optional<PlainCredentials> parsePlain(std::string_view message);

}  // namespace popgate::pop3
