#pragma once
// Config section tests: a minimal valid configuration (one listener, backend and route, lines
// 1-6) followed by the section under test from line 7, and its problems as "LINE: message" lines.

#include <string>

#include "backends/builtin/BuiltinBackends.h"
#include "proxy/config/Config.h"

namespace popgate::config::testing {

inline LoadedConfig load(const std::string& extra) {
  return loadConfigText(
      "listeners:\n  - {name: pop3, address: 127.0.0.1, port: 1110}\n"
      "backends:\n  local: {type: imap, host: 127.0.0.1}\n"
      "routing:\n  default_backend: local\n" +
          extra,
      backends::builtinBackends());
}

inline std::string problems(const LoadedConfig& loaded) {
  std::string out;
  for (const auto& problem : loaded.problems)
    out += std::to_string(problem.line) + ": " + problem.message + "\n";
  return out;
}

}  // namespace popgate::config::testing
