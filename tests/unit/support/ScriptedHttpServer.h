#pragma once
// A scripted HTTP/1.1 server on 127.0.0.1:0, on the test's own loop, for what a real server
// will not do on demand (a body cut short, a hang, a close between requests, a byte-by-byte
// chunked body). It frames each request (head, then a Content-Length body), records it, and
// hands it to the test's script with the connection it came on; the script answers with raw
// bytes. Many connections at once, each with its own number (1, 2, ... in order of arrival).

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/net/ByteStream.h"
#include "lib/net/TcpListener.h"
#include "lib/net/TcpStream.h"

namespace popgate::http::test {

class ScriptedHttpServer {
 public:
  struct Request {
    int connection = 0;  // which connection it came on
    std::string method;
    std::string target;  // as sent: a path, or an absolute URL through a proxy
    std::string head;    // the whole head as sent, request line included
    std::string body;
    // The first header with this name, any case; empty when absent.
    std::string header(std::string_view name) const;
  };
  using Script = std::function<void(const Request&)>;

  explicit ScriptedHttpServer(uv_loop_t* loop);
  ~ScriptedHttpServer();

  int port() const { return listener_.boundPort(); }
  std::string url(std::string_view path = "/") const;
  void setScript(Script script) { script_ = std::move(script); }

  void send(int connection, std::string bytes);
  // Sends what is queued on that connection, then closes it.
  void close(int connection);
  // Closes every connection that is open now.
  void closeAll();

  int connections() const { return static_cast<int>(clients_.size()); }
  int openConnections() const;
  const std::vector<Request>& requests() const { return requests_; }
  // Raw bytes a connection brought (a CONNECT tunnel's TLS bytes, say).
  const std::string& received(int connection) const;

 private:
  class Client;
  void accepted(std::unique_ptr<net::TcpStream> stream);
  void parse(Client& client);

  net::TcpListener listener_;
  Script script_;
  std::map<int, std::unique_ptr<Client>> clients_;
  std::vector<Request> requests_;
};

}  // namespace popgate::http::test
