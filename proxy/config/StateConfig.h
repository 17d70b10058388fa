#pragma once
// Parser for the `state:` section (StateConfigLoader.cpp), called by ConfigLoader.

#include "proxy/config/Config.h"

namespace popgate::config {

// `state: {type: local | redis, address, port, key_prefix, lease_s, connect_timeout_s,
// password_file}`; the password file is read now (a missing one is a problem with its line).
void readState(ConfigReader& reader, const YAML::Node& node, StateConfig& state);

}  // namespace popgate::config
