#include "proxy/route/AuthHttpProtocol.h"

#include <arpa/inet.h>

#include <array>

#include "lib/common/Ascii.h"

namespace popgate::route {

namespace {

constexpr char kUpperHex[] = "0123456789ABCDEF";

bool escaped(unsigned char c) {
  return c < 0x20 || c == ' ' || c == '%';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A value we put in a header ourselves: nothing that could end the header or the head.
bool plainValue(std::string_view value) {
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

Error broken(std::string detail) {
  return Error{ErrorCode::Temporary, "auth_http: " + std::move(detail)};
}

// nginx's ngx_atoi: decimal digits only, at least one, no sign; nullopt otherwise.
std::optional<std::uint64_t> decimal(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

// nginx passes Auth-Server to ngx_parse_addr: an IPv4 or IPv6 literal, never a host name.
bool ipAddress(const std::string& text) {
  std::array<unsigned char, 16> buffer{};
  return inet_pton(AF_INET, text.c_str(), buffer.data()) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer.data()) == 1;
}

// The text nginx would put after "-ERR ": ours goes to a POP3 client too, so no control bytes.
std::string clientText(std::string_view text) {
  std::string out(text.substr(0, kMaxAuthHttpErrorText));
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

// The headers nginx reads, the last of each kind winning as in nginx.
struct AnswerHeaders {
  const std::string* status = nullptr;
  const std::string* server = nullptr;
  const std::string* port = nullptr;
  const std::string* user = nullptr;
  const std::string* pass = nullptr;
  const std::string* wait = nullptr;
  const std::string* errorCode = nullptr;
};

Result<AnswerHeaders> collect(const http::HttpResponseHead& head) {
  static constexpr std::pair<std::string_view, const std::string * AnswerHeaders::*> kNames[] = {
      {"AUTH-STATUS", &AnswerHeaders::status},
      {"AUTH-SERVER", &AnswerHeaders::server},
      {"AUTH-PORT", &AnswerHeaders::port},
      {"AUTH-USER", &AnswerHeaders::user},
      {"AUTH-PASS", &AnswerHeaders::pass},
      {"AUTH-WAIT", &AnswerHeaders::wait},
      {"AUTH-ERROR-CODE", &AnswerHeaders::errorCode},
  };
  AnswerHeaders found;
  for (const auto& [name, value] : head.headers) {
    for (const auto& [known, member] : kNames) {
      if (!asciiEqualsUpper(name, known)) continue;
      // Never the value itself in the detail: Auth-Pass may be a password.
      if (value.size() > kMaxAuthHttpValue) {
        return broken(std::string(known) + " longer than " + std::to_string(kMaxAuthHttpValue));
      }
      found.*member = &value;
    }
  }
  return found;
}

}  // namespace

std::string authHttpEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (escaped(u)) {
      out += '%';
      out += kUpperHex[u >> 4];
      out += kUpperHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

std::string authHttpUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 &&
        hexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool authHttpUsesSalt(std::string_view method) {
  return method == "apop" || method == "cram-md5";
}

Result<http::HttpHeaders> authHttpRequestHeaders(const AuthHttpQuery& query) {
  static constexpr std::string_view kMethods[] = {"plain", "apop", "cram-md5", "external", "none"};
  bool known = false;
  for (auto m : kMethods) known = known || query.method == m;
  if (!known) return Error{ErrorCode::Invalid, "auth_http: unknown method " + query.method};
  if (!plainValue(query.salt) || !plainValue(query.clientIp) || !plainValue(query.clientHost)) {
    return Error{ErrorCode::Invalid, "auth_http: a control byte in salt, Client-IP or Client-Host"};
  }
  http::HttpHeaders headers;
  headers.emplace_back("Auth-Method", query.method);
  headers.emplace_back("Auth-User", authHttpEscape(query.user));
  headers.emplace_back("Auth-Pass", authHttpEscape(query.pass));
  // nginx 1.22 sends the salt for any method but plain when the session has one; the current
  // nginx narrows that to APOP and CRAM-MD5, which is all a POP3 session can have one for.
  if (authHttpUsesSalt(query.method) && !query.salt.empty()) {
    headers.emplace_back("Auth-Salt", query.salt);
  }
  headers.emplace_back("Auth-Protocol", "pop3");
  headers.emplace_back("Auth-Login-Attempt", std::to_string(query.loginAttempt));
  headers.emplace_back("Client-IP", query.clientIp);
  if (!query.clientHost.empty()) headers.emplace_back("Client-Host", query.clientHost);
  return headers;
}

Result<AuthHttpAnswer> parseAuthHttpAnswer(const http::HttpResponseHead& head, bool passRequired) {
  // nginx skips the status line unread; a service that answers 500 is broken, not refusing.
  if (head.status != 200) return broken("HTTP status " + std::to_string(head.status));
  Result<AnswerHeaders> collected = collect(head);
  if (!collected) return collected.error();
  const AnswerHeaders& h = collected.value();
  if (h.status == nullptr) return broken("no Auth-Status header");

  AuthHttpAnswer answer;
  if (h.wait != nullptr) {
    // An Auth-Wait that is not a number is ignored, as nginx does.
    if (auto n = decimal(*h.wait)) {
      answer.wait = std::chrono::seconds(std::min<std::uint64_t>(*n, kMaxAuthHttpWait.count()));
    }
  }
  if (*h.status == "WAIT") {
    answer.retry = true;
    return answer;
  }
  if (*h.status != "OK") {
    answer.errorText = clientText(*h.status);
    if (h.errorCode != nullptr) answer.errorCode = clientText(*h.errorCode);
    answer.temporary = !answer.errorCode.empty() && answer.errorCode[0] == '4';
    return answer;
  }

  answer.ok = true;
  answer.wait.reset();
  if (h.server == nullptr || h.port == nullptr || h.server->empty() || h.port->empty()) {
    return broken("OK without Auth-Server or Auth-Port");
  }
  if (!ipAddress(*h.server)) return broken("Auth-Server is not an IP address");
  auto port = decimal(*h.port);
  if (!port || *port < 1 || *port > 65535) return broken("Auth-Port is not a port number");
  answer.server = *h.server;
  answer.port = static_cast<std::uint16_t>(*port);
  if (h.user != nullptr) answer.user = *h.user;
  if (h.pass != nullptr) answer.pass = *h.pass;
  // nginx has no password of its own after APOP or CRAM-MD5 ("did not send password").
  if (passRequired && !answer.pass) return broken("OK without Auth-Pass after a digest login");
  return answer;
}

}  // namespace popgate::route
