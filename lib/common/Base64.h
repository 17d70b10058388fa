#pragma once
// Base64 (RFC 4648 §4) for SASL exchanges and HTTP Basic credentials. Pure.

#include <optional>
#include <string>
#include <string_view>

namespace popgate {

// Strict: padding required, no white space; nullopt on any invalid input.
std::optional<std::string> decodeBase64(std::string_view text);
std::string encodeBase64(std::string_view bytes);

}  // namespace popgate
