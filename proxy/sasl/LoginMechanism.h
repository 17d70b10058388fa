#pragma once
// The LOGIN mechanism (draft-murchison-sasl-login): "Username:", then "Password:". Not in an RFC,
// but Outlook and many embedded clients use nothing else.

#include <memory>

#include "proxy/sasl/SaslMechanism.h"

namespace popgate::sasl {

std::unique_ptr<SaslMechanism> makeLoginMechanism();

}  // namespace popgate::sasl
