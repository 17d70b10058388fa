#pragma once
// One SASL exchange of POP3 AUTH (RFC 5034): a small state machine of its own, with no session
// and no I/O. The session decodes each client line from base64, feeds it in, and either sends the
// challenge (base64-encoded, after "+ "), or logs in with the credentials, or sends the error.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/login/LoginRequest.h"

namespace popgate::sasl {

struct SaslCredentials {
  std::string authzid;  // authorization identity; empty when the client acts as itself
  std::string login;    // authentication identity
  login::Proof proof;
};

struct SaslStep {
  enum class Kind { Challenge, Done, Failed };
  Kind kind = Kind::Failed;
  std::string challenge;                       // Challenge: raw bytes, encoded by the session
  std::optional<SaslCredentials> credentials;  // Done
  std::string error;                           // Failed: the whole -ERR line

  static SaslStep ask(std::string challenge) {
    return {Kind::Challenge, std::move(challenge), std::nullopt, {}};
  }
  static SaslStep done(SaslCredentials credentials) {
    return {Kind::Done, {}, std::move(credentials), {}};
  }
  static SaslStep fail(std::string error) {
    return {Kind::Failed, {}, std::nullopt, std::move(error)};
  }
};

// What a mechanism may need from the connection to start.
struct SaslContext {
  std::string_view hostname = "localhost";  // the server's name in challenges (CRAM-MD5)
};

class SaslMechanism {
 public:
  virtual ~SaslMechanism() = default;
  // The first step, with the client's initial response when AUTH carried one (RFC 5034 §4; "="
  // is an empty one and arrives here as "").
  virtual SaslStep start(std::optional<std::string_view> initial) = 0;
  // Each later client response, decoded.
  virtual SaslStep next(std::string_view response) = 0;
  // When the login with this exchange's credentials is refused (ErrorCode::Auth): a last
  // challenge (raw bytes) to send before the -ERR, whose reply the client must send and the
  // session ignores; nullopt answers -ERR at once. Bearer mechanisms use it for their error
  // report (RFC 7628 §3.2.2). Asked once the exchange is Done, before the login starts.
  virtual std::optional<std::string> failureChallenge() const { return std::nullopt; }
};

}  // namespace popgate::sasl
