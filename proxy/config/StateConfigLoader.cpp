// The state section: where replicas share the mailbox locks.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "lib/common/FileText.h"
#include "lib/net/TcpListener.h"
#include "proxy/config/StateConfig.h"

namespace popgate::config {

void readState(ConfigReader& r, const YAML::Node& node, StateConfig& state) {
  if (!r.mapping(node, "state",
                 {"type", "address", "port", "key_prefix", "lease_s", "connect_timeout_s",
                  "password_file"}))
    return;
  std::string type = "local";
  if (node["type"] && r.scalar(node["type"], "state type", type)) {
    if (type == "local")
      state.type = StateType::Local;
    else if (type == "redis")
      state.type = StateType::Redis;
    else
      r.problem(node["type"], "state type must be local or redis");
  }
  if (state.type == StateType::Local) {
    for (const char* key : {"address", "port", "key_prefix", "lease_s", "password_file"})
      if (node[key])
        r.warning(node[key], std::string("state ") + key + " is unused: type is local");
    return;
  }
  // An IP literal, or a host name (looked up asynchronously at each connection attempt).
  auto hostName = [](const std::string& name) {
    return !name.empty() && name.size() <= 253 &&
           std::all_of(name.begin(), name.end(), [](unsigned char c) {
             return std::isalnum(c) || c == '.' || c == '-' || c == '_';
           });
  };
  if (node["address"] && r.scalar(node["address"], "state address", state.address) &&
      !net::parseAddress(state.address, 0) && !hostName(state.address)) {
    r.problem(node["address"],
              "state address must be an IP address or a host name: " + state.address);
  }
  if (node["port"]) r.port(node["port"], "state port", state.port);
  if (node["key_prefix"]) r.scalar(node["key_prefix"], "state key_prefix", state.keyPrefix);
  // Renewed every lease/3; a short lease frees a dead replica's mailboxes sooner.
  if (node["lease_s"]) r.seconds(node["lease_s"], "state lease_s", state.lease, 1);
  if (node["connect_timeout_s"])
    r.seconds(node["connect_timeout_s"], "state connect_timeout_s", state.connectTimeout, 1);
  if (const YAML::Node& file = node["password_file"]) {
    std::string path;
    if (!r.scalar(file, "state password_file", path)) return;
    auto text = readFileText(path, 64 * 1024);
    if (!text) return r.problem(file, "state password_file: " + text.error().detail);
    state.password = std::move(text.value());
    while (!state.password.empty() &&
           (state.password.back() == '\n' || state.password.back() == '\r'))
      state.password.pop_back();
  }
}

}  // namespace popgate::config
