#pragma once
// popgate's configuration as plain values. ConfigLoader fills it from YAML and validates it.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backends/mailbox/BackendRegistry.h"
#include "lib/config/ConfigReader.h"
#include "lib/net/IpNetwork.h"
#include "lib/net/TlsContext.h"
#include "proxy/login/LoginGuard.h"
#include "proxy/login/LoginPolicy.h"
#include "proxy/route/AuthHttpLookup.h"
#include "proxy/route/SdpsRouter.h"

namespace popgate::config {

enum class TlsMode { None, StartTls, Implicit };

struct ListenerConfig {
  std::string name;
  std::string address;
  int port = 110;
  TlsMode tls = TlsMode::None;
  // RFC 2595 §2.1: refuse USER/PASS before STLS. Default: true, except on loopback addresses
  // without proxy_protocol (behind a balancer the clients are remote, wherever it listens).
  bool authRequiresTls = true;
  // Every connection starts with a PROXY protocol header (v1 or v2) from a load balancer in one
  // of proxyProtocolFrom; its client address replaces the balancer's. A client whose balancer
  // ended TLS for it (v2 PP2_TYPE_SSL, HAProxy send-proxy-v2-ssl) counts as TLS.
  bool proxyProtocol = false;
  std::vector<net::IpNetwork> proxyProtocolFrom;
};

struct SessionConfig {
  // RFC 1939 §3: an autologout timer of at least 10 minutes.
  std::chrono::seconds idleTimeout{600};
  // From the greeting to a successful login, however active the client: a client that never
  // logs in (a guesser, a stuck scanner) does not hold a connection for ten minutes.
  std::chrono::seconds loginTimeout{120};
  std::size_t maxBadCommands = 20;  // unknown or malformed commands, then the connection closes
};

struct LimitsConfig {
  std::size_t maxConnections = 10000;          // 0: no limit
  std::size_t maxConnectionsPerAddress = 256;  // 0: no limit
  login::LoginGuardSettings failedLogins;
};

// routing.lookup: the auth_http-compatible service that routes (and checks) every login.
struct LookupConfig {
  std::shared_ptr<const route::AuthHttpSettings> settings;
  std::shared_ptr<const net::TlsClientContext> tls;  // an https url
  std::string backend;  // the template whose settings go toward Auth-Server:Auth-Port
};

enum class LogFormat { Text, Json };

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error, off
  LogFormat format = LogFormat::Text;
};

// The admin endpoint (`admin:`, off without it): /metrics, /healthz, /readyz over HTTP/1.1.
struct AdminConfig {
  std::string address = "127.0.0.1";  // loopback unless set: metrics are not for everyone
  int port = 0;
};

// `state:`: where what replicas share lives. local: in this process (one replica). redis: the
// mailbox locks are leases in Redis, shared by every popgate that names the same server and
// key_prefix (see proxy/login/RedisLockService.h).
enum class StateType { Local, Redis };

struct StateConfig {
  StateType type = StateType::Local;
  std::string address = "127.0.0.1";  // an IP literal or a name (looked up at each connect)
  int port = 6379;
  std::string keyPrefix = "popgate:";
  std::chrono::seconds lease{60};  // how long a dead replica's mailboxes stay locked
  // Bounds connecting and every command: past it a login answers [SYS/TEMP].
  std::chrono::seconds connectTimeout{2};
  std::string password;  // from password_file
};

struct Config {
  int workers = 1;  // event-loop threads; the loader defaults it to the number of CPUs
  // SIGTERM/SIGINT: how long sessions may go on after listening stopped (0: close at once).
  std::chrono::seconds shutdownTimeout{30};
  std::optional<net::TlsServerSettings> tls;  // the top-level tls: block
  std::vector<ListenerConfig> listeners;
  SessionConfig session;
  LimitsConfig limits;
  // Each parsed by its kind (backends::BackendRegistry); instantiated once per worker.
  std::map<std::string, std::shared_ptr<const backends::BackendDefinition>> backends;
  // How logins to each backend are checked and sent upstream; a backend without a `login:`
  // block is passthrough.
  std::map<std::string, login::LoginPolicy> logins;
  route::RoutingTable routing;
  std::optional<LookupConfig> lookup;  // routing.lookup
  LogConfig log;
  std::optional<AdminConfig> admin;
  StateConfig state;
};

using config::ConfigProblem;

struct LoadedConfig {
  Config config;
  std::vector<ConfigProblem> problems;  // empty means valid
  std::vector<ConfigProblem> warnings;
};

// Backend sections are parsed by the kinds in `registry`.
LoadedConfig loadConfigFile(const std::string& path, const backends::BackendRegistry& registry);
LoadedConfig loadConfigText(const std::string& yaml, const backends::BackendRegistry& registry);

}  // namespace popgate::config
