#pragma once
// popgate's configuration as plain values. ConfigLoader fills it from YAML and validates it.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/net/TlsContext.h"
#include "proxy/route/SdpsRouter.h"

namespace popgate::config {

enum class TlsMode { None, StartTls, Implicit };

struct ListenerConfig {
  std::string name;
  std::string address;
  int port = 110;
  TlsMode tls = TlsMode::None;
  // RFC 2595 §2.1: refuse USER/PASS before STLS. Default: true, except on loopback addresses.
  bool authRequiresTls = true;
};

struct SessionConfig {
  // RFC 1939 §3: an autologout timer of at least 10 minutes.
  std::chrono::seconds idleTimeout{600};
};

struct BackendConfig {
  std::string name;
  std::string type;  // "imap"
  std::string host;
  int port = 143;
  std::string mailbox = "INBOX";
  std::chrono::seconds connectTimeout{10};
  std::chrono::seconds commandTimeout{60};
  // Messages fetched ahead of a client that RETRs in order, held per session (0: off).
  std::uint64_t readAheadBytes = 256 * 1024;
  TlsMode tls = TlsMode::None;
  net::TlsClientSettings tlsClient;  // serverName defaults to host
};

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error, off
};

struct Config {
  int workers = 1;  // event-loop threads; the loader defaults it to the number of CPUs
  // SIGTERM/SIGINT: how long sessions may go on after listening stopped (0: close at once).
  std::chrono::seconds shutdownTimeout{30};
  std::optional<net::TlsServerSettings> tls;  // the top-level tls: block
  std::vector<ListenerConfig> listeners;
  SessionConfig session;
  std::map<std::string, BackendConfig> backends;
  route::RoutingTable routing;
  LogConfig log;
};

struct ConfigProblem {
  int line = 0;  // 1-based; 0 when no line applies
  std::string message;
};

struct LoadedConfig {
  Config config;
  std::vector<ConfigProblem> problems;  // empty means valid
  std::vector<ConfigProblem> warnings;
};

LoadedConfig loadConfigFile(const std::string& path);
LoadedConfig loadConfigText(const std::string& yaml);

}  // namespace popgate::config
