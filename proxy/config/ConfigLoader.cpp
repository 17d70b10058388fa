// YAML -> Config, read with lib/config/ConfigReader (where yaml-cpp's exceptions are caught);
// every problem is reported with its line so that --check-config can list them all at once.
// Backend sections go to the parser their `type:` registered.

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <thread>

#include "lib/common/FileText.h"
#include "lib/net/TcpListener.h"
#include "proxy/config/Config.h"
#include "proxy/config/LoginConfig.h"
#include "proxy/config/ObservabilityConfig.h"
#include "proxy/config/StateConfig.h"

namespace popgate::config {

namespace {

using Reader = ConfigReader;

void readTlsMode(Reader& r, const YAML::Node& node, TlsMode& out) {
  std::string mode;
  if (!r.scalar(node, "tls", mode)) return;
  if (mode == "none")
    out = TlsMode::None;
  else if (mode == "starttls")
    out = TlsMode::StartTls;
  else if (mode == "implicit")
    out = TlsMode::Implicit;
  else
    r.problem(node, "tls must be none, starttls or implicit");
}

bool isLoopback(const std::string& address) {
  return address.starts_with("127.") || address == "::1";
}

void readTls(Reader& r, const YAML::Node& node, Config& config) {
  if (!r.mapping(node, "tls", {"certificates", "min_version", "ciphers"})) return;
  net::TlsServerSettings tls;
  const YAML::Node& certificates = node["certificates"];
  if (!certificates || !certificates.IsSequence() || certificates.size() == 0) {
    r.problem(node, "tls.certificates must be a non-empty list");
  } else {
    for (const auto& item : certificates) {
      if (!r.mapping(item, "certificate", {"cert", "key", "server_names"})) continue;
      net::TlsCertificateFiles files;
      if (!item["cert"])
        r.problem(item, "certificate needs cert");
      else
        r.scalar(item["cert"], "cert", files.certFile);
      if (!item["key"])
        r.problem(item, "certificate needs key");
      else
        r.scalar(item["key"], "key", files.keyFile);
      if (const YAML::Node& names = item["server_names"]) {
        if (!names.IsSequence())
          r.problem(names, "server_names must be a list");
        else
          for (const auto& name : names) {
            std::string value;
            if (r.scalar(name, "server name", value)) files.serverNames.push_back(value);
          }
      }
      tls.certificates.push_back(std::move(files));
    }
  }
  if (const YAML::Node& version = node["min_version"]) {
    std::string text;
    if (r.scalar(version, "min_version", text)) {
      auto parsed = net::parseTlsVersion(text);
      if (parsed)
        tls.minVersion = parsed.value();
      else
        r.problem(version, parsed.error().detail);
    }
  }
  if (node["ciphers"]) r.scalar(node["ciphers"], "ciphers", tls.ciphers);
  // Load the files now, so that --check-config reports unreadable or mismatched ones.
  if (!tls.certificates.empty()) {
    if (auto context = net::TlsServerContext::create(tls); !context) {
      r.problem(node, context.error().detail);
    }
  }
  config.tls = std::move(tls);
}

void readProxyProtocol(Reader& r, const YAML::Node& item, ListenerConfig& listener) {
  if (item["proxy_protocol"])
    r.scalar(item["proxy_protocol"], "proxy_protocol", listener.proxyProtocol);
  if (const YAML::Node& from = item["proxy_protocol_from"]) {
    if (!from.IsSequence())
      return r.problem(from, "proxy_protocol_from must be a list of networks");
    for (const auto& entry : from) {
      std::string text;
      if (!r.scalar(entry, "network", text)) continue;
      if (auto network = net::IpNetwork::parse(text))
        listener.proxyProtocolFrom.push_back(*network);
      else
        r.problem(entry, "not an address or CIDR network: " + text);
    }
  }
  // Anyone who may send the header chooses the address every limit is keyed on.
  if (listener.proxyProtocol && listener.proxyProtocolFrom.empty())
    r.problem(item, "proxy_protocol needs proxy_protocol_from: the balancers' networks");
}

void readListeners(Reader& r, const YAML::Node& node, Config& config) {
  if (!node.IsSequence() || node.size() == 0) {
    return r.problem(node, "listeners must be a non-empty list");
  }
  std::set<std::string> names;
  // Every listener socket has SO_REUSEPORT (one per worker), so the kernel would let two
  // listeners share an address and port and hand each connection to either at random: a plain
  // and a TLS listener on one port would be a coin toss per client. Compared as parsed addresses.
  std::map<std::string, std::string> endpoints;  // address bytes and port -> listener name
  for (const auto& item : node) {
    if (!r.mapping(item, "listener",
                   {"name", "address", "port", "tls", "auth_requires_tls", "proxy_protocol",
                    "proxy_protocol_from"}))
      continue;
    ListenerConfig listener;
    if (!item["name"])
      r.problem(item, "listener needs a name");
    else if (r.scalar(item["name"], "listener name", listener.name) &&
             !names.insert(listener.name).second) {
      r.problem(item["name"], "duplicate listener name '" + listener.name + "'");
    }
    if (!item["address"]) {
      r.problem(item, "listener needs an address");
    } else if (r.scalar(item["address"], "listener address", listener.address) &&
               !net::parseAddress(listener.address, 0)) {
      r.problem(item["address"], "address must be an IPv4 or IPv6 literal: " + listener.address);
    }
    if (!item["port"])
      r.problem(item, "listener needs a port");
    else
      r.port(item["port"], "listener port", listener.port);
    if (item["tls"]) readTlsMode(r, item["tls"], listener.tls);
    readProxyProtocol(r, item, listener);
    listener.authRequiresTls = listener.proxyProtocol || !isLoopback(listener.address);
    if (item["auth_requires_tls"])
      r.scalar(item["auth_requires_tls"], "auth_requires_tls", listener.authRequiresTls);
    if (listener.tls != TlsMode::None && !config.tls) {
      r.problem(item, "listener '" + listener.name + "' uses TLS but there is no tls: block");
    }
    // Behind a balancer, TLS may end at the balancer (PP2_TYPE_SSL says so per client).
    if (listener.tls == TlsMode::None && listener.authRequiresTls && !listener.proxyProtocol) {
      r.problem(
          item,
          "listener '" + listener.name +
              "' requires TLS for login but offers none (set tls or auth_requires_tls: false)");
    }
    if (auto address = net::parseAddress(listener.address, listener.port);
        address && listener.port != 0) {
      std::size_t length =
          address.value().ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
      std::string key(reinterpret_cast<const char*>(&address.value()), length);
      auto [other, fresh] = endpoints.emplace(key, listener.name);
      if (!fresh) {
        r.problem(item, "listener '" + listener.name + "' has the same address and port as '" +
                            other->second + "'");
      }
    }
    config.listeners.push_back(std::move(listener));
  }
}

void readLockPolicy(Reader& r, const YAML::Node& node, login::LockPolicy& out) {
  std::string policy;
  if (!r.scalar(node, "lock", policy)) return;
  if (policy == "exclusive")
    out = login::LockPolicy::Exclusive;
  else if (policy == "none")
    out = login::LockPolicy::None;
  else
    r.problem(node, "lock must be exclusive or none");
}

void readBackends(Reader& r, const YAML::Node& node, const backends::BackendRegistry& registry,
                  Config& config) {
  if (!node.IsMap()) return r.problem(node, "backends must be a mapping of names to backends");
  for (const auto& item : node) {
    std::string name = item.first.as<std::string>("");
    const YAML::Node& body = item.second;
    if (!body.IsMap()) {
      r.problem(body, "backend '" + name + "' must be a mapping");
      continue;
    }
    std::string type;
    if (!body[backends::kBackendTypeKey]) {
      r.problem(body, "backend '" + name + "' needs a type");
      continue;
    }
    if (!r.scalar(body[backends::kBackendTypeKey], "backend type", type)) continue;
    const backends::BackendParser* parse = registry.find(type);
    if (!parse) {
      r.problem(body[backends::kBackendTypeKey],
                "unsupported backend type '" + type + "' (supported: " + registry.typeList() + ")");
      continue;
    }
    // `login:` and `lock:` are popgate's, not the kind's: read here, and hidden from the kind's
    // key check (a clone keeps the line numbers).
    YAML::Node section = body;
    if (body["login"]) readBackendLogin(r, body["login"], name, config.logins[name]);
    if (body["lock"]) readLockPolicy(r, body["lock"], config.logins[name].lock);
    if (body["login"] || body["lock"]) {
      section = YAML::Clone(body);
      section.remove("login");
      section.remove("lock");
    }
    // The kind checks its own keys and values, with the same line-numbered problems.
    if (auto definition = (*parse)(r, section, name)) config.backends[name] = std::move(definition);
  }
}

void readRouting(Reader& r, const YAML::Node& node, Config& config) {
  if (!r.mapping(node, "routing", {"default_backend", "separators", "domains", "lookup"})) return;
  if (node["lookup"]) readLookup(r, node["lookup"], config);
  route::RoutingTable& table = config.routing;
  if (node["default_backend"]) {
    std::string name;
    if (r.scalar(node["default_backend"], "default_backend", name)) {
      table.defaultBackend = name;
      if (!config.backends.count(name)) {
        r.problem(node["default_backend"],
                  "default_backend names an unknown backend '" + name + "'");
      }
    }
  }
  if (node["separators"]) r.scalar(node["separators"], "separators", table.separators);
  if (!node["domains"]) return;
  if (!node["domains"].IsMap()) return r.problem(node["domains"], "domains must be a mapping");
  for (const auto& item : node["domains"]) {
    std::string host = item.first.as<std::string>("");
    const YAML::Node& rule = item.second;
    if (!r.mapping(rule, "domain '" + host + "'", {"backend", "upstream_user", "lock"})) continue;
    route::DomainRule domain;
    if (!rule["backend"])
      r.problem(rule, "domain '" + host + "' needs a backend");
    else if (r.scalar(rule["backend"], "domain backend", domain.backend) &&
             !config.backends.count(domain.backend)) {
      r.problem(rule["backend"],
                "domain '" + host + "' names an unknown backend '" + domain.backend + "'");
    }
    if (rule["upstream_user"]) {
      std::string mode;
      if (r.scalar(rule["upstream_user"], "upstream_user", mode)) {
        if (mode == "full")
          domain.upstreamUser = route::UpstreamUser::Full;
        else if (mode == "local")
          domain.upstreamUser = route::UpstreamUser::Local;
        else
          r.problem(rule["upstream_user"], "upstream_user must be 'full' or 'local'");
      }
    }
    if (rule["lock"]) readLockPolicy(r, rule["lock"], domain.lock.emplace());
    table.domains[host] = std::move(domain);
  }
}

void readSession(Reader& r, const YAML::Node& node, SessionConfig& session) {
  if (!r.mapping(node, "session", {"idle_timeout_s", "login_timeout_s", "max_bad_commands"}))
    return;
  if (node["idle_timeout_s"]) {
    r.seconds(node["idle_timeout_s"], "idle_timeout_s", session.idleTimeout);
    if (session.idleTimeout < std::chrono::seconds(600)) {
      r.warning(node["idle_timeout_s"], "idle_timeout_s below 600 breaks RFC 1939 §3 (tests only)");
    }
  }
  if (node["login_timeout_s"])
    r.seconds(node["login_timeout_s"], "login_timeout_s", session.loginTimeout, 1);
  if (node["max_bad_commands"])
    r.count(node["max_bad_commands"], "max_bad_commands", session.maxBadCommands, 1);
}

void readLimits(Reader& r, const YAML::Node& node, LimitsConfig& limits) {
  if (!r.mapping(node, "limits",
                 {"max_connections", "max_connections_per_address", "failed_logins"}))
    return;
  if (node["max_connections"])
    r.count(node["max_connections"], "max_connections", limits.maxConnections, 0);
  if (node["max_connections_per_address"])
    r.count(node["max_connections_per_address"], "max_connections_per_address",
            limits.maxConnectionsPerAddress, 0);
  const YAML::Node& failed = node["failed_logins"];
  if (!failed || !r.mapping(failed, "failed_logins",
                            {"window_s", "first_delay_ms", "max_delay_s", "refuse_after"}))
    return;
  login::LoginGuardSettings& guard = limits.failedLogins;
  if (failed["window_s"]) r.seconds(failed["window_s"], "window_s", guard.window, 1);
  if (failed["first_delay_ms"]) {
    std::size_t ms = 0;
    if (r.count(failed["first_delay_ms"], "first_delay_ms", ms, 0, 60000))
      guard.firstDelay = std::chrono::milliseconds(ms);
  }
  if (failed["max_delay_s"]) {
    std::chrono::seconds max{};
    if (r.seconds(failed["max_delay_s"], "max_delay_s", max, 0)) guard.maxDelay = max;
  }
  if (failed["refuse_after"]) r.count(failed["refuse_after"], "refuse_after", guard.refuseAfter, 0);
}

void readDocument(Reader& r, const YAML::Node& root, const backends::BackendRegistry& registry,
                  LoadedConfig& out) {
  Config& config = out.config;
  if (!r.mapping(root, "the configuration",
                 {"workers", "shutdown_timeout_s", "tls", "listeners", "session", "limits",
                  "backends", "routing", "log", "admin", "state"}))
    return;
  config.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (root["workers"] && r.scalar(root["workers"], "workers", config.workers) &&
      (config.workers < 1 || config.workers > 256)) {
    r.problem(root["workers"], "workers must be between 1 and 256");
  }
  if (root["shutdown_timeout_s"])
    r.seconds(root["shutdown_timeout_s"], "shutdown_timeout_s", config.shutdownTimeout, 0);
  if (root["tls"]) readTls(r, root["tls"], config);
  if (!root["listeners"])
    r.problem(root, "listeners is required");
  else
    readListeners(r, root["listeners"], config);
  if (root["session"]) readSession(r, root["session"], config.session);
  if (root["limits"]) readLimits(r, root["limits"], config.limits);
  if (!root["backends"])
    r.problem(root, "backends is required");
  else
    readBackends(r, root["backends"], registry, config);
  if (!root["routing"])
    r.problem(root, "routing is required");
  else
    readRouting(r, root["routing"], config);
  if (root["log"]) readLog(r, root["log"], config.log);
  if (root["admin"]) readAdmin(r, root["admin"], config);
  if (root["state"]) readState(r, root["state"], config.state);
}

}  // namespace

LoadedConfig loadConfigText(const std::string& yaml, const backends::BackendRegistry& registry) {
  LoadedConfig out;
  Reader reader(out.problems, out.warnings);
  try {
    YAML::Node root = YAML::Load(yaml);
    readDocument(reader, root, registry, out);
  } catch (const YAML::Exception& e) {
    out.problems.push_back({e.mark.line + 1, e.msg});
  }
  return out;
}

LoadedConfig loadConfigFile(const std::string& path, const backends::BackendRegistry& registry) {
  // A configuration is kilobytes; the bound turns a wrong path (a log, a device) into a message.
  auto text = readFileText(path, 16u << 20);
  if (!text) {
    LoadedConfig out;
    out.problems.push_back({0, text.error().detail});
    return out;
  }
  return loadConfigText(text.value(), registry);
}

}  // namespace popgate::config
