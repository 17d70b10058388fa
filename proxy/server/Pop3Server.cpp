#include "proxy/server/Pop3Server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "lib/common/LogText.h"
#include "lib/net/TlsStream.h"

namespace popgate::server {

namespace {

// A balancer sends its header at once, before any client byte (HAProxy writes it with the
// connect); a peer that sends nothing is not one.
constexpr std::chrono::seconds kProxyHeaderTimeout{10};

bool trustedBalancer(const config::ListenerConfig& listener, const std::string& peer) {
  std::string host = login::LoginGuard::hostOf(peer);
  for (const net::IpNetwork& network : listener.proxyProtocolFrom)
    if (network.contains(host)) return true;
  return false;
}

// What CAPA announces before login (RFC 2449 LOGIN-DELAY, EXPIRE): the smallest value over
// the backends a login may reach, with USER when they differ; after login, the user's own.
void announceLoginPolicy(const config::Config& config, pop3::SessionSettings& out) {
  std::optional<std::uint32_t> minDelay;
  std::optional<std::uint32_t> maxDelay;
  std::optional<std::string> expire;
  std::optional<long> minDays;  // NEVER is longer than any number of days
  bool expireDiffers = false;
  bool first = true;
  for (const auto& [name, definition] : config.backends) {
    auto it = config.logins.find(name);
    std::uint32_t delay = it != config.logins.end() ? it->second.loginDelay.value_or(0) : 0;
    std::string days = it != config.logins.end() ? it->second.expire.value_or("") : "";
    minDelay = std::min(minDelay.value_or(delay), delay);
    maxDelay = std::max(maxDelay.value_or(delay), delay);
    if (!first && days != expire.value_or("")) expireDiffers = true;
    if (first) expire = days;
    first = false;
    if (!days.empty() && days != "NEVER") {
      long value = std::stol(days);
      minDays = std::min(minDays.value_or(value), value);
    }
  }
  if (maxDelay.value_or(0) > 0) {
    out.loginDelay = minDelay;
    out.loginDelayPerUser = minDelay != maxDelay;
  }
  if (expire && (!expire->empty() || expireDiffers)) {
    out.expire = minDays ? std::to_string(*minDays) : std::string("NEVER");
    out.expirePerUser = expireDiffers;
  }
}

std::string hostName() {
  char name[256];
  std::size_t size = sizeof(name);
  if (uv_os_gethostname(name, &size) != 0) return "localhost";
  return std::string(name, size);
}

// What every session of this server starts from; the listener's own keys are added per accept.
pop3::SessionSettings sessionDefaults(const config::Config& config) {
  pop3::SessionSettings out;
  out.maxBadCommands = config.session.maxBadCommands;
  out.hostname = hostName();
  announceLoginPolicy(config, out);
  return out;
}

}  // namespace

Pop3Server::Pop3Server(uv_loop_t* loop, const config::Config& config, SharedServices& shared,
                       std::shared_ptr<const net::TlsServerContext> tls,
                       std::vector<ListeningSocket> inherited)
    : loop_(loop),
      config_(config),
      shared_(shared),
      sessionDefaults_(sessionDefaults(config)),
      login_(loop, config, shared),
      deleter_(loop),
      inherited_(std::move(inherited)),
      tls_(std::move(tls)),
      drainedNotice_(loop) {}

Pop3Server::~Pop3Server() {
  listeners_.clear();
  awaitingHeader_.clear();
  connections_.clear();
  deleter_.flush();
}

Status Pop3Server::start() {
  for (const config::ListenerConfig& listener : config_.listeners) {
    auto tcp = std::make_unique<net::TcpListener>(loop_);
    std::string where = listener.address + ":" + std::to_string(listener.port);
    auto onAccept = [this, &listener](std::unique_ptr<net::TcpStream> stream) {
      accept(listener, std::move(stream));
    };
    auto inherited = std::find_if(
        inherited_.begin(), inherited_.end(),
        [&](const ListeningSocket& socket) { return listener.port != 0 && socket.where == where; });
    Status status = inherited != inherited_.end() ? tcp->adopt(inherited->fd, where, onAccept)
                                                  : tcp->listen(listener.address, listener.port,
                                                                config_.workers > 1, onAccept);
    if (!status) return status;
    spdlog::info("listener {} on {}:{}{}", listener.name, listener.address, tcp->boundPort(),
                 inherited != inherited_.end() ? " (kept from the previous configuration)" : "");
    listeners_.push_back(std::move(tcp));
    listenerNames_.push_back(std::move(where));
  }
  inherited_.clear();  // the descriptors belong to the previous configuration's listeners
  return Ok{};
}

std::vector<ListeningSocket> Pop3Server::listening() const {
  std::vector<ListeningSocket> sockets;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    sockets.push_back({listenerNames_[i], listeners_[i]->descriptor()});
  }
  return sockets;
}

void Pop3Server::retire(std::function<void()> drained) {
  draining_ = true;
  drained_ = std::move(drained);
  listeners_.clear();  // the successor holds its own descriptor of each socket: nothing is refused
  listenerNames_.clear();
  reportIfDrained();
}

