#include "proxy/server/AdminServer.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "lib/http/HttpRequestParser.h"
#include "lib/net/Timer.h"

namespace popgate::server {

namespace {

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

AdminServer::Reply text(int status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body)};
}

}  // namespace

// One client connection: reads one request, writes the answer, closes.
class AdminServer::Exchange final : private net::StreamHandler {
 public:
  Exchange(AdminServer& owner, std::unique_ptr<net::TcpStream> stream)
      : owner_(owner), stream_(std::move(stream)), timer_(owner.loop_) {
    stream_->setHandler(this);
  }
  ~Exchange() override { stream_->setHandler(nullptr); }

  void start(bool overLimit) {
    if (overLimit) return finish(text(503, "too many admin connections\n"), true);
    stream_->startReading();
    timer_.start(kRequestTimeout, [this] { finish(text(408, "request timeout\n"), true); });
  }

 private:
  void onData(std::string_view bytes) override {
    if (answered_) return;
    switch (parser_.feed(bytes)) {
      case http::HttpRequestParser::Outcome::Incomplete:
        return;
      case http::HttpRequestParser::Outcome::Invalid:
        return finish(text(400, "bad request\n"), true);
      case http::HttpRequestParser::Outcome::TooLarge:
        return finish(text(431, "request too large\n"), true);
      case http::HttpRequestParser::Outcome::Complete:
        break;
    }
    const http::HttpRequestHead& head = parser_.head();
    finish(answer(head.method, head.path(), owner_.handlers_), head.method != "HEAD");
  }
  void onDrained() override {}
  void onClosed(Status) override {
    timer_.stop();
    if (released_) return;
    released_ = true;
    owner_.release(this);
  }

  void finish(const Reply& reply, bool withBody) {
    answered_ = true;
    timer_.stop();
    stream_->stopReading();
    stream_->write(serialize(reply, withBody));
    stream_->closeAfterFlush();
  }

  AdminServer& owner_;
  std::unique_ptr<net::TcpStream> stream_;
  net::Timer timer_;
  http::HttpRequestParser parser_;
  bool answered_ = false;
  bool released_ = false;
};

AdminServer::AdminServer(uv_loop_t* loop, Handlers handlers)
    : loop_(loop), handlers_(std::move(handlers)), deleter_(loop) {}

AdminServer::~AdminServer() {
  listener_.reset();
  exchanges_.clear();
  deleter_.flush();
}

Status AdminServer::start(const std::string& address, int port) {
  auto listener = std::make_unique<net::TcpListener>(loop_);
  Status status = listener->listen(
      address, port, false, [this](std::unique_ptr<net::TcpStream> s) { accept(std::move(s)); });
  if (!status) return status;
  listener_ = std::move(listener);
  spdlog::info("admin endpoint on {}:{} (/metrics, /healthz, /readyz)", address, boundPort());
  return Ok{};
}

void AdminServer::accept(std::unique_ptr<net::TcpStream> stream) {
  bool overLimit = exchanges_.size() >= kMaxConnections;
  auto exchange = std::make_unique<Exchange>(*this, std::move(stream));
  Exchange* raw = exchange.get();
  exchanges_.emplace(raw, std::move(exchange));
  raw->start(overLimit);
}

void AdminServer::release(Exchange* exchange) {
  auto it = exchanges_.find(exchange);
  if (it == exchanges_.end()) return;
  deleter_.retire(std::move(it->second));
  exchanges_.erase(it);
}

AdminServer::Reply AdminServer::answer(std::string_view method, std::string_view path,
                                       const Handlers& handlers) {
  bool known = path == "/metrics" || path == "/healthz" || path == "/readyz";
  if (!known) return text(404, "not found\n");
  if (method != "GET" && method != "HEAD") {
    Reply reply = text(405, "method not allowed\n");
    reply.allowHeader = true;
    return reply;
  }
  if (path == "/metrics")
    return {200, "text/plain; version=0.0.4; charset=utf-8", handlers.metrics()};
  if (path == "/healthz") return text(200, "ok\n");
  return handlers.ready() ? text(200, "ready\n") : text(503, "not ready\n");
}

std::string AdminServer::serialize(const Reply& reply, bool withBody) {
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason(reply.status) +
                    "\r\nContent-Type: " + reply.contentType +
                    "\r\nContent-Length: " + std::to_string(reply.body.size()) +
                    "\r\nCache-Control: no-store\r\n";
  if (reply.allowHeader) out += "Allow: GET, HEAD\r\n";
  out += "Connection: close\r\n\r\n";
  if (withBody) out += reply.body;
  return out;
}

}  // namespace popgate::server
