// YAML -> Config. The only place where yaml-cpp's exceptions are caught; every problem is
// reported with its line so that --check-config can list them all at once.

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "proxy/config/Config.h"
#include "lib/net/TcpListener.h"

namespace popgate::config {

namespace {

constexpr std::uint64_t kMaxReadAheadBytes = 16 * 1024 * 1024;

class Reader {
 public:
  explicit Reader(LoadedConfig& out) : out_(out) {}

  void problem(const YAML::Node& node, std::string message) {
    out_.problems.push_back({node.Mark().line + 1, std::move(message)});
  }
  void warning(const YAML::Node& node, std::string message) {
    out_.warnings.push_back({node.Mark().line + 1, std::move(message)});
  }

  // Reports keys of a mapping that are not in `known`.
  bool mapping(const YAML::Node& node, const std::string& where, std::set<std::string> known) {
    if (!node.IsMap()) {
      problem(node, where + " must be a mapping");
      return false;
    }
    for (const auto& item : node) {
      std::string key = item.first.as<std::string>("");
      if (!known.count(key)) problem(item.first, "unknown key '" + key + "' in " + where);
    }
    return true;
  }

  template <class T>
  bool scalar(const YAML::Node& node, const std::string& what, T& out) {
    if (!node.IsScalar()) {
      problem(node, what + " must be a scalar");
      return false;
    }
    try {
      out = node.as<T>();
      return true;
    } catch (const YAML::Exception&) {
      problem(node, what + " has an invalid value '" + node.Scalar() + "'");
      return false;
    }
  }

  void port(const YAML::Node& node, const std::string& what, int& out) {
    if (scalar(node, what, out) && (out < 1 || out > 65535)) {
      problem(node, what + " must be between 1 and 65535");
    }
  }

  void seconds(const YAML::Node& node, const std::string& what, std::chrono::seconds& out,
               long min = 1) {
    long value = 0;
    if (!scalar(node, what, value)) return;
    if (value < min || value > 86400) {
      return problem(node, what + " must be between " + std::to_string(min) + " and 86400");
    }
    out = std::chrono::seconds(value);
  }

