#include "lib/http/HttpRequest.h"

#include "lib/common/Ascii.h"

namespace popgate::http {

bool safeHeader(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == ':') return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

std::string serializeRequest(const HttpRequest& request, bool viaProxy) {
  std::string out;
  out.reserve(256 + request.body.size());
  out += request.method;
  out += ' ';
  out += viaProxy ? request.url.text() : request.url.target;
  out += " HTTP/1.1\r\nHost: ";
  out += request.url.hostHeader();
  out += "\r\n";
  bool hasAccept = false;
  bool hasAgent = false;
  for (const auto& [name, value] : request.headers) {
    hasAccept = hasAccept || asciiLower(name) == "accept";
    hasAgent = hasAgent || asciiLower(name) == "user-agent";
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!hasAccept) out += "Accept: */*\r\n";
  if (!hasAgent) out += "User-Agent: popgate\r\n";
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    out += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  out += "\r\n";
  out += request.body;
  return out;
}

}  // namespace popgate::http
