#pragma once
// Dovecot's password schemes (doc.dovecot.org, "password schemes"), verified without I/O. A
// stored password is `{SCHEME}data`, or bare data in the default scheme CRYPT (Dovecot's
// default_pass_scheme); a bare `$1$...` is MD5-CRYPT, as Dovecot reads it. Scheme names are
// case-insensitive, and a `.HEX`, `.B64` or `.BASE64` suffix names the data's encoding; without
// one, fixed-length digests (SHA, SHA256, SHA512, PLAIN-MD5, LDAP-MD5) are read as hex when the
// data is exactly twice the digest's length and as base64 otherwise, as Dovecot guesses.
//
//   PLAIN, CLEAR, CLEARTEXT                        the password itself (plaintext-equivalent)
//   CRYPT, DES-CRYPT, MD5-CRYPT, SHA256-CRYPT,     libcrypt's crypt_rn (libxcrypt: $1$, $5$,
//   SHA512-CRYPT, BLF-CRYPT                        $6$, $2b$/$2y$, $y$), whatever the prefix says
//   SHA (SHA1), SHA256, SHA512, PLAIN-MD5, LDAP-MD5    digest of the password
//   SSHA, SSHA256, SSHA512, SMD5                   digest of password + salt, then the salt
//   ARGON2I, ARGON2ID                              libargon2's argon2_verify on the encoded
//                                                  string (only when built with it)
//
// Every comparison of secret bytes is constant-time (CRYPTO_memcmp). Nothing here logs.

#include <optional>
#include <string>
#include <string_view>

namespace popgate::login {

enum class PasswordVerdict {
  Match,
  Mismatch,     // also for stored data that is not valid in its scheme
  Unsupported,  // an unknown scheme or encoding, or ARGON2 in a build without libargon2
};

// Slow for CRYPT and ARGON2 (milliseconds to hundreds of ms): never call it on an event loop.
PasswordVerdict verifyPassword(std::string_view stored, std::string_view password);

// The scheme as written (upper-cased, with any encoding suffix), "CRYPT" when there is no prefix.
// Safe to log: it never includes the stored data.
std::string passwordSchemeName(std::string_view stored);

// Whether verifyPassword can answer for this stored password at all (not Unsupported).
bool passwordSchemeSupported(std::string_view stored);

// The secret itself, for challenge-response proofs (APOP, CRAM-MD5), when the scheme is
// plaintext-equivalent (PLAIN, CLEAR, CLEARTEXT, with any encoding suffix); nullopt otherwise.
std::optional<std::string> plaintextSecret(std::string_view stored);

// RFC 1939 §7: the digest is MD5(timestamp + secret), in hex (either case). `timestamp` is the
// banner's <...> string, angle brackets included.
bool verifyApop(std::string_view secret, std::string_view timestamp, std::string_view hexDigest);

// RFC 2195 §2: the digest is HMAC-MD5 keyed by the secret over the challenge, in hex.
bool verifyCramMd5(std::string_view secret, std::string_view challenge, std::string_view hexDigest);

}  // namespace popgate::login
