#include "proxy/login/OAuth2Protocol.h"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "lib/common/Ascii.h"
#include "lib/common/Base64.h"
#include "lib/common/LogText.h"

namespace popgate::login {

namespace {

using nlohmann::json;

Error failed(std::string detail) {
  return Error{ErrorCode::Temporary, "token endpoint: " + std::move(detail)};
}

// RFC 6749 Appendix A.12 and A.17: access and refresh tokens are 1*VSCHAR. Anything else could
// break the header or the IMAP command it is written into.
bool visibleAscii(std::string_view text) {
  if (text.empty()) return false;
  for (unsigned char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// expires_in is a number of seconds (§5.1); some servers (Azure AD v1) send it as a string of
// digits. Anything else is ignored and the default lifetime applies.
std::chrono::seconds lifetimeOf(const json& value) {
  if (value.is_number_unsigned()) {
    auto seconds = value.get<std::uint64_t>();
    return seconds > static_cast<std::uint64_t>(kMaxTokenLifetime.count())
               ? kMaxTokenLifetime
               : std::chrono::seconds(static_cast<std::int64_t>(seconds));
  }
  if (value.is_number_integer()) return std::chrono::seconds(0);  // negative: already expired
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.empty()) return kDefaultTokenLifetime;
    std::int64_t seconds = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return kDefaultTokenLifetime;
      seconds = std::min<std::int64_t>(seconds * 10 + (c - '0'), kMaxTokenLifetime.count());
    }
    return std::chrono::seconds(seconds);
  }
  return kDefaultTokenLifetime;
}

std::string stringField(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// §5.2: {"error": "invalid_grant", "error_description": "..."}; the endpoint's own words for the
// log, escaped, since they come from the network.
std::string describeError(int status, std::string_view body) {
  std::string detail = "HTTP " + std::to_string(status);
  json root = json::parse(body, nullptr, false);
  if (root.is_discarded() || !root.is_object()) return detail;
  std::string code = stringField(root, "error");
  std::string description = stringField(root, "error_description");
  if (!code.empty()) detail += " " + logText(code, 64);
  if (!description.empty()) detail += " (" + logText(description, 200) + ")";
  return detail;
}

}  // namespace

std::string formEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '*' || c == '-' || c == '.' || c == '_';
    if (plain) {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

http::HttpRequest buildTokenRequest(const OAuth2Settings& settings, std::string_view refreshToken) {
  std::string body;
  auto add = [&body](std::string_view name, std::string_view value) {
    if (!body.empty()) body += '&';
    body += name;
    body += '=';
    body += formEncode(value);
  };
  if (settings.grant == OAuth2Settings::Grant::RefreshToken) {
    add("grant_type", "refresh_token");  // §6
    add("refresh_token", refreshToken);
  } else {
    add("grant_type", "client_credentials");  // §4.4.2
  }
  if (!settings.scope.empty()) add("scope", settings.scope);
  if (settings.clientAuth == OAuth2Settings::ClientAuth::Post) {
    // §2.3.1: in the body; a public client (no secret) sends only its id (§3.2.1).
    add("client_id", settings.clientId);
    if (!settings.clientSecret.empty()) add("client_secret", settings.clientSecret);
  }
  auto request = http::HttpRequest::post(settings.tokenUrl, "application/x-www-form-urlencoded",
                                         std::move(body));
  if (settings.clientAuth == OAuth2Settings::ClientAuth::Basic) {
    // §2.3.1: id and secret are form-urlencoded before they are joined with ':' and base64'd,
    // so a ':' in the id cannot move the boundary.
    request.headers.emplace_back("Authorization",
                                 "Basic " + encodeBase64(formEncode(settings.clientId) + ":" +
                                                         formEncode(settings.clientSecret)));
  }
  request.headers.emplace_back("Accept", "application/json");
  request.resendable = false;
  request.maxRedirects = 0;
  request.deadlines.connect = std::min(request.deadlines.connect, settings.timeout);
  request.deadlines.response = settings.timeout;
  request.deadlines.total = settings.timeout;
  return request;
}

Result<OAuth2Token> parseTokenResponse(int status, std::string_view body) {
  if (status != 200) return failed(describeError(status, body));
  json root = json::parse(body, nullptr, false);
  if (root.is_discarded() || !root.is_object()) return failed("the answer is not a JSON object");
  OAuth2Token token;
  auto access = root.find("access_token");
  if (access == root.end() || !access->is_string() ||
      !visibleAscii(access->get_ref<const std::string&>())) {
    return failed("no usable access_token in the answer");
  }
  // §5.1 and §7.1: the type tells how to use the token; popgate can only send Bearer (RFC 6750),
  // whose name is matched case-insensitively.
  std::string type = stringField(root, "token_type");
  if (!asciiEqualsUpper(type, "BEARER")) {
    return failed("token_type \"" + logText(type, 32) + "\" is not Bearer");
  }
  token.accessToken = access->get<std::string>();
  if (auto expires = root.find("expires_in"); expires != root.end()) {
    token.lifetime = lifetimeOf(*expires);
  }
  if (auto refresh = root.find("refresh_token"); refresh != root.end() && !refresh->is_null()) {
    if (!refresh->is_string() || !visibleAscii(refresh->get_ref<const std::string&>())) {
      return failed("the refresh_token in the answer is not usable");
    }
    token.refreshToken = refresh->get<std::string>();
  }
  return token;
}

}  // namespace popgate::login
