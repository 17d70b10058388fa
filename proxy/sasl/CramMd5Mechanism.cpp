#include "proxy/sasl/CramMd5Mechanism.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <chrono>

#include "lib/common/Ascii.h"

namespace popgate::sasl {

std::string cramMd5Challenge(std::uint64_t random, std::int64_t unixTime,
                             std::string_view hostname) {
  return fmt::format("<{}.{}@{}>", random, unixTime, hostname);
}

std::optional<std::string> parseHexDigest(std::string_view text, std::size_t octets) {
  if (text.size() != octets * 2) return std::nullopt;
  for (char c : text) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return std::nullopt;
  }
  return asciiLower(text);
}

std::optional<CramMd5Response> parseCramMd5Response(std::string_view response) {
  std::size_t space = response.rfind(' ');
  if (space == std::string_view::npos || space == 0) return std::nullopt;
  auto digest = parseHexDigest(response.substr(space + 1));
  if (!digest) return std::nullopt;
  return CramMd5Response{std::string(response.substr(0, space)), std::move(*digest)};
}

namespace {
class CramMd5Mechanism final : public SaslMechanism {
 public:
  explicit CramMd5Mechanism(std::string challenge) : challenge_(std::move(challenge)) {}

  SaslStep start(std::optional<std::string_view> initial) override {
    // The server speaks first (RFC 2195 §2): an initial response has nothing to answer.
    if (initial) return SaslStep::fail("-ERR [AUTH] CRAM-MD5 takes no initial response.");
    return SaslStep::ask(challenge_);
  }
  SaslStep next(std::string_view response) override {
    auto parsed = parseCramMd5Response(response);
    if (!parsed) return SaslStep::fail("-ERR [AUTH] Malformed CRAM-MD5 response.");
    return SaslStep::done(
        {{}, std::move(parsed->user), login::CramMd5Proof{challenge_, std::move(parsed->digest)}});
  }

 private:
  std::string challenge_;
};
}  // namespace

std::unique_ptr<SaslMechanism> makeCramMd5Mechanism(std::string challenge) {
  return std::make_unique<CramMd5Mechanism>(std::move(challenge));
}

std::unique_ptr<SaslMechanism> makeCramMd5MechanismFor(const SaslContext& context) {
  std::uint64_t random = 0;
  // BoringSSL's RAND_bytes always returns 1: it aborts rather than give weak bytes.
  RAND_bytes(reinterpret_cast<std::uint8_t*>(&random), sizeof random);
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return makeCramMd5Mechanism(cramMd5Challenge(
      random, std::chrono::duration_cast<std::chrono::seconds>(now).count(), context.hostname));
}

}  // namespace popgate::sasl
