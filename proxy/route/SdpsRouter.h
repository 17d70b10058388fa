#pragma once
// Routes a POP3 login name to a backend by the SDPS convention: "user@host" or "user+host".

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "lib/common/Result.h"

namespace popgate::route {

enum class UpstreamUser {
  Full,   // send "user@host" upstream
  Local,  // send only "user"
};

// A backend's or a domain's `lock:` (the domain's, when set, wins).
//   exclusive  RFC 1939 §8: one session per maildrop; a second login gets [IN-USE] (default)
//   none       every session is served (Dovecot's default, pop3_lock_session = no): a phone and
//              a desktop polling one mailbox. Safe because a session names messages upstream
//              by UID, never by number: a DELE commits `UID STORE`/`UID EXPUNGE` of its own
//              snapshot's UIDs, and a message another session expunged is -ERR, not a body.
enum class LockPolicy { Exclusive, None };

struct DomainRule {
  std::string backend;
  UpstreamUser upstreamUser = UpstreamUser::Full;
  std::optional<LockPolicy> lock{};  // unset: the backend's
};

struct RoutingTable {
  std::optional<std::string> defaultBackend;
  std::string separators = "@+";
  std::map<std::string, DomainRule> domains;  // keys lower-case
};

struct Route {
  std::string backend;
  std::string upstreamUser;
  std::optional<LockPolicy> lock{};  // the domain's, if it has one
};

class SdpsRouter {
 public:
  explicit SdpsRouter(RoutingTable table);
  // Error{Auth} when nothing routes the name (no default backend).
  Result<Route> route(std::string_view login) const;

 private:
  RoutingTable table_;
};

}  // namespace popgate::route
