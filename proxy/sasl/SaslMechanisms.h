#pragma once
// The table of SASL mechanisms. CAPA's SASL line and the bare AUTH listing both come from it,
// filtered by what the listener allows now: a mechanism that sends a reusable password in the
// clear is offered only where plaintext login is allowed (RFC 2595 §2.1, RFC 5034 §3).
// A new mechanism is a file in this folder and one line in the table (SaslMechanisms.cpp).

#include <memory>
#include <string_view>
#include <vector>

#include "proxy/sasl/SaslMechanism.h"

namespace popgate::sasl {

struct SaslMechanismEntry {
  std::string_view name;  // upper case, as listed and matched
  bool sendsPassword;     // the exchange carries a reusable password (PLAIN, LOGIN)
  std::unique_ptr<SaslMechanism> (*create)();
};

struct SaslPolicy {
  bool passwordsAllowed = true;  // plaintext login allowed on this connection now
};

// The mechanisms a client may use under `policy`, in table order.
std::vector<const SaslMechanismEntry*> offeredMechanisms(const SaslPolicy& policy);
// `name` in any case; null when unknown or not offered under `policy`.
const SaslMechanismEntry* findMechanism(std::string_view name, const SaslPolicy& policy);

}  // namespace popgate::sasl
