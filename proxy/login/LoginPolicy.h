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
#include "proxy/route/SdpsRouter.h"

namespace popgate::login {

enum class LoginMode { Passthrough, Token, Master, OAuth2 };

using route::LockPolicy;  // the backend's `lock:`, a login step all the same

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