void Pop3Server::drain(std::function<void()> drained) {
  draining_ = true;
  drained_ = std::move(drained);
  // A closed listening socket makes the kernel refuse new clients at once (and reset those that
  // were still in its accept queue, who never got a greeting).
  listeners_.clear();
  listenerNames_.clear();
  awaitingHeader_.clear();  // not yet sessions: nothing to finish
  forEachConnection([](Pop3Connection& connection) { connection.shutdown(false); });
  reportIfDrained();
}

void Pop3Server::closeRemaining() {
  forEachConnection([](Pop3Connection& connection) { connection.shutdown(true); });
}

void Pop3Server::forEachConnection(const std::function<void(Pop3Connection&)>& fn) {
  std::vector<Pop3Connection*> all;
  all.reserve(connections_.size());
  for (const auto& entry : connections_) all.push_back(entry.first);
  for (Pop3Connection* connection : all) fn(*connection);
}

void Pop3Server::reportIfDrained() {
  // A retired server still waits for the PROXY headers under way: those become sessions.
  if (!draining_ || !connections_.empty() || !awaitingHeader_.empty() || !drained_) return;
  drainedNotice_.start(std::chrono::milliseconds(0),
                       [this] { std::exchange(drained_, nullptr)(); });
}

void Pop3Server::accept(const config::ListenerConfig& listener,
                        std::unique_ptr<net::TcpStream> stream) {
  if (listener.proxyProtocol) return acceptProxied(listener, std::move(stream));
  startSession(listener, std::move(stream), false);
}

void Pop3Server::acceptProxied(const config::ListenerConfig& listener,
                               std::unique_ptr<net::TcpStream> stream) {
  std::string balancer = stream->peerAddress();
  if (!trustedBalancer(listener, balancer)) {
    // Closed without a byte: whoever may send a header chooses the address every limit counts.
    spdlog::warn("{}: refused on listener {}: not in proxy_protocol_from", balancer, listener.name);
    return;
  }
  auto proxied = std::make_unique<net::ProxiedStream>(loop_, std::move(stream));
  net::ProxiedStream* raw = proxied.get();
  awaitingHeader_.emplace(raw, std::move(proxied));
  raw->readHeader(kProxyHeaderTimeout, [this, &listener, raw, balancer](Status status) {
    auto entry = awaitingHeader_.extract(raw);
    if (entry.empty()) return;
    if (!status) {
      // A bad header is a misconfigured balancer (no send-proxy); a silent or closed peer is not.
      auto level =
          status.error().code == ErrorCode::Invalid ? spdlog::level::warn : spdlog::level::info;
      spdlog::log(level, "{}: closed on listener {}: {}", balancer, listener.name,
                  logText(status.error().detail));
      deleter_.retire(std::move(entry.mapped()));  // we are inside its callback
      reportIfDrained();
      return;
    }
    spdlog::debug("{}: PROXY protocol from {}", raw->peerAddress(), balancer);
    bool tlsAtBalancer = raw->clientTls();
    startSession(listener, std::move(entry.mapped()), tlsAtBalancer);
  });
}

void Pop3Server::startSession(const config::ListenerConfig& listener,
                              std::unique_ptr<net::ByteStream> stream, bool tlsAtBalancer) {
  ConnectionSettings settings;
  settings.idleTimeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.session.idleTimeout);
  settings.loginTimeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.session.loginTimeout);
  settings.session = sessionDefaults_;
  settings.session.authRequiresTls = listener.authRequiresTls;
  settings.listener = listener.name;
  settings.metrics = &shared_.metrics;
  settings.log =
      std::make_shared<LogContext>(LogContext{newSessionId(), stream->peerAddress(), {}, {}});
  settings.slot = shared_.connections.admit(login::LoginGuard::hostOf(stream->peerAddress()));
  if (!settings.slot) settings.refusal = "Too many connections, try again later.";
  std::unique_ptr<net::ByteStream> transport = std::move(stream);
  if (listener.tls == config::TlsMode::Implicit) {
    settings.session.secure = true;
    metrics::Counter& ok = shared_.metrics.tlsHandshakes.labels({listener.name, "ok"});
    metrics::Counter& failed = shared_.metrics.tlsHandshakes.labels({listener.name, "failed"});
    transport = std::make_unique<net::TlsStream>(
        loop_, std::move(transport), tls_->newSession(), net::TlsStream::Role::Server,
        [&ok, &failed](Status status) { (status ? ok : failed).inc(); });
    // The SSL's SNI callback points into the context: the connection must keep it alive
    // even when a SIGHUP reload replaces tls_ before the client's ClientHello arrives.
    settings.tls = tls_;
  } else if (tlsAtBalancer) {
    settings.session.secure = true;  // the balancer ended the client's TLS (PP2_TYPE_SSL)
  } else if (listener.tls == config::TlsMode::StartTls) {
    settings.session.stlsAvailable = true;
    settings.tls = tls_;
  }
  auto connection = std::make_unique<Pop3Connection>(
      loop_, std::move(transport), login_.authenticator(), login_.locks(), std::move(settings),
      [this](Pop3Connection* done) { release(done); });
  Pop3Connection* raw = connection.get();
  connections_.emplace(raw, std::move(connection));
  raw->start();
}

void Pop3Server::release(Pop3Connection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  deleter_.retire(std::move(it->second));
  connections_.erase(it);
  reportIfDrained();
}

}  // namespace popgate::server
