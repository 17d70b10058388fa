#pragma once
// HTTP/1.1 response framing on Debian's http-parser (Node's, 2.9): status line, headers,
// Content-Length, chunked and close-delimited bodies. Pure: bytes in, callbacks out, so any
// split of any response can be tested and fuzzed. The handler may pause the parser from inside
// onBody (back-pressure); feed() then returns how much it consumed, and the caller feeds the
// rest after resume(). A response's end also stops feed(): bytes after it belong to the next
// response, or are junk the connection must not reuse. Callbacks must not call feed(),
// finish() or reset(): the caller does that after feed() returns.

#include <http_parser.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/common/Result.h"

namespace popgate::http {

struct HttpResponseHead {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent, values trimmed
  std::optional<std::uint64_t> contentLength;
  bool keepAlive = false;  // the connection may carry another request after this response

  // The first header with this name (ASCII case-insensitive), or null.
  const std::string* header(std::string_view name) const;
};

class HttpResponseParser {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void onHead(const HttpResponseHead& head) = 0;
    virtual void onBody(std::string_view bytes) = 0;
    virtual void onComplete() = 0;
  };

  // Header block bound (status line and all headers): 64 KiB, then the response is refused.
  static constexpr std::size_t kMaxHeadBytes = 64 * 1024;

  explicit HttpResponseParser(Handler& handler);
  HttpResponseParser(const HttpResponseParser&) = delete;
  HttpResponseParser& operator=(const HttpResponseParser&) = delete;

  // Expect a new response (also after a complete one on a kept-alive connection). For a response
  // to HEAD there is no body whatever the headers say.
  void reset(bool headRequest = false);

  // Consumes a prefix of `bytes`: all of it, or less when the handler paused or the response
  // completed. An error means the bytes are not HTTP (or break a bound); the connection is dead.
  Result<std::size_t> feed(std::string_view bytes);
  // The peer closed the connection: ends a close-delimited body, an error anywhere else.
  Status finish();

  // From inside onBody: no more callbacks until resume(); feed() returns at once.
  void pause();
  void resume();
  bool paused() const { return paused_; }
  // The head so far; keepAlive is final once complete().
  const HttpResponseHead& head() const { return head_; }
  bool complete() const { return complete_; }
  bool headComplete() const { return headComplete_; }

 private:
  static int onHeaderField(http_parser* p, const char* at, std::size_t length);
  static int onHeaderValue(http_parser* p, const char* at, std::size_t length);
  static int onHeadersComplete(http_parser* p);
  static int onBodyData(http_parser* p, const char* at, std::size_t length);
  static int onMessageComplete(http_parser* p);
  static HttpResponseParser& self(http_parser* p) {
    return *static_cast<HttpResponseParser*>(p->data);
  }
  Error framingError() const;

  Handler& handler_;
  http_parser parser_{};
  http_parser_settings settings_{};
  HttpResponseHead head_;
  std::size_t headerCount_ = 0;  // of head_.headers, this response's
  bool inValue_ = false;
  std::size_t headBytes_ = 0;
  bool headRequest_ = false;
  bool headComplete_ = false;
  bool complete_ = false;
  bool paused_ = false;
  bool tooLarge_ = false;
  bool badStatus_ = false;
};

}  // namespace popgate::http
