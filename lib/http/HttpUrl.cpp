#include "lib/http/HttpUrl.h"

#include <cctype>

#include "lib/common/Ascii.h"
#include "lib/common/Decimal.h"

namespace popgate::http {

namespace {

Error invalid(std::string detail) {
  return Error{ErrorCode::Invalid, std::move(detail)};
}

bool hostCharacter(char c) {
  // RFC 3986 reg-name: unreserved / pct-encoded / sub-delims; '%' kept for IPv6 zone ids.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~!$&'()*+,;=%").find(c) != std::string_view::npos;
}

bool targetCharacter(char c) {
  // Printable ASCII except space: a target goes into the request line as it is.
  return c > 0x20 && c < 0x7f;
}

}  // namespace

std::string HttpUrl::hostHeader() const {
  std::string text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (https ? 443 : 80)) text += ":" + std::to_string(port);
  return text;
}

std::string HttpUrl::origin() const {
  return (https ? "https://" : "http://") + hostHeader();
}

Result<HttpUrl> parseHttpUrl(std::string_view text) {
  HttpUrl url;
  std::string lowered = asciiLower(text.substr(0, 8));
  if (lowered.starts_with("https://")) {
    url.https = true;
    url.port = 443;
    text.remove_prefix(8);
  } else if (lowered.starts_with("http://")) {
    text.remove_prefix(7);
  } else {
    return invalid("not an http:// or https:// URL");
  }
  std::size_t end = text.find_first_of("/?#");
  std::string_view authority = text.substr(0, end);
  std::string_view rest = end == std::string_view::npos ? "" : text.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    return invalid("user information in a URL is not accepted (credentials go in headers)");
  }
  std::string_view portText;
  if (authority.starts_with("[")) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("unclosed IPv6 literal");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) return invalid("junk after an IPv6 literal");
    if (!after.empty()) portText = after.substr(1);
    for (char c : url.host) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.' && c != '%')
        return invalid("bad IPv6 literal");
    }
  } else {
    std::size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) portText = authority.substr(colon + 1);
    for (char c : url.host) {
      if (!hostCharacter(c)) return invalid("bad character in host name");
    }
  }
  if (url.host.empty()) return invalid("no host in URL");
  url.host = asciiLower(url.host);
  if (!portText.empty()) {
    auto port = parseDecimal<unsigned>(portText, 5);
    if (!port || *port < 1 || *port > 65535) return invalid("bad port in URL");
    url.port = static_cast<int>(*port);
  }
  rest = rest.substr(0, rest.find('#'));
  if (rest.empty()) rest = "/";
  if (rest.starts_with("?"))
    url.target = "/" + std::string(rest);
  else
    url.target = std::string(rest);
  for (char c : url.target) {
    if (!targetCharacter(c)) return invalid("bad character in URL path");
  }
  return url;
}

Result<HttpUrl> resolveLocation(const HttpUrl& base, std::string_view location) {
  std::string lowered = asciiLower(location.substr(0, 8));
  if (lowered.starts_with("http://") || lowered.starts_with("https://")) {
    return parseHttpUrl(location);
  }
  std::size_t colon = location.find(':');
  if (colon != std::string_view::npos && colon > 0 && location.find_first_of("/?#") > colon &&
      std::isalpha(static_cast<unsigned char>(location[0]))) {
    return invalid("redirect to a scheme other than http or https");
  }
  if (location.starts_with("//")) {
    return parseHttpUrl(std::string(base.https ? "https:" : "http:") + std::string(location));
  }
  std::string target;
  if (location.starts_with("/")) {
    target = std::string(location);
  } else {
    // A relative path replaces the last segment of the base path (no dot-segment removal:
    // servers that redirect send absolute paths in practice).
    std::string path = base.target.substr(0, base.target.find('?'));
    target = path.substr(0, path.rfind('/') + 1) + std::string(location);
  }
  return parseHttpUrl(base.origin() + target);
}

}  // namespace popgate::http
