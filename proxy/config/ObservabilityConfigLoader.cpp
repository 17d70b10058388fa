// The log and admin sections.

#include <yaml-cpp/yaml.h>

#include <set>

#include "lib/net/TcpListener.h"
#include "proxy/config/ObservabilityConfig.h"

namespace popgate::config {

void readLog(ConfigReader& r, const YAML::Node& node, LogConfig& log) {
  if (!r.mapping(node, "log", {"level", "format"})) return;
  if (node["level"] && r.scalar(node["level"], "log level", log.level)) {
    static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "off"};
    if (!levels.count(log.level))
      r.problem(node["level"], "log level must be one of trace, debug, info, warn, error, off");
  }
  std::string format;
  if (node["format"] && r.scalar(node["format"], "log format", format)) {
    if (format == "text")
      log.format = LogFormat::Text;
    else if (format == "json")
      log.format = LogFormat::Json;
    else
      r.problem(node["format"], "log format must be text or json");
  }
}

void readAdmin(ConfigReader& r, const YAML::Node& node, Config& config) {
  if (!r.mapping(node, "admin", {"address", "port"})) return;
  AdminConfig admin;
  if (node["address"] && r.scalar(node["address"], "admin address", admin.address) &&
      !net::parseAddress(admin.address, 0)) {
    r.problem(node["address"], "admin address must be an IPv4 or IPv6 literal: " + admin.address);
  }
  if (!node["port"])
    r.problem(node, "admin needs a port");
  else
    r.port(node["port"], "admin port", admin.port);
  for (const ListenerConfig& listener : config.listeners) {
    if (listener.port == admin.port && listener.address == admin.address)
      r.problem(node, "admin has the same address and port as listener '" + listener.name + "'");
  }
  config.admin = std::move(admin);
}

}  // namespace popgate::config
