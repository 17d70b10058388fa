#include "backends/builtin/BuiltinBackends.h"

#include "backends/imap/ImapBackend.h"
#include "backends/jmap/JmapBackend.h"

namespace popgate::backends {

BackendRegistry builtinBackends() {
  BackendRegistry registry;
  // One line per kind.
  registry.add("imap", &imap::parseImapBackend);
  registry.add("jmap", &jmap::parseJmapBackend);
  return registry;
}

}  // namespace popgate::backends
