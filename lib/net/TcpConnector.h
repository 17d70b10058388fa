#pragma once
// Opens a TCP connection to host:port (a name is resolved asynchronously), bounded by a timeout.
// Destroying the connector cancels the attempt: its callback never fires afterwards.

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/common/Result.h"
#include "lib/net/TcpStream.h"
#include "lib/net/Timer.h"

namespace popgate::net {

class TcpConnector {
 public:
  using Callback = std::function<void(Result<std::unique_ptr<TcpStream>>)>;

  explicit TcpConnector(uv_loop_t* loop);
  ~TcpConnector();
  TcpConnector(const TcpConnector&) = delete;
  TcpConnector& operator=(const TcpConnector&) = delete;

  void connect(const std::string& host, int port, std::chrono::milliseconds timeout, Callback done);

 private:
  struct Resolve;
  struct Attempt;
  void resolved(int status, addrinfo* result);
  void tryNext();
  void connected(int status);
  void finish(Result<std::unique_ptr<TcpStream>> result);

  uv_loop_t* loop_;
  Timer timer_;
  Callback done_;
  std::string target_;
  std::vector<sockaddr_storage> addresses_;
  std::size_t next_ = 0;
  std::unique_ptr<TcpStream> stream_;
  Resolve* resolving_ = nullptr;  // owned by libuv until its callback
  Attempt* attempt_ = nullptr;    // owned by libuv until its callback
  std::string lastError_;
  bool starting_ = false;  // inside connect()
};

}  // namespace popgate::net
