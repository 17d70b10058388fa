#include "proxy/route/SdpsRouter.h"

#include "lib/common/Ascii.h"

namespace popgate::route {

SdpsRouter::SdpsRouter(RoutingTable table) : table_(std::move(table)) {
  std::map<std::string, DomainRule> lowered;
  for (auto& [host, rule] : table_.domains) lowered.emplace(asciiLower(host), rule);
  table_.domains = std::move(lowered);
}

Result<Route> SdpsRouter::route(std::string_view login) const {
  std::size_t split =
      table_.separators.empty() ? std::string_view::npos : login.find_last_of(table_.separators);
  // A separator at either end leaves no user or no host: treat the name as plain.
  if (split != std::string_view::npos && split > 0 && split + 1 < login.size()) {
    std::string_view user = login.substr(0, split);
    std::string_view host = login.substr(split + 1);
    auto it = table_.domains.find(asciiLower(host));
    if (it != table_.domains.end()) {
      const DomainRule& rule = it->second;
      std::string upstream(user);
      if (rule.upstreamUser == UpstreamUser::Full) upstream.append("@").append(host);
      return Route{rule.backend, std::move(upstream), rule.lock};
    }
  }
  if (!table_.defaultBackend) return Error{ErrorCode::Auth, "no route for this login"};
  return Route{*table_.defaultBackend, std::string(login), std::nullopt};
}

}  // namespace popgate::route
