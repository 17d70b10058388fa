#pragma once
// Accepts POP3 clients on the configured listeners and owns their connections.

#include <uv.h>

#include <memory>
#include <unordered_map>
#include <vector>

#include "auth/MailboxLocks.h"
#include "config/Config.h"
#include "net/DeferredDeleter.h"
#include "net/TcpListener.h"
#include "server/Pop3Connection.h"
#include "server/RoutedDirectory.h"

namespace popgate::server {

class Pop3Server {
 public:
  Pop3Server(uv_loop_t* loop, const config::Config& config, auth::MailboxLocks& locks);
  ~Pop3Server();

  Status start();
  // Stops accepting and drops every connection (nothing uncommitted is deleted upstream).
  void stop();
  std::size_t connectionCount() const { return connections_.size(); }
  // Re-reads the certificates (SIGHUP). Sessions keep the context they started with.
  Status reloadTls();

 private:
  void accept(const config::ListenerConfig& listener, std::unique_ptr<net::TcpStream> stream);
  void release(Pop3Connection* connection);

  uv_loop_t* loop_;
  const config::Config& config_;
  auth::MailboxLocks& locks_;
  RoutedDirectory directory_;
  net::DeferredDeleter deleter_;
  std::vector<std::unique_ptr<net::TcpListener>> listeners_;
  std::shared_ptr<const net::TlsServerContext> tls_;
  std::unordered_map<Pop3Connection*, std::unique_ptr<Pop3Connection>> connections_;
};

}  // namespace popgate::server
