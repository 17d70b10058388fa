#pragma once
// One HTTP/1.1 request, as the admin endpoint reads it (GET /metrics, /healthz, /readyz): the
// request line and headers framed by Debian's http-parser, the same parser the client uses for
// responses. Pure: bytes in, an outcome out, so any split of any request is a unit test. The
// whole request (line, headers, any body) is bounded: an admin request is a few hundred bytes,
// and a peer that sends more is refused instead of buffered. One request per connection: the
// endpoint answers with `Connection: close`, so bytes after the first request are never read.

#include <http_parser.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace popgate::http {

struct HttpRequestHead {
  std::string method;  // "GET", "POST", ... as http-parser names it
  std::string target;  // the request-target as sent: "/metrics", "/readyz?verbose"
  unsigned versionMajor = 1;
  unsigned versionMinor = 1;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent, values trimmed

  // The request-target without its query: "/readyz?x" is "/readyz".
  std::string_view path() const;
};

class HttpRequestParser {
 public:
  static constexpr std::size_t kMaxRequestBytes = 8 * 1024;

  enum class Outcome {
    Incomplete,  // feed more
    Complete,    // head() is the request; bytes after it are not read
    Invalid,     // not HTTP/1.x: answer 400 and close
    TooLarge,    // over kMaxRequestBytes: answer 431 and close
  };

  HttpRequestParser();
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  Outcome feed(std::string_view bytes);
  const HttpRequestHead& head() const { return head_; }

 private:
  static int onUrl(http_parser* p, const char* at, std::size_t length);
  static int onHeaderField(http_parser* p, const char* at, std::size_t length);
  static int onHeaderValue(http_parser* p, const char* at, std::size_t length);
  static int onHeadersComplete(http_parser* p);
  static int onMessageComplete(http_parser* p);
  static HttpRequestParser& self(http_parser* p) {
    return *static_cast<HttpRequestParser*>(p->data);
  }

  http_parser parser_{};
  http_parser_settings settings_{};
  HttpRequestHead head_;
  bool inValue_ = false;
  std::size_t received_ = 0;
  Outcome outcome_ = Outcome::Incomplete;
};

}  // namespace popgate::http
