#pragma once
// The backend kinds this build of popgate has.

#include "backends/mailbox/BackendRegistry.h"

namespace popgate::backends {

BackendRegistry builtinBackends();

}  // namespace popgate::backends
