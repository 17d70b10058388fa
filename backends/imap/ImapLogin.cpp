#include "backends/imap/ImapLogin.h"

#include <optional>
#include <variant>

#include "backends/imap/ImapFetch.h"
#include "lib/common/Base64.h"
#include "lib/common/LogText.h"

namespace popgate::imap {

namespace {

constexpr std::size_t kMaxChallengeInLog = 300;

bool offers(const std::set<std::string>& capabilities, const char* capability) {
  return capabilities.count(capability) > 0;
}

Error permanent(std::string detail) {
  return Error{ErrorCode::Permanent, std::move(detail)};
}

// RFC 5801 §4 saslname: "," and "=" in the authorization identity are escaped.
std::string saslName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ',')
      out += "=2C";
    else if (c == '=')
      out += "=3D";
    else
      out += c;
  }
  return out;
}

// AUTHENTICATE <mechanism> with `message` as initial response: on the command line with
// SASL-IR (RFC 4959), else after the server's first (empty) "+" (RFC 3501 §6.2.2). A "+" after
// the message is an error challenge (RFC 7628 §3.2.2, and XOAUTH2 alike): it is kept, and
// `afterChallenge` is sent so that the server ends with its tagged NO. Without one (PLAIN has
// no second step) the exchange is cancelled with "*".
ImapLogin authenticate(const std::set<std::string>& capabilities, const std::string& mechanism,
                       const std::string& message, std::optional<std::string> afterChallenge) {
  ImapLogin login;
  bool initialInCommand = offers(capabilities, "SASL-IR");
  std::string response = encodeBase64(message);
  login.command.parts = {"AUTHENTICATE " + mechanism +
                         (initialInCommand ? " " + response : std::string())};
  login.command.onContinuation = [sent = initialInCommand, response, afterChallenge,
                                  challenge = login.challenge](std::string_view text) mutable {
    if (!sent) {
      sent = true;
      return response;
    }
    std::optional<std::string> decoded = decodeBase64(text);
    *challenge = decoded ? *decoded : std::string(text);
    return afterChallenge.value_or("*");
  };
  return login;
}

Result<ImapLogin> passwordLogin(const backends::Credentials& credentials,
                                const std::string& password,
                                const std::set<std::string>& capabilities, bool literalPlus) {
  std::string plain = saslPlainMessage("", credentials.user, password);
  bool authPlain = offers(capabilities, "AUTH=PLAIN");
  if (authPlain && offers(capabilities, "SASL-IR")) {
    return authenticate(capabilities, "PLAIN", plain, std::nullopt);
  }
  if (!offers(capabilities, "LOGINDISABLED")) {
    ImapLogin login;
    login.command.parts = ImapCommandText(literalPlus)
                              .raw("LOGIN ")
                              .string(credentials.user)
                              .raw(" ")
                              .string(password)
                              .take();
    return login;
  }
  if (authPlain) return authenticate(capabilities, "PLAIN", plain, std::nullopt);
  return permanent("IMAP server disables LOGIN and offers no AUTH=PLAIN");
}

Result<ImapLogin> tokenLogin(const backends::Credentials& credentials, const std::string& token,
                             const std::set<std::string>& capabilities,
                             const ImapLoginTarget& target) {
  TokenMechanism mechanism = target.tokenMechanism;
  if (mechanism == TokenMechanism::Auto) {
    mechanism = offers(capabilities, "AUTH=OAUTHBEARER") ? TokenMechanism::OAuthBearer
                                                         : TokenMechanism::XOAuth2;
  }
  if (mechanism == TokenMechanism::OAuthBearer) {
    if (!offers(capabilities, "AUTH=OAUTHBEARER")) {
      return permanent("IMAP server does not offer AUTH=OAUTHBEARER");
    }
    // The dummy client response to an error challenge is a single %x01 (RFC 7628 §3.2.3).
    return authenticate(capabilities, "OAUTHBEARER",
                        oauthBearerMessage(credentials.user, target.host, target.port, token),
                        std::string("AQ=="));
  }
  if (!offers(capabilities, "AUTH=XOAUTH2")) {
    return permanent("IMAP server does not offer AUTH=XOAUTH2");
  }
  // XOAUTH2's answer to its error challenge is an empty line (Google's protocol description).
  return authenticate(capabilities, "XOAUTH2", xoauth2Message(credentials.user, token),
                      std::string());
}

}  // namespace

std::string saslPlainMessage(std::string_view authzid, std::string_view authcid,
                             std::string_view password) {
  // RFC 4616 §2: [authzid] UTF8NUL authcid UTF8NUL passwd.
  std::string message(authzid);
  message += '\0';
  message += authcid;
  message += '\0';
  message += password;
  return message;
}

std::string xoauth2Message(std::string_view user, std::string_view token) {
  std::string message = "user=";
  message += user;
  message +=
      "\x01"
      "auth=Bearer ";
  message += token;
  message += "\x01\x01";
  return message;
}

std::string oauthBearerMessage(std::string_view user, std::string_view host, int port,
                               std::string_view token) {
  // RFC 7628 §3.1: gs2-header "n,a=<authzid>," then kvpairs, each ended by %x01, and one more.
  std::string message = "n,a=" + saslName(user) + ",";
  message +=
      "\x01"
      "host=";
  message += host;
  message +=
      "\x01"
      "port=" +
      std::to_string(port);
  message +=
      "\x01"
      "auth=Bearer ";
  message += token;
  message += "\x01\x01";
  return message;
}

Result<ImapLogin> makeImapLogin(const backends::Credentials& credentials,
                                const std::set<std::string>& capabilities,
                                const ImapLoginTarget& target) {
  if (const auto* password = std::get_if<backends::PasswordCredential>(&credentials.secret)) {
    return passwordLogin(credentials, password->password, capabilities, target.literalPlus);
  }
  if (const auto* master = std::get_if<backends::MasterCredential>(&credentials.secret)) {
    // The master user has no LOGIN form that every server accepts ("user*master" is a
    // Dovecot setting): PLAIN's authorization identity is the standard way.
    if (!offers(capabilities, "AUTH=PLAIN")) {
      return permanent("IMAP server does not offer AUTH=PLAIN for a master-user login");
    }
    return authenticate(
        capabilities, "PLAIN",
        saslPlainMessage(credentials.user, master->masterUser, master->masterPassword),
        std::nullopt);
  }
  const auto& token = std::get<backends::TokenCredential>(credentials.secret);
  return tokenLogin(credentials, token.token, capabilities, target);
}

Error loginRefused(const ImapHead& head, const std::string& challenge) {
  // RFC 5530: UNAVAILABLE means the server could not check, not that the secret is wrong.
  bool temporary = head.code == "UNAVAILABLE" || head.code == "SERVERBUG";
  std::string detail = head.text;
  if (!challenge.empty()) detail += " (" + logText(challenge, kMaxChallengeInLog) + ")";
  return Error{temporary ? ErrorCode::Temporary : ErrorCode::Auth, std::move(detail)};
}

}  // namespace popgate::imap
