// AUTHORIZATION by challenge and response: AUTH (RFC 5034) through the SASL table, with the
// bearer mechanisms' error report (RFC 7628 §3.2.2), and APOP (RFC 1939 §7). Each ends in a
// LoginRequest for startLogin() (SessionLogin.cpp); no proof is ever logged.

#include <utility>

#include "lib/common/Base64.h"
#include "proxy/pop3/Apop.h"
#include "proxy/pop3/Arguments.h"
#include "proxy/pop3/Session.h"
#include "proxy/sasl/SaslMechanisms.h"

namespace popgate::pop3 {

sasl::SaslPolicy Session::saslPolicy() const {
  return {loginAllowed(), authenticator_.abilities()};
}

void Session::cmdAuth(std::string_view args) {
  sasl::SaslPolicy policy = saslPolicy();
  auto offered = sasl::offeredMechanisms(policy);
  auto parts = splitArgs(args);
  // What TLS would allow: to tell "use STLS first" from "not here at all".
  sasl::SaslPolicy withTls{true, policy.abilities};
  if (parts.empty()) {
    if (offered.empty()) {
      return reply(sasl::offeredMechanisms(withTls).empty()
                       ? "-ERR No authentication mechanism is available."
                       : "-ERR Login requires TLS: use STLS first.");
    }
    // Not in RFC 5034, but clients such as Outlook probe mechanisms this way.
    std::string out = "+OK\r\n";
    for (const auto* mechanism : offered) out.append(mechanism->name).append("\r\n");
    return sink_.send(out.append(".\r\n"));
  }
  if (parts.size() > 2) return badCommand("-ERR Too many arguments to AUTH.");
  const sasl::SaslMechanismEntry* mechanism = sasl::findMechanism(parts[0], policy);
  if (!mechanism) {
    return reply(sasl::findMechanism(parts[0], withTls)
                     ? "-ERR Login requires TLS: use STLS first."
                     : "-ERR Unsupported authentication mechanism.");
  }
  user_.reset();
  std::optional<std::string> initial;
  if (parts.size() == 2) {
    // RFC 5034 §4: "=" is an initial response of zero length.
    initial = parts[1] == "=" ? std::optional<std::string>("") : decodeBase64(parts[1]);
    if (!initial) return reply("-ERR Invalid base64 data.");
  }
  sasl_ = mechanism->create(sasl::SaslContext{settings_.hostname});
  continueSasl(sasl_->start(initial));
}

void Session::saslLine(std::string_view line) {
  // RFC 7628 §3.2.3: after the error report the client sends ^A (XOAUTH2: an empty line) or
  // aborts with "*" (RFC 5034 §4); either way the exchange fails now.
  if (failureReply_) return reply(*std::exchange(failureReply_, std::nullopt));
  // RFC 5034 §4: "*" cancels the exchange.
  if (line == "*") {
    sasl_.reset();
    return reply("-ERR Authentication cancelled.");
  }
  auto decoded = decodeBase64(line);
  if (!decoded) {
    sasl_.reset();
    return reply("-ERR Invalid base64 data.");
  }
  continueSasl(sasl_->next(*decoded));
}

void Session::continueSasl(sasl::SaslStep step) {
  if (step.kind == sasl::SaslStep::Kind::Challenge) {
    return reply("+ " + encodeBase64(step.challenge));
  }
  auto mechanism = std::move(sasl_);
  if (step.kind == sasl::SaslStep::Kind::Failed) return reply(step.error);
  sasl::SaslCredentials& credentials = *step.credentials;
  // Acting as another user needs a login policy that allows it (master users): none does yet.
  if (!credentials.authzid.empty() && credentials.authzid != credentials.login) {
    return reply("-ERR [AUTH] Authorization identities are not supported.");
  }
  login::LoginRequest request;
  request.login = std::move(credentials.login);
  request.proof = std::move(credentials.proof);
  startLogin(std::move(request), mechanism->failureChallenge());
}

void Session::cmdApop(std::string_view args) {
  // RFC 1939 §7: only a server whose greeting carried a timestamp accepts APOP. No reusable
  // secret crosses the wire, so it needs no TLS.
  if (apopTimestamp_.empty()) return reply("-ERR APOP is not available.");
  auto parsed = parseApopArguments(args);
  if (!parsed) return badCommand("-ERR APOP needs a name and a 32-digit hex digest.");
  user_.reset();
  login::LoginRequest request;
  request.login = std::move(parsed->name);
  request.proof = login::ApopProof{apopTimestamp_, std::move(parsed->digest)};
  startLogin(std::move(request));
}

}  // namespace popgate::pop3
