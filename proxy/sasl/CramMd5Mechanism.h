#pragma once
// SASL CRAM-MD5 (RFC 2195): the server sends a unique challenge "<random.unixtime@hostname>",
// the client answers "user SP hex(HMAC-MD5(secret, challenge))". Nothing reusable crosses the
// wire, but checking it needs a plaintext-equivalent secret: the authenticator does that, this
// mechanism only hands over the challenge and the digest (login::CramMd5Proof).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/sasl/SaslMechanism.h"

namespace popgate::sasl {

// RFC 2195 §2: the challenge in the msg-id form of RFC 822, unique per exchange.
std::string cramMd5Challenge(std::uint64_t random, std::int64_t unixTime,
                             std::string_view hostname);

struct CramMd5Response {
  std::string user;
  std::string digest;  // 32 lower-case hex digits
};
// "user SP digest"; the user is everything before the last space (a name may hold spaces).
// nullopt when malformed: no space, an empty user, a digest that is not 32 hex digits.
std::optional<CramMd5Response> parseCramMd5Response(std::string_view response);

// `text` if it is `octets` * 2 hex digits in either case, lower-cased; else nullopt. Also used
// for the APOP digest (RFC 1939 §7).
std::optional<std::string> parseHexDigest(std::string_view text, std::size_t octets = 16);

// With the challenge given (tests), and with a fresh one from BoringSSL's RAND_bytes and the
// clock (the table).
std::unique_ptr<SaslMechanism> makeCramMd5Mechanism(std::string challenge);
std::unique_ptr<SaslMechanism> makeCramMd5MechanismFor(const SaslContext& context);

}  // namespace popgate::sasl
