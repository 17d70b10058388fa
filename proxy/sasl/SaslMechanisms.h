#pragma once
// The table of SASL mechanisms. CAPA's SASL line and the bare AUTH listing both come from it,
// filtered by what can succeed on this connection now: what the authenticator can check
// (login::LoginAbilities), and, for a mechanism that sends a reusable secret in the clear (a
// password, a bearer token), whether plaintext login is allowed (RFC 2595 §2.1, RFC 5034 §3,
// RFC 7628 §5). A new mechanism is a file in this folder and one line in the table
// (SaslMechanisms.cpp).

#include <memory>
#include <string_view>
#include <vector>

#include "proxy/login/Authenticator.h"
#include "proxy/sasl/SaslMechanism.h"

namespace popgate::sasl {

// What the authenticator must be able to check for a mechanism to succeed.
enum class SaslRequirement {
  Password,           // a reusable password (PLAIN, LOGIN)
  ChallengeResponse,  // a plaintext-equivalent secret on the server's side (CRAM-MD5)
  Bearer,             // an OAuth2 bearer token (XOAUTH2, OAUTHBEARER)
};

struct SaslMechanismEntry {
  std::string_view name;  // upper case, as listed and matched
  SaslRequirement requirement;
  std::unique_ptr<SaslMechanism> (*create)(const SaslContext& context);
};

struct SaslPolicy {
  bool passwordsAllowed = true;  // plaintext login allowed on this connection now
  login::LoginAbilities abilities{};
};

// The mechanisms a client may use under `policy`, in table order.
std::vector<const SaslMechanismEntry*> offeredMechanisms(const SaslPolicy& policy);
// `name` in any case; null when unknown or not offered under `policy`.
const SaslMechanismEntry* findMechanism(std::string_view name, const SaslPolicy& policy);

}  // namespace popgate::sasl
