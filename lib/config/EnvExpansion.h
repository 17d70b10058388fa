#pragma once
// ${NAME} and ${NAME:-default} in configuration values, so that one file serves every
// container: the upstream host, ports and paths come from the environment (docker run -e,
// compose, Kubernetes). Secrets belong in files (the *_file keys), not in the environment,
// where `docker inspect` and /proc/PID/environ show them.
//
// Rules (those of POSIX sh and Docker Compose, minus the forms a config has no use for):
// - ${NAME}: the variable's value; an unset variable is an error (a silent empty host or
//   password would fail far from its cause);
// - ${NAME:-word}: word when NAME is unset or empty;
// - $${ is a literal ${; a '$' not followed by '{' stays as it is (crypt hashes, passwords);
// - NAME is [A-Za-z_][A-Za-z0-9_]*; the value is not expanded again.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "lib/common/Result.h"

namespace popgate::config {

using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
std::optional<std::string> processEnvironment(const std::string& name);

// The expanded text, or an Invalid error naming the first unset variable or malformed reference.
Result<std::string> expandEnvironment(std::string_view text, const EnvironmentLookup& lookup);

}  // namespace popgate::config
