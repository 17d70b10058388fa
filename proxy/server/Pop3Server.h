#pragma once
// Accepts POP3 clients on the configured listeners and owns their connections.

#include <uv.h>

#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "lib/net/DeferredDeleter.h"
#include "lib/net/ProxiedStream.h"
#include "lib/net/TcpListener.h"
#include "lib/net/Timer.h"
#include "proxy/config/Config.h"
#include "proxy/server/LoginServices.h"
#include "proxy/server/Pop3Connection.h"
#include "proxy/server/SharedServices.h"
#include "proxy/server/WorkerService.h"

namespace popgate::server {

class Pop3Server final : public WorkerService {
 public:
  // `tls` is the server TLS context shared by all workers (null without a tls: block).
  // `inherited`: listening sockets of the configuration this one replaces (SIGHUP); a listener
  // on the same address and port adopts its socket instead of binding a new one.
  Pop3Server(uv_loop_t* loop, const config::Config& config, SharedServices& shared,
             std::shared_ptr<const net::TlsServerContext> tls,
             std::vector<ListeningSocket> inherited = {});
  // Stops accepting and drops every connection (nothing uncommitted is deleted upstream).
  ~Pop3Server() override;

  Status start() override;
  std::size_t activeCount() const override { return connections_.size(); }
  // Closes the listeners; each session is told to shut down (Session::shutdown).
  void drain(std::function<void()> drained) override;
  void closeRemaining() override;
  // Closes the listeners; sessions go on until they end.
  void retire(std::function<void()> drained) override;
  std::vector<ListeningSocket> listening() const override;

 private:
  void accept(const config::ListenerConfig& listener, std::unique_ptr<net::TcpStream> stream);
  // proxy_protocol listeners: the balancer's header first, then the session.
  void acceptProxied(const config::ListenerConfig& listener,
                     std::unique_ptr<net::TcpStream> stream);
  void startSession(const config::ListenerConfig& listener, std::unique_ptr<net::ByteStream> stream,
                    bool tlsAtBalancer);
  void release(Pop3Connection* connection);
  // Calls `fn` on every connection; it may release them (they are freed later, by the deleter).
  void forEachConnection(const std::function<void(Pop3Connection&)>& fn);
  void reportIfDrained();

  uv_loop_t* loop_;
  const config::Config& config_;
  SharedServices& shared_;
  pop3::SessionSettings sessionDefaults_;  // computed once: hostname, CAPA login policy, limits
  LoginServices login_;
  net::DeferredDeleter deleter_;
  std::vector<ListeningSocket> inherited_;
  std::vector<std::unique_ptr<net::TcpListener>> listeners_;
  std::vector<std::string> listenerNames_;  // "address:port" of each of listeners_
  std::shared_ptr<const net::TlsServerContext> tls_;
  std::unordered_map<Pop3Connection*, std::unique_ptr<Pop3Connection>> connections_;
  // Connections from a balancer whose PROXY protocol header has not arrived yet.
  std::unordered_map<net::ProxiedStream*, std::unique_ptr<net::ProxiedStream>> awaitingHeader_;
  bool draining_ = false;  // drain() or retire(): drained_ runs once no connection is left
  std::function<void()> drained_;
  net::Timer drainedNotice_;  // reports the end of the drain from the loop, never from drain()
};

}  // namespace popgate::server
