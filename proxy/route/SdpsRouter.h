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

struct DomainRule {
  std::string backend;
  UpstreamUser upstreamUser = UpstreamUser::Full;
};

struct RoutingTable {
  std::optional<std::string> defaultBackend;
  std::string separators = "@+";
  std::map<std::string, DomainRule> domains;  // keys lower-case
};

struct Route {
  std::string backend;
  std::string upstreamUser;
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
