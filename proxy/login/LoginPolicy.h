#pragma once
// How logins to one backend are checked and how popgate then logs in upstream (the backend's
// `login:` block; docs/design.md "Login"):
//   passthrough  the client's name and password go upstream; the store checks them (default)
//   token        the client's own OAuth2 token (XOAUTH2, OAUTHBEARER) goes upstream unchanged
//   master       popgate checks the client against `users` (a Dovecot passwd-file), then logs in
//                as `master_user` on behalf of the user (SASL PLAIN with authorization identity)
//   oauth2       popgate checks the client against `users`, then logs in with an access token
//                from the token endpoint (client credentials, or the user's refresh token)
// RFC 2449 LOGIN-DELAY and EXPIRE are announced per backend, and LOGIN-DELAY enforced.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "lib/net/TlsContext.h"
#include "proxy/login/OAuth2Settings.h"

namespace popgate::login {

enum class LoginMode { Passthrough, Token, Master, OAuth2 };

// The backend's `lock:` (not part of `login:`, but a login step all the same).
//   exclusive  RFC 1939 §8: one session per maildrop; a second login gets [IN-USE] (default)
//   none       every session is served (Dovecot's default, pop3_lock_session = no): a phone and
//              a desktop polling one mailbox. Safe because a session names messages upstream
//              by UID, never by number: a DELE commits `UID STORE`/`UID EXPUNGE` of its own
//              snapshot's UIDs, and a message another session expunged is -ERR, not a body.
enum class LockPolicy { Exclusive, None };

struct LoginPolicy {
  LoginMode mode = LoginMode::Passthrough;
  std::string usersFile;  // master, oauth2: who may log in, and with what password
  std::string masterUser;
  std::string masterPassword;                             // a secret: never logged
  std::shared_ptr<const OAuth2Settings> oauth2;           // oauth2
  std::shared_ptr<const net::TlsClientContext> tokenTls;  // an https token_url
  std::string refreshTokensFile;                          // oauth2 with grant refresh_token
  std::optional<std::uint32_t> loginDelay;                // seconds (RFC 2449 §6.7)
  std::optional<std::string> expire;                      // "NEVER" or days (RFC 2449 §6.8)
  LockPolicy lock = LockPolicy::Exclusive;

  bool checksLocally() const { return mode == LoginMode::Master || mode == LoginMode::OAuth2; }
};

}  // namespace popgate::login
