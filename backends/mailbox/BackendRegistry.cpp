#include "backends/mailbox/BackendRegistry.h"

namespace popgate::backends {

void BackendRegistry::add(std::string type, BackendParser parser) {
  parsers_[std::move(type)] = std::move(parser);
}

const BackendParser* BackendRegistry::find(std::string_view type) const {
  auto it = parsers_.find(type);
  return it == parsers_.end() ? nullptr : &it->second;
}

std::vector<std::string> BackendRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& [type, parser] : parsers_) out.push_back(type);
  return out;
}

std::string BackendRegistry::typeList() const {
  std::string out;
  for (const auto& [type, parser] : parsers_) {
    if (!out.empty()) out.append(", ");
    out.append(type);
  }
  return out;
}

}  // namespace popgate::backends
