#include "proxy/pop3/Sasl.h"

#include <openssl/base64.h>

#include <cstdint>
#include <vector>

namespace popgate::pop3 {

std::optional<std::string> decodeBase64(std::string_view text) {
  std::size_t maxLength = 0;
  if (!EVP_DecodedLength(&maxLength, text.size())) return std::nullopt;
  std::string out(maxLength, '\0');
  std::size_t length = 0;
  if (!EVP_DecodeBase64(reinterpret_cast<std::uint8_t*>(out.data()), &length, out.size(),
                        reinterpret_cast<const std::uint8_t*>(text.data()), text.size())) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::string encodeBase64(std::string_view bytes) {
  std::size_t length = 0;
  EVP_EncodedLength(&length, bytes.size());
  std::string out(length, '\0');
  std::size_t written =
      EVP_EncodeBlock(reinterpret_cast<std::uint8_t*>(out.data()),
                      reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  out.resize(written);
  return out;
}

std::optional<PlainCredentials> parsePlain(std::string_view message) {
  std::size_t first = message.find('\0');
  if (first == std::string_view::npos) return std::nullopt;
  std::size_t second = message.find('\0', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  PlainCredentials credentials{std::string(message.substr(0, first)),
                               std::string(message.substr(first + 1, second - first - 1)),
                               std::string(message.substr(second + 1))};
  if (credentials.authcid.empty() || credentials.password.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  return credentials;
}

}  // namespace popgate::pop3
