#pragma once
// The wire format of nginx's mail auth_http protocol (nginx.org ngx_mail_auth_http_module, and
// what src/mail/ngx_mail_auth_http_module.c of nginx 1.22 does), so a routing service written
// for nginx answers popgate unchanged. Pure: headers in, values out; no I/O.
//
// The request nginx sends (GET, no body): Host, Auth-Method, Auth-User, Auth-Pass, Auth-Salt
// (APOP and CRAM-MD5 only), Auth-Protocol, Auth-Login-Attempt, Client-IP, Client-Host (only
// when nginx resolved the client, which it does for SMTP alone). Auth-User and Auth-Pass are
// escaped as nginx's NGX_ESCAPE_MAIL_AUTH table says: the bytes 0x00-0x1F, space and '%' become
// %XX (upper-case hex); every other byte, 0x7F and 8-bit ones included, goes as it is.
//
// The answer, from its headers only (the body is ignored):
//   Auth-Status: OK     -> Auth-Server (an IP address, never a name) and Auth-Port (1-65535)
//                          are required; Auth-User / Auth-Pass replace the login upstream and
//                          are used as sent (nginx does not unescape them). For APOP and
//                          CRAM-MD5 nginx has no password to log in with: Auth-Pass is required.
//   Auth-Status: WAIT   -> ask again after Auth-Wait seconds (nginx: at once when absent).
//   Auth-Status: <text> -> refused; nginx writes "-ERR <text>" to the client, after Auth-Wait
//                          seconds when that is given, and then lets the client try again;
//                          without Auth-Wait it closes the connection after the -ERR.
// nginx takes the last of repeated headers, ignores an Auth-Wait that is not a number, and
// reads no HTTP status at all. popgate is stricter where nginx would route a session on a
// broken answer: a status other than 200, a missing Auth-Status, or an oversized header value
// is "service broken" (Error{Temporary}), never a login.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/common/Result.h"
#include "lib/http/HttpRequest.h"
#include "lib/http/HttpResponseParser.h"

namespace popgate::route {

struct AuthHttpQuery {
  std::string method = "plain";  // plain | apop | cram-md5 | external | none (nginx's names)
  std::string user;
  std::string pass;           // plain: the password; apop / cram-md5: the client's hex digest
  std::string salt;           // apop / cram-md5: the greeting's timestamp "<pid.clock@host>"
  unsigned loginAttempt = 1;  // 1 for a session's first try, as nginx counts
  std::string clientIp;
  std::string clientHost;  // empty: no Client-Host header (nginx sends it for SMTP only)
};

struct AuthHttpAnswer {
  bool ok = false;     // Auth-Status: OK
  bool retry = false;  // Auth-Status: WAIT (the lookup asks again; callers never see it)
  std::string server;  // ok: the IP address to connect to
  std::uint16_t port = 0;
  std::optional<std::string> user;  // ok: the login name upstream, when the service gave one
  std::optional<std::string> pass;  // ok: the password upstream, when the service gave one
  // Refused: the text for "-ERR <text>" (control bytes replaced by '?', bounded).
  std::string errorText;
  // Refused: delay the -ERR by this and keep the session; absent: nginx closes after the -ERR.
  std::optional<std::chrono::seconds> wait;
  std::string errorCode;   // Auth-Error-Code (nginx uses it for SMTP replies only)
  bool temporary = false;  // refused with a 4xx Auth-Error-Code: a temporary refusal
};

// Bounds on what a service may send: nginx reads the whole answer head into 1024 bytes.
inline constexpr std::size_t kMaxAuthHttpValue = 1024;
inline constexpr std::size_t kMaxAuthHttpErrorText = 200;
inline constexpr std::chrono::seconds kMaxAuthHttpWait{120};

// nginx's NGX_ESCAPE_MAIL_AUTH: %XX for 0x00-0x1F, ' ' and '%'.
std::string authHttpEscape(std::string_view text);
// The inverse, for tests and tools: %XX (either case) decoded, anything else kept.
std::string authHttpUnescape(std::string_view text);

// The request headers after Host (which the HTTP client writes), in nginx's order.
// Error{Invalid} for an unknown method or a salt, address or host that could split a header.
Result<http::HttpHeaders> authHttpRequestHeaders(const AuthHttpQuery& query);

// True when nginx would send Auth-Salt and expect Auth-Pass back (APOP, CRAM-MD5).
bool authHttpUsesSalt(std::string_view method);

// The answer from its head. `passRequired`: the login was APOP or CRAM-MD5. Error{Temporary}
// when the service is broken (see above); a refusal is a value.
Result<AuthHttpAnswer> parseAuthHttpAnswer(const http::HttpResponseHead& head, bool passRequired);

}  // namespace popgate::route
