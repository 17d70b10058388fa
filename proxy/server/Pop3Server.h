#pragma once
// Accepts POP3 clients on the configured listeners and owns their connections.

#include <uv.h>

#include <memory>
#include <unordered_map>
#include <vector>

#include "lib/net/DeferredDeleter.h"
#include "lib/net/TcpListener.h"
#include "proxy/config/Config.h"
#include "proxy/server/LoginServices.h"
#include "proxy/server/Pop3Connection.h"

namespace popgate::server {

class Pop3Server {
 public:
  // `tls` is the server TLS context shared by all workers (null without a tls: block).
  Pop3Server(uv_loop_t* loop, const config::Config& config, login::InProcessLocks& locks,
             std::shared_ptr<const net::TlsServerContext> tls);
  ~Pop3Server();

  Status start();
  // Stops accepting and drops every connection (nothing uncommitted is deleted upstream).
  void stop();
  std::size_t connectionCount() const { return connections_.size(); }
  // New certificates (SIGHUP) for new connections; sessions keep the context they started with.
  void setTls(std::shared_ptr<const net::TlsServerContext> tls) { tls_ = std::move(tls); }

 private:
  void accept(const config::ListenerConfig& listener, std::unique_ptr<net::TcpStream> stream);
  void release(Pop3Connection* connection);

  uv_loop_t* loop_;
  const config::Config& config_;
  LoginServices login_;
  net::DeferredDeleter deleter_;
  std::vector<std::unique_ptr<net::TcpListener>> listeners_;
  std::shared_ptr<const net::TlsServerContext> tls_;
  std::unordered_map<Pop3Connection*, std::unique_ptr<Pop3Connection>> connections_;
};

}  // namespace popgate::server
