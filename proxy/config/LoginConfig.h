#pragma once
// Parsers for the login keys (LoginConfigLoader.cpp), called by ConfigLoader.

#include <string>

#include "proxy/config/Config.h"

namespace popgate::config {

// A backend's `login:` block.
void readBackendLogin(ConfigReader& reader, const YAML::Node& node, const std::string& backend,
                      login::LoginPolicy& policy);
// routing.lookup; after the backends (it names its template backend).
void readLookup(ConfigReader& reader, const YAML::Node& node, Config& config);

}  // namespace popgate::config
