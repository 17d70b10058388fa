#pragma once
// Absolute http:// and https:// URLs (RFC 3986, the subset an HTTP client needs): scheme, host,
// port and the request target. Parsing is pure; nothing here resolves or connects.

#include <optional>
#include <string>
#include <string_view>

#include "lib/common/Result.h"

namespace popgate::http {

struct HttpUrl {
  bool https = false;
  std::string host;  // lower case; an IPv6 literal without its brackets
  int port = 80;
  std::string target = "/";  // path and query, never empty; no fragment

  // "http://host:8080" or "https://host" (default ports left out): the origin of RFC 6454,
  // and the key of the connection pool.
  std::string origin() const;
  // host, or host:port when the port is not the scheme's default; brackets around IPv6.
  std::string hostHeader() const;
  std::string text() const { return origin() + target; }
};

// An absolute URL with scheme http or https, an optional port (1-65535) and no user info
// (credentials belong in headers, never in a URL that may be logged).
Result<HttpUrl> parseHttpUrl(std::string_view text);

// A Location header (absolute, scheme-relative "//host/x", absolute path "/x" or relative
// path "x") resolved against the URL of the request it answered (RFC 9110 §10.2.2).
Result<HttpUrl> resolveLocation(const HttpUrl& base, std::string_view location);

}  // namespace popgate::http
