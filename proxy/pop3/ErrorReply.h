#pragma once
// The -ERR line for an upstream or login outcome, with its RFC 2449 / RFC 3206 response code.

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "lib/common/Result.h"

namespace popgate::pop3 {

// `what` explains a temporary failure; `permanent` (if given) one that retrying will not fix.
inline std::string errorReply(const Error& error, std::string_view what,
                              std::string_view permanent = {}) {
  switch (error.code) {
    case ErrorCode::Auth:
      return "-ERR [AUTH] Authentication failed.";
    case ErrorCode::InUse:
      return "-ERR [IN-USE] Mailbox is locked by another POP3 session.";
    case ErrorCode::Permanent:
      return fmt::format("-ERR [SYS/PERM] {}", permanent.empty() ? what : permanent);
    case ErrorCode::Gone:
      return "-ERR Message no longer exists upstream.";
    default:
      return fmt::format("-ERR [SYS/TEMP] {}", what);
  }
}

// Text an authenticator or a store chose for the client (Error::reply) made safe for one reply
// line: control bytes (CR and LF above all, which would forge a reply) become spaces, and the
// line is cut to RFC 2449 §4's 512 octets with its CRLF.
inline std::string replyText(std::string_view text, std::size_t maxBytes = 510) {
  std::string out(text.substr(0, maxBytes));
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  return out;
}

// The reply to a failed login: the authenticator's own line when it gave one (Error::reply,
// e.g. "-ERR [LOGIN-DELAY] ..." or "-ERR [SYS/TEMP] Too many failed logins..."), made safe and
// never anything but an -ERR; else the line for the error's code.
inline std::string loginFailureReply(const Error& error, std::string_view what,
                                     std::string_view permanent = {}) {
  if (error.reply.empty()) return errorReply(error, what, permanent);
  std::string_view reply = error.reply;
  if (reply.substr(0, 5) == "-ERR " || reply == "-ERR") return replyText(reply);
  return replyText("-ERR " + std::string(reply));
}

}  // namespace popgate::pop3
