#include "proxy/sasl/SaslMechanisms.h"

#include "lib/common/Ascii.h"
#include "proxy/sasl/LoginMechanism.h"
#include "proxy/sasl/PlainMechanism.h"

namespace popgate::sasl {

namespace {
// In order of preference, as CAPA lists them. One line per mechanism.
const SaslMechanismEntry kMechanisms[] = {
    {"PLAIN", true, &makePlainMechanism},  // RFC 4616
    {"LOGIN", true, &makeLoginMechanism},  // draft-murchison-sasl-login
};

bool offered(const SaslMechanismEntry& entry, const SaslPolicy& policy) {
  return policy.passwordsAllowed || !entry.sendsPassword;
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
