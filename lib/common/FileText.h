#pragma once
// Reads a whole small file (a config, a passwd-file, a token store, a secret) with a bound, so a
// path pointing at a log or a device by mistake is an error, not a process that eats its memory.
// Blocking: for start-up, --check-config and reloads on the main thread, never on a worker loop.

#include <cstddef>
#include <string>

#include "lib/common/Result.h"

namespace popgate {

// Error{Invalid} "cannot open PATH: reason", "cannot read PATH: reason" or "PATH is larger than
// N octets".
Result<std::string> readFileText(const std::string& path, std::size_t maxBytes);

}  // namespace popgate
