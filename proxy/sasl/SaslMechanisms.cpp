#include "proxy/sasl/SaslMechanisms.h"

#include "lib/common/Ascii.h"
#include "proxy/sasl/CramMd5Mechanism.h"
#include "proxy/sasl/LoginMechanism.h"
#include "proxy/sasl/OAuthBearerMechanism.h"
#include "proxy/sasl/PlainMechanism.h"
#include "proxy/sasl/XOAuth2Mechanism.h"

namespace popgate::sasl {

namespace {
using Requirement = SaslRequirement;

// For the mechanisms that need nothing from the connection.
template <std::unique_ptr<SaslMechanism> (*make)()>
std::unique_ptr<SaslMechanism> contextFree(const SaslContext&) {
  return make();
}

// In order of preference, as CAPA lists them. One line per mechanism.
const SaslMechanismEntry kMechanisms[] = {
    {"OAUTHBEARER", Requirement::Bearer, &contextFree<makeOAuthBearerMechanism>},  // RFC 7628
    {"XOAUTH2", Requirement::Bearer, &contextFree<makeXOAuth2Mechanism>},    // Google, Microsoft
    {"CRAM-MD5", Requirement::ChallengeResponse, &makeCramMd5MechanismFor},  // RFC 2195
    {"PLAIN", Requirement::Password, &contextFree<makePlainMechanism>},      // RFC 4616
    {"LOGIN", Requirement::Password,
     &contextFree<makeLoginMechanism>},  // draft-murchison-sasl-login
};

bool offered(const SaslMechanismEntry& entry, const SaslPolicy& policy) {
  const login::LoginAbilities& can = policy.abilities;
  switch (entry.requirement) {
    case Requirement::Password:
      return can.passwords && policy.passwordsAllowed;
    case Requirement::ChallengeResponse:
      // Nothing reusable crosses the wire (RFC 2195 §1): fine before TLS.
      return can.challengeResponse;
    case Requirement::Bearer:
      // A bearer token is as good as a password until it expires (RFC 6750 §5.3, RFC 7628 §5).
      return can.bearerTokens && policy.passwordsAllowed;
  }
  return false;
}
}  // namespace

std::vector<const SaslMechanismEntry*> offeredMechanisms(const SaslPolicy& policy) {
  std::vector<const SaslMechanismEntry*> out;
  for (const SaslMechanismEntry& entry : kMechanisms) {
    if (offered(entry, policy)) out.push_back(&entry);
  }
  return out;
}

const SaslMechanismEntry* findMechanism(std::string_view name, const SaslPolicy& policy) {
  std::string upper = asciiUpper(name);
  for (const SaslMechanismEntry& entry : kMechanisms) {
    if (entry.name == upper) return offered(entry, policy) ? &entry : nullptr;
  }
  return nullptr;
}

}  // namespace popgate::sasl
