#include "lib/http/HttpClient.h"

#include <utility>

#include "lib/http/HttpExchange.h"

namespace popgate::http {

namespace {

// Collects a bounded body for fetch().
class Collector final : public Cancelable, private HttpResponseHandler {
 public:
  Collector(std::size_t maxBody, HttpClient::Fetched done)
      : maxBody_(maxBody), done_(std::move(done)) {}
  void start(HttpClient& client, HttpRequest request) {
    exchange_ = client.stream(std::move(request), *this);
  }

 private:
  void onResponseHead(const HttpResponseHead& head) override {
    response_.head = head;
    response_.url = exchange_->url();
    if (head.contentLength && *head.contentLength > maxBody_) return tooLarge();
  }
  void onResponseBody(std::string_view bytes) override {
    if (response_.body.size() + bytes.size() > maxBody_) return tooLarge();
    response_.body.append(bytes);
  }
  void onResponseEnd(Status status) override {
    if (!status) return std::exchange(done_, nullptr)(status.error());
    std::exchange(done_, nullptr)(std::move(response_));
  }
  void tooLarge() {
    // Dropping the exchange closes the connection: the rest of the body is never read.
    auto exchange = std::move(exchange_);
    std::exchange(done_, nullptr)(Error{
        ErrorCode::Temporary, "response body larger than " + std::to_string(maxBody_) + " octets"});
  }

  std::size_t maxBody_;
  HttpClient::Fetched done_;
  HttpResponse response_;
  std::unique_ptr<HttpExchange> exchange_;
};

}  // namespace

HttpClient::HttpClient(uv_loop_t* loop, HttpClientSettings settings)
    : loop_(loop), settings_(std::move(settings)), deleter_(loop) {}

HttpClient::~HttpClient() {
  origins_.clear();
  deleter_.flush();
}

std::unique_ptr<HttpExchange> HttpClient::stream(HttpRequest request,
                                                 HttpResponseHandler& handler) {
  auto exchange = std::make_unique<Exchange>(*this, std::move(request), handler);
  exchange->start();
  return exchange;
}

Pending HttpClient::fetch(HttpRequest request, std::size_t maxBody, Fetched done) {
  auto collector = std::make_unique<Collector>(maxBody, std::move(done));
  collector->start(*this, std::move(request));
  return collector;
}

void HttpClient::acquire(Exchange& exchange) {
  Origin& origin = origins_[exchange.originKey()];
  if (!origin.idle.empty() && !exchange.wantsFresh()) {
    auto connection = std::move(origin.idle.front());
    origin.idle.pop_front();
    connection->leavePool();
    exchange.grantLater(std::move(connection));
    return;
  }
  if (origin.open < settings_.maxConnectionsPerOrigin) {
    ++origin.open;
    exchange.open();
    return;
  }
  if (exchange.wantsFresh() && !origin.idle.empty()) {
    // The origin is full of idle connections we may not use: close one to make room.
    retire(origin, std::prev(origin.idle.end()));
    ++origin.open;
    exchange.open();
    return;
  }
  origin.waiting.push_back(&exchange);
}

void HttpClient::cancelWait(Exchange& exchange) {
  auto it = origins_.find(exchange.originKey());
  if (it != origins_.end()) it->second.waiting.remove(&exchange);
}

void HttpClient::release(std::unique_ptr<HttpConnection> connection) {
  if (!connection) return;
  std::string key = connection->origin();
  Origin& origin = origins_[key];
  if (connection->reusable() && origin.idle.size() < settings_.maxIdlePerOrigin) {
    HttpConnection* raw = connection.get();
    origin.idle.push_front(std::move(connection));
    raw->idle(settings_.idleTimeout, [this, key, raw] {
      // Closed by the server, timed out or spoke out of turn: never handed out again.
      Origin& where = origins_[key];
      for (auto it = where.idle.begin(); it != where.idle.end(); ++it) {
        if (it->get() == raw) {
          retire(where, it);
          break;
        }
      }
      serveWaiting(key);
    });
  } else {
    connection->abandon();
    deleter_.retire(std::move(connection));
    --origin.open;
  }
  serveWaiting(key);
}

void HttpClient::retire(Origin& origin, std::list<std::unique_ptr<HttpConnection>>::iterator it) {
  (*it)->abandon();
  deleter_.retire(std::move(*it));
  origin.idle.erase(it);
  --origin.open;
}

void HttpClient::connectionGone(const std::string& key) {
  --origins_[key].open;
  serveWaiting(key);
}

void HttpClient::serveWaiting(const std::string& key) {
  Origin& origin = origins_[key];
  while (!origin.waiting.empty() &&
         (!origin.idle.empty() || origin.open < settings_.maxConnectionsPerOrigin)) {
    Exchange* next = origin.waiting.front();
    origin.waiting.pop_front();
    acquire(*next);
  }
}

std::size_t HttpClient::idleConnections() const {
  std::size_t count = 0;
  for (const auto& [key, origin] : origins_) count += origin.idle.size();
  return count;
}

std::size_t HttpClient::openConnections() const {
  std::size_t count = 0;
  for (const auto& [key, origin] : origins_) count += origin.open;
  return count;
}

}  // namespace popgate::http
