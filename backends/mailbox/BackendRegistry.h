#pragma once
// Backend kinds by their `type:`. The config loader, the login step and main know no kind by
// name: they ask the registry. Adding a kind is a folder backends/<kind> with a parser, and one
// line in backends/builtin/BuiltinBackends.cpp (tests register fakes the same way).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backends/mailbox/Backend.h"
#include "lib/config/ConfigReader.h"

namespace popgate::backends {

// Parses one backend section (a mapping that has `type:`). Reports every problem through the
// reader; may return null when there were problems. Unknown keys are problems: the kind lists
// its own, `type` included (kBackendTypeKey).
using BackendParser = std::function<std::shared_ptr<const BackendDefinition>(
    config::ConfigReader& reader, const YAML::Node& section, const std::string& name)>;

inline constexpr const char* kBackendTypeKey = "type";

class BackendRegistry {
 public:
  // A second registration of one type replaces the first.
  void add(std::string type, BackendParser parser);
  const BackendParser* find(std::string_view type) const;
  std::vector<std::string> types() const;  // sorted
  std::string typeList() const;            // "imap, jmap": for messages and --help

 private:
  std::map<std::string, BackendParser, std::less<>> parsers_;
};

}  // namespace popgate::backends
