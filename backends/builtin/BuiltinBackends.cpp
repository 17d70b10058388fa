#include "backends/builtin/BuiltinBackends.h"

#include "backends/imap/ImapBackend.h"

namespace popgate::backends {

BackendRegistry builtinBackends() {
  BackendRegistry registry;
  // One line per kind.
  registry.add("imap", &imap::parseImapBackend);
  return registry;
}

}  // namespace popgate::backends
