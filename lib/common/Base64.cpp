#include "lib/common/Base64.h"

#include <openssl/base64.h>

#include <cstdint>

namespace popgate {

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

}  // namespace popgate
