#include "proxy/login/PasswordSchemes.h"

#include <crypt.h>
#include <openssl/digest.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/mem.h>
#include <openssl/sha.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#ifdef POPGATE_HAVE_ARGON2
#include <argon2.h>
#endif

#include "lib/common/Ascii.h"
#include "lib/common/Base64.h"

namespace popgate::login {

namespace {

using Bytes = std::vector<unsigned char>;

enum class Kind { Plain, Crypt, Digest, SaltedDigest, Argon2 };
enum class Encoding { None, Base64, Hex };
using DigestFn = Bytes (*)(std::string_view);

template <std::size_t N, unsigned char* (*F)(const std::uint8_t*, std::size_t, std::uint8_t*)>
Bytes digestOf(std::string_view data) {
  Bytes out(N);
  F(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), out.data());
  return out;
}

struct Scheme {
  std::string_view name;
  Kind kind;
  Encoding encoding;       // when the name has no suffix
  DigestFn digest;         // Digest and SaltedDigest
  std::size_t digestSize;  // Digest and SaltedDigest
};

// Dovecot's names and default encodings (src/auth/password-scheme.c).
constexpr std::array kSchemes{
    Scheme{"PLAIN", Kind::Plain, Encoding::None, nullptr, 0},
    Scheme{"CLEAR", Kind::Plain, Encoding::None, nullptr, 0},
    Scheme{"CLEARTEXT", Kind::Plain, Encoding::None, nullptr, 0},
    Scheme{"CRYPT", Kind::Crypt, Encoding::None, nullptr, 0},
    Scheme{"DES-CRYPT", Kind::Crypt, Encoding::None, nullptr, 0},
    Scheme{"MD5-CRYPT", Kind::Crypt, Encoding::None, nullptr, 0},
    Scheme{"SHA256-CRYPT", Kind::Crypt, Encoding::None, nullptr, 0},
    Scheme{"SHA512-CRYPT", Kind::Crypt, Encoding::None, nullptr, 0},
    Scheme{"BLF-CRYPT", Kind::Crypt, Encoding::None, nullptr, 0},
    Scheme{"SHA", Kind::Digest, Encoding::Base64, &digestOf<SHA_DIGEST_LENGTH, SHA1>,
           SHA_DIGEST_LENGTH},
    Scheme{"SHA1", Kind::Digest, Encoding::Base64, &digestOf<SHA_DIGEST_LENGTH, SHA1>,
           SHA_DIGEST_LENGTH},
    Scheme{"SHA256", Kind::Digest, Encoding::Base64, &digestOf<SHA256_DIGEST_LENGTH, SHA256>,
           SHA256_DIGEST_LENGTH},
    Scheme{"SHA512", Kind::Digest, Encoding::Base64, &digestOf<SHA512_DIGEST_LENGTH, SHA512>,
           SHA512_DIGEST_LENGTH},
    Scheme{"PLAIN-MD5", Kind::Digest, Encoding::Hex, &digestOf<MD5_DIGEST_LENGTH, MD5>,
           MD5_DIGEST_LENGTH},
    Scheme{"LDAP-MD5", Kind::Digest, Encoding::Base64, &digestOf<MD5_DIGEST_LENGTH, MD5>,
           MD5_DIGEST_LENGTH},
    Scheme{"SSHA", Kind::SaltedDigest, Encoding::Base64, &digestOf<SHA_DIGEST_LENGTH, SHA1>,
           SHA_DIGEST_LENGTH},
    Scheme{"SSHA256", Kind::SaltedDigest, Encoding::Base64, &digestOf<SHA256_DIGEST_LENGTH, SHA256>,
           SHA256_DIGEST_LENGTH},
    Scheme{"SSHA512", Kind::SaltedDigest, Encoding::Base64, &digestOf<SHA512_DIGEST_LENGTH, SHA512>,
           SHA512_DIGEST_LENGTH},
    Scheme{"SMD5", Kind::SaltedDigest, Encoding::Base64, &digestOf<MD5_DIGEST_LENGTH, MD5>,
           MD5_DIGEST_LENGTH},
    Scheme{"ARGON2I", Kind::Argon2, Encoding::None, nullptr, 0},
    Scheme{"ARGON2ID", Kind::Argon2, Encoding::None, nullptr, 0},
};

struct Parsed {
  std::string name;  // upper-cased, suffix included: for logs
  std::string_view data;
  const Scheme* scheme = nullptr;  // null: unknown scheme or encoding
  Encoding encoding = Encoding::None;
  bool encodingGiven = false;
};

// Dovecot's password_get_scheme() and password_scheme_lookup().
Parsed parseStored(std::string_view stored) {
  Parsed out;
  std::string_view name = "CRYPT";
  out.data = stored;
  if (stored.starts_with("{")) {
    std::size_t close = stored.find('}');
    if (close != std::string_view::npos) {
      name = stored.substr(1, close - 1);
      out.data = stored.substr(close + 1);
    }
  } else if (stored.starts_with("$1$")) {
    name = "MD5-CRYPT";
  }
  out.name = asciiUpper(name);
  std::string_view base = out.name;
  std::string_view suffix;
  if (std::size_t dot = base.find('.'); dot != std::string_view::npos) {
    suffix = base.substr(dot + 1);
    base = base.substr(0, dot);
    out.encodingGiven = true;
  }
  for (const Scheme& scheme : kSchemes) {
    if (scheme.name == base) out.scheme = &scheme;
  }
  if (!out.scheme) return out;
  if (!out.encodingGiven) {
    out.encoding = out.scheme->encoding;
  } else if (suffix == "B64" || suffix == "BASE64") {
    out.encoding = Encoding::Base64;
  } else if (suffix == "HEX") {
    out.encoding = Encoding::Hex;
  } else {
    out.scheme = nullptr;  // Dovecot: an unknown encoding is an unknown scheme
  }
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<Bytes> decodeHex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  Bytes out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int high = hexValue(text[2 * i]);
    int low = hexValue(text[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return out;
}

std::optional<Bytes> decodeB64(std::string_view text) {
  auto decoded = decodeBase64(text);
  if (!decoded) return std::nullopt;
  return Bytes(decoded->begin(), decoded->end());
}

// Dovecot's password_decode(): the raw bytes of the stored data, or nullopt when malformed.
std::optional<Bytes> decodeData(const Parsed& parsed) {
  const Scheme& scheme = *parsed.scheme;
  std::optional<Bytes> raw;
  if (parsed.encoding != Encoding::None && scheme.kind == Kind::Digest && !parsed.encodingGiven) {
    // Guessed: twice the digest's length is hex; a failed hex decode may still be base64.
    if (parsed.data.size() == scheme.digestSize * 2) raw = decodeHex(parsed.data);
    if (!raw) raw = decodeB64(parsed.data);
  } else if (parsed.encoding == Encoding::Hex) {
    raw = decodeHex(parsed.data);
  } else if (parsed.encoding == Encoding::Base64) {
    raw = decodeB64(parsed.data);
  } else {
    raw = Bytes(parsed.data.begin(), parsed.data.end());
  }
  if (raw && scheme.kind == Kind::Digest && raw->size() != scheme.digestSize) return std::nullopt;
  return raw;
}

bool equalConstantTime(const unsigned char* a, const unsigned char* b, std::size_t size) {
  return CRYPTO_memcmp(a, b, size) == 0;
}

// Compares through SHA-256 so that neither the time nor an early exit tells the length.
bool equalSecrets(std::string_view a, std::string_view b) {
  Bytes da = digestOf<SHA256_DIGEST_LENGTH, SHA256>(a);
  Bytes db = digestOf<SHA256_DIGEST_LENGTH, SHA256>(b);
  return equalConstantTime(da.data(), db.data(), da.size());
}

PasswordVerdict verdict(bool match) {
  return match ? PasswordVerdict::Match : PasswordVerdict::Mismatch;
}

PasswordVerdict verifyCrypt(const Bytes& stored, std::string_view password) {
  // An empty setting would make some crypt() variants "match" anything (Dovecot refuses it);
  // a NUL would cut the phrase short.
  if (stored.empty() || password.find('\0') != std::string_view::npos) {
    return PasswordVerdict::Mismatch;
  }
  std::string setting(stored.begin(), stored.end());
  std::string phrase(password);
  auto data = std::make_unique<crypt_data>();  // about 32 KiB: not on a pool thread's stack
  const char* hashed =
      crypt_rn(phrase.c_str(), setting.c_str(), data.get(), static_cast<int>(sizeof(crypt_data)));
  if (!hashed) return PasswordVerdict::Mismatch;  // a setting libcrypt does not know
  std::string_view result(hashed);
  if (result.size() != setting.size()) return PasswordVerdict::Mismatch;
  return verdict(equalConstantTime(reinterpret_cast<const unsigned char*>(result.data()),
                                   stored.data(), stored.size()));
}

PasswordVerdict verifyArgon2([[maybe_unused]] const Bytes& stored,
                             [[maybe_unused]] std::string_view password) {
#ifdef POPGATE_HAVE_ARGON2
  // The encoded string names its variant; libsodium (Dovecot's library) accepts i and id.
  std::string encoded(stored.begin(), stored.end());
  argon2_type type;
  if (encoded.starts_with("$argon2id$")) {
    type = Argon2_id;
  } else if (encoded.starts_with("$argon2i$")) {
    type = Argon2_i;
  } else {
    return PasswordVerdict::Mismatch;
  }
  return verdict(argon2_verify(encoded.c_str(), password.data(), password.size(), type) ==
                 ARGON2_OK);
#else
  return PasswordVerdict::Unsupported;
#endif
}

PasswordVerdict verifySalted(const Scheme& scheme, const Bytes& raw, std::string_view password) {
  if (raw.size() <= scheme.digestSize) return PasswordVerdict::Mismatch;  // no salt
  std::string salted(password);
  salted.append(raw.begin() + static_cast<std::ptrdiff_t>(scheme.digestSize), raw.end());
  Bytes digest = scheme.digest(salted);
  return verdict(equalConstantTime(digest.data(), raw.data(), scheme.digestSize));
}

}  // namespace

PasswordVerdict verifyPassword(std::string_view stored, std::string_view password) {
  Parsed parsed = parseStored(stored);
  if (!parsed.scheme) return PasswordVerdict::Unsupported;
#ifndef POPGATE_HAVE_ARGON2
  if (parsed.scheme->kind == Kind::Argon2) return PasswordVerdict::Unsupported;
#endif
  std::optional<Bytes> raw = decodeData(parsed);
  if (!raw) return PasswordVerdict::Mismatch;
  const Scheme& scheme = *parsed.scheme;
  switch (scheme.kind) {
    case Kind::Plain:
      return verdict(equalSecrets(
          std::string_view(reinterpret_cast<const char*>(raw->data()), raw->size()), password));
    case Kind::Crypt:
      return verifyCrypt(*raw, password);
    case Kind::Digest: {
      Bytes digest = scheme.digest(password);
      return verdict(equalConstantTime(digest.data(), raw->data(), digest.size()));
    }
    case Kind::SaltedDigest:
      return verifySalted(scheme, *raw, password);
    case Kind::Argon2:
      return verifyArgon2(*raw, password);
  }
  return PasswordVerdict::Unsupported;
}

std::string passwordSchemeName(std::string_view stored) {
  return parseStored(stored).name;
}

bool passwordSchemeSupported(std::string_view stored) {
  Parsed parsed = parseStored(stored);
  if (!parsed.scheme) return false;
#ifndef POPGATE_HAVE_ARGON2
  if (parsed.scheme->kind == Kind::Argon2) return false;
#endif
  return true;
}

std::optional<std::string> plaintextSecret(std::string_view stored) {
  Parsed parsed = parseStored(stored);
  if (!parsed.scheme || parsed.scheme->kind != Kind::Plain) return std::nullopt;
  std::optional<Bytes> raw = decodeData(parsed);
  if (!raw) return std::nullopt;
  return std::string(raw->begin(), raw->end());
}

bool verifyApop(std::string_view secret, std::string_view timestamp, std::string_view hexDigest) {
  std::optional<Bytes> given = decodeHex(hexDigest);
  std::string input(timestamp);
  input += secret;
  Bytes expected = digestOf<MD5_DIGEST_LENGTH, MD5>(input);
  if (!given || given->size() != expected.size()) return false;
  return equalConstantTime(expected.data(), given->data(), expected.size());
}

bool verifyCramMd5(std::string_view secret, std::string_view challenge,
                   std::string_view hexDigest) {
  std::optional<Bytes> given = decodeHex(hexDigest);
  Bytes expected(MD5_DIGEST_LENGTH);
  unsigned int length = 0;
  HMAC(EVP_md5(), secret.data(), secret.size(),
       reinterpret_cast<const std::uint8_t*>(challenge.data()), challenge.size(), expected.data(),
       &length);
  if (!given || length != expected.size() || given->size() != expected.size()) return false;
  return equalConstantTime(expected.data(), given->data(), expected.size());
}

}  // namespace popgate::login
