#pragma once
// How popgate obtains OAuth2 access tokens for its upstream logins (RFC 6749): one token endpoint,
// one client, and either the client credentials grant (§4.4: an app-only token that serves every
// user, as Microsoft 365 allows for a tenant) or a refresh token per user (§6) from a
// RefreshTokenStore. Read from YAML by the configuration (token_url, client_id, client_secret,
// scope, grant, client_auth, refresh_tokens, timeout_s, refresh_margin_s); immutable and shared
// by every worker.

#include <chrono>
#include <cstddef>
#include <string>

#include "lib/http/HttpUrl.h"

namespace popgate::login {

struct OAuth2Settings {
  enum class Grant { ClientCredentials, RefreshToken };
  // RFC 6749 §2.3.1: the client's id and secret in the form body (post), or in an HTTP Basic
  // Authorization header (basic), each form-urlencoded first.
  enum class ClientAuth { Post, Basic };

  http::HttpUrl tokenUrl;
  std::string clientId;
  std::string clientSecret;  // empty: a public client, only client_id is sent
  std::string scope;         // empty: no scope parameter
  Grant grant = Grant::ClientCredentials;
  ClientAuth clientAuth = ClientAuth::Post;
  // A token is used until this long before it expires, so that one handed to a login does not
  // expire on its way upstream.
  std::chrono::seconds refreshMargin{60};
  std::chrono::milliseconds timeout{10'000};  // the whole token request, connect included
  std::size_t maxResponseBytes = 64 * 1024;
  std::size_t maxCachedTokens = 10'000;  // per worker; the oldest goes first
  // After a failed token request, logins for that identity are answered with the same failure
  // for this long instead of asking the endpoint again: a dead endpoint is not hammered by every
  // login, and the error is not remembered beyond it.
  std::chrono::milliseconds failureBackoff{5'000};
};

}  // namespace popgate::login
