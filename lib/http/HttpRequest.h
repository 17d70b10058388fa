#pragma once
// What a caller asks of the HTTP client: one request, its deadlines and how it may be retried.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "lib/http/HttpUrl.h"

namespace popgate::http {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpDeadlines {
  std::chrono::milliseconds connect{10'000};  // TCP, the proxy's CONNECT and the TLS handshake
  // From the request written to the response head, and the longest silence while a body is
  // read (not while the caller has paused it).
  std::chrono::milliseconds response{30'000};
  std::chrono::milliseconds total{0};  // the whole exchange, redirects included; 0: no bound
};

struct HttpRequest {
  std::string method = "GET";
  HttpUrl url;
  HttpHeaders headers;  // Host, Content-Length and Connection are the client's business
  std::string body;
  // May be sent again when a kept-alive connection turns out dead before any answer. Defaults
  // to the methods RFC 9110 §9.2.2 calls idempotent.
  bool resendable = false;
  int maxRedirects = 5;
  // 429 or 503 with Retry-After: waited for and retried while the wait fits in this budget.
  std::chrono::milliseconds retryBudget{0};
  HttpDeadlines deadlines;

  static HttpRequest get(HttpUrl url) {
    HttpRequest request;
    request.url = std::move(url);
    request.resendable = true;
    return request;
  }
  static HttpRequest post(HttpUrl url, std::string contentType, std::string body) {
    HttpRequest request;
    request.method = "POST";
    request.url = std::move(url);
    request.headers.emplace_back("Content-Type", std::move(contentType));
    request.body = std::move(body);
    return request;
  }
};

// The request as it goes on the wire. `viaProxy`: absolute-form target for a plain-HTTP proxy
// (RFC 9112 §3.2.2). Header values with CR or LF are refused by the caller before this.
std::string serializeRequest(const HttpRequest& request, bool viaProxy);

// A header name or value that could split the request (CR, LF, NUL; ':' or space in a name).
bool safeHeader(const std::string& name, const std::string& value);

}  // namespace popgate::http
