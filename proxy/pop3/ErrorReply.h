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

}  // namespace popgate::pop3
