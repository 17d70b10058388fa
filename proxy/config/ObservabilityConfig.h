#pragma once
// Parsers for the observability keys (ObservabilityConfigLoader.cpp), called by ConfigLoader.

#include "proxy/config/Config.h"

namespace popgate::config {

// `log: {level, format}`.
void readLog(ConfigReader& reader, const YAML::Node& node, LogConfig& log);
// `admin: {address, port}`; after the listeners (it must not take one's port).
void readAdmin(ConfigReader& reader, const YAML::Node& node, Config& config);

}  // namespace popgate::config
