#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "lib/common/Result.h"
#include "lib/net/TcpStream.h"
#include "lib/net/UvHandle.h"

namespace popgate::net {

class TcpListener {
 public:
  using AcceptCallback = std::function<void(std::unique_ptr<TcpStream>)>;

  explicit TcpListener(uv_loop_t* loop);
  // address is an IPv4 or IPv6 literal. reusePort lets one listener per worker thread share
  // the port (the kernel spreads connections across them).
  Status listen(const std::string& address, int port, bool reusePort, AcceptCallback onAccept);
  // Listens on a socket another listener (of an earlier configuration, on another loop) holds
  // already: a duplicate of `fd` shares its accept queue, so a reload neither refuses nor drops a
  // client while the old listener closes. `what` names it in errors.
  Status adopt(int fd, const std::string& what, AcceptCallback onAccept);
  int boundPort() const;
  // The listening socket's descriptor, for adopt() by a successor; -1 when there is none.
  int descriptor() const;

 private:
  Status startListening(const std::string& what);

  uv_loop_t* loop_;
  UvHandle<uv_tcp_t> handle_;
  AcceptCallback onAccept_;
};

// Parses an IP literal and port into a socket address.
Result<sockaddr_storage> parseAddress(const std::string& address, int port);

}  // namespace popgate::net
