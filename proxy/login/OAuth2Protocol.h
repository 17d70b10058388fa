#pragma once
// The token endpoint's wire format (RFC 6749), pure: the request for an access token (§4.4.2
// client credentials, §6 refresh) and the reading of its answer (§5.1 success, §5.2 error).
// No I/O; OAuth2TokenSource sends and receives.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "lib/common/Result.h"
#include "lib/http/HttpRequest.h"
#include "proxy/login/OAuth2Settings.h"

namespace popgate::login {

// A server that leaves out expires_in (§5.1 only RECOMMENDS it) has its token used this long:
// short, so a token of unknown life is asked for again soon; a token that is refused before
// then is dropped by OAuth2TokenSource::invalidate().
inline constexpr std::chrono::seconds kDefaultTokenLifetime{300};
// A longer expires_in is cut to this: a token is asked for again at least daily, and no
// arithmetic on a server's number can overflow.
inline constexpr std::chrono::seconds kMaxTokenLifetime{86'400};

struct OAuth2Token {
  std::string accessToken;
  std::chrono::seconds lifetime{kDefaultTokenLifetime};
  std::optional<std::string> refreshToken;  // §6: a new refresh token replaces the old one
};

// application/x-www-form-urlencoded (RFC 6749 Appendix B): ALPHA, DIGIT and "*-._" as they
// are, space as '+', every other octet as %XX.
std::string formEncode(std::string_view text);

// The POST to the token endpoint. `refreshToken` is used for the refresh_token grant and
// ignored for client credentials. Never follows a redirect (the body carries secrets) and is
// never resent (a refresh token may be spent by a request whose answer was lost).
http::HttpRequest buildTokenRequest(const OAuth2Settings& settings,
                                    std::string_view refreshToken = {});

// Reads the endpoint's answer. Anything but a 200 with a usable Bearer token is an
// Error{Temporary} whose detail (for the log, escaped, never a secret) names the HTTP status
// and, for a §5.2 error answer, its error code and description.
Result<OAuth2Token> parseTokenResponse(int status, std::string_view body);

}  // namespace popgate::login
