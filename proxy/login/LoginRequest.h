#pragma once
// What a POP3 login asks and what it is granted. The session builds a LoginRequest from USER/PASS,
// APOP or a SASL exchange; an Authenticator turns it into a LoginGrant (which store, which
// upstream user, which upstream credential) or an RFC 3206 outcome. Proofs and credentials are
// secrets: never logged.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "backends/mailbox/Mailbox.h"

namespace popgate::login {

struct PasswordProof {  // USER/PASS, SASL PLAIN and LOGIN
  std::string password;
};
struct ApopProof {  // RFC 1939 §7: MD5(timestamp + secret), hex
  std::string timestamp;
  std::string digest;
};
struct CramMd5Proof {  // RFC 2195: HMAC-MD5(secret, challenge), hex
  std::string challenge;
  std::string digest;
};
struct BearerProof {  // an OAuth2 access token (XOAUTH2, RFC 7628 OAUTHBEARER)
  std::string token;
};
using Proof = std::variant<PasswordProof, ApopProof, CramMd5Proof, BearerProof>;

struct LoginRequest {
  std::string login;    // as the client sent it (the SASL authentication identity)
  std::string authzid;  // SASL authorization identity; empty when acting as itself
  Proof proof;
  std::string clientAddress;  // "address:port", for per-address policies and logs
  unsigned attempt = 1;       // 1 for the session's first login, 2 for its second, ...
};

struct LoginGrant {
  std::unique_ptr<backends::Mailbox> mailbox;  // of the routed store, not yet opened
  backends::Credentials credentials;           // upstream user and how to log in as them
  std::string lockKey;    // names the upstream mailbox, for the one-session-per-mailbox lock
  bool exclusive = true;  // false: the backend's `lock: none`, no lock is taken
  // RFC 2449 §6.5 LOGIN-DELAY and §6.7 EXPIRE for this user, listed by CAPA in TRANSACTION;
  // absent: the listener's values. `expire` is "NEVER" or a number of days.
  std::optional<std::uint32_t> loginDelay{};
  std::optional<std::string> expire{};
};

}  // namespace popgate::login