 private:
  LoadedConfig& out_;
};

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
    if (!r.mapping(item, "listener", {"name", "address", "port", "tls", "auth_requires_tls"}))
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
    listener.authRequiresTls = !isLoopback(listener.address);
    if (item["auth_requires_tls"])
      r.scalar(item["auth_requires_tls"], "auth_requires_tls", listener.authRequiresTls);
    if (listener.tls != TlsMode::None && !config.tls) {
      r.problem(item, "listener '" + listener.name + "' uses TLS but there is no tls: block");
    }
    if (listener.tls == TlsMode::None && listener.authRequiresTls) {
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

void readBackends(Reader& r, const YAML::Node& node, Config& config) {
  if (!node.IsMap()) return r.problem(node, "backends must be a mapping of names to backends");
  for (const auto& item : node) {
    BackendConfig backend;
    backend.name = item.first.as<std::string>("");
    const YAML::Node& body = item.second;
    // Unknown-key check per backend, not for the names themselves.
    if (!body.IsMap()) {
      r.problem(body, "backend '" + backend.name + "' must be a mapping");
      continue;
    }
    for (const auto& field : body) {
      static const std::set<std::string> known = {"type",
                                                  "host",
                                                  "port",
                                                  "mailbox",
                                                  "connect_timeout_s",
                                                  "command_timeout_s",
                                                  "read_ahead_bytes",
                                                  "tls",
                                                  "ca_file",
                                                  "verify",
                                                  "server_name",
                                                  "client_cert",
                                                  "client_key"};
      std::string key = field.first.as<std::string>("");
      if (!known.count(key)) r.problem(field.first, "unknown key '" + key + "' in backend");
    }
    if (!body["type"])
      r.problem(body, "backend '" + backend.name + "' needs a type");
    else if (r.scalar(body["type"], "backend type", backend.type) && backend.type != "imap") {
      r.problem(body["type"], "unsupported backend type '" + backend.type + "' (supported: imap)");
    }
    if (!body["host"])
      r.problem(body, "backend '" + backend.name + "' needs a host");
    else
      r.scalar(body["host"], "backend host", backend.host);
    if (body["port"]) r.port(body["port"], "backend port", backend.port);
    if (body["mailbox"]) r.scalar(body["mailbox"], "backend mailbox", backend.mailbox);
    if (body["connect_timeout_s"])
      r.seconds(body["connect_timeout_s"], "connect_timeout_s", backend.connectTimeout);
    if (body["command_timeout_s"])
      r.seconds(body["command_timeout_s"], "command_timeout_s", backend.commandTimeout);
    if (body["read_ahead_bytes"] &&
        r.scalar(body["read_ahead_bytes"], "read_ahead_bytes", backend.readAheadBytes) &&
        backend.readAheadBytes > kMaxReadAheadBytes) {
      r.problem(body["read_ahead_bytes"], "read_ahead_bytes must be at most 16777216 (16 MiB)");
    }
    if (body["tls"]) readTlsMode(r, body["tls"], backend.tls);
    net::TlsClientSettings& client = backend.tlsClient;
    if (body["ca_file"]) r.scalar(body["ca_file"], "ca_file", client.caFile);
    if (body["verify"]) r.scalar(body["verify"], "verify", client.verify);
    client.serverName = backend.host;
    if (body["server_name"]) r.scalar(body["server_name"], "server_name", client.serverName);
    if (body["client_cert"]) r.scalar(body["client_cert"], "client_cert", client.certFile);
    if (body["client_key"]) r.scalar(body["client_key"], "client_key", client.keyFile);
    if (client.certFile.empty() != client.keyFile.empty()) {
      r.problem(body, "client_cert and client_key go together");
    }
    if (backend.tls != TlsMode::None) {
      if (auto context = net::TlsClientContext::create(client); !context) {
        r.problem(body, "backend '" + backend.name + "': " + context.error().detail);
      }
    }
    config.backends[backend.name] = std::move(backend);
  }
}

void readRouting(Reader& r, const YAML::Node& node, Config& config) {
  if (!r.mapping(node, "routing", {"default_backend", "separators", "domains"})) return;
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
    if (!r.mapping(rule, "domain '" + host + "'", {"backend", "upstream_user"})) continue;
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
    table.domains[host] = std::move(domain);
  }
}

void readDocument(Reader& r, const YAML::Node& root, LoadedConfig& out) {
  Config& config = out.config;
  if (!r.mapping(root, "the configuration",
                 {"workers", "shutdown_timeout_s", "tls", "listeners", "session", "backends",
                  "routing", "log"}))
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
  if (const YAML::Node& session = root["session"]) {
    if (r.mapping(session, "session", {"idle_timeout_s"}) && session["idle_timeout_s"]) {
      r.seconds(session["idle_timeout_s"], "idle_timeout_s", config.session.idleTimeout);
      if (config.session.idleTimeout < std::chrono::seconds(600)) {
        r.warning(session["idle_timeout_s"],
                  "idle_timeout_s below 600 breaks RFC 1939 §3 (tests only)");
      }
    }
  }
  if (!root["backends"])
    r.problem(root, "backends is required");
  else
    readBackends(r, root["backends"], config);
  if (!root["routing"])
    r.problem(root, "routing is required");
  else
    readRouting(r, root["routing"], config);
  if (const YAML::Node& log = root["log"]) {
    if (r.mapping(log, "log", {"level"}) && log["level"] &&
        r.scalar(log["level"], "log level", config.log.level)) {
      static const std::set<std::string> levels = {"trace", "debug", "info",
                                                   "warn",  "error", "off"};
      if (!levels.count(config.log.level))
        r.problem(log["level"], "log level must be one of trace, debug, info, warn, error, off");
    }
  }
}

}  // namespace

LoadedConfig loadConfigText(const std::string& yaml) {
  LoadedConfig out;
  Reader reader(out);
  try {
    YAML::Node root = YAML::Load(yaml);
    readDocument(reader, root, out);
  } catch (const YAML::Exception& e) {
    out.problems.push_back({e.mark.line + 1, e.msg});
  }
  return out;
}

LoadedConfig loadConfigFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    LoadedConfig out;
    out.problems.push_back({0, "cannot read " + path});
    return out;
  }
  std::ostringstream text;
  text << file.rdbuf();
  return loadConfigText(text.str());
}

}  // namespace popgate::config
