#pragma once
// The pieces that XOAUTH2 and OAUTHBEARER (RFC 7628 §3.1) share: ^A-separated "key=value"
// pairs ended by an empty one, and the "Bearer <token>" value of the auth key (RFC 6750 §2.1).
// Pure.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace popgate::sasl {

using OAuthPairs = std::vector<std::pair<std::string_view, std::string_view>>;

// RFC 7628 §3.1: `*kvpair kvsep`, kvpair = key "=" value kvsep, key = 1*ALPHA,
// value = *(VCHAR / SP / HTAB / CR / LF). The pairs point into `text`; nullopt when malformed,
// when anything follows the closing ^A, or when a key repeats.
std::optional<OAuthPairs> parseOAuthPairs(std::string_view text);

// The value of `key` among `pairs`, or nullopt.
std::optional<std::string_view> findOAuthPair(const OAuthPairs& pairs, std::string_view key);

// RFC 6750 §2.1 / RFC 7628 §3.1: auth-value = "Bearer" 1*SP b64token, the scheme in any case
// (RFC 7235 §2.1). The token, or nullopt when malformed.
std::optional<std::string> parseBearerAuth(std::string_view value);

}  // namespace popgate::sasl
