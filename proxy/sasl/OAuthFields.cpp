#include "proxy/sasl/OAuthFields.h"

#include <algorithm>

#include "lib/common/Ascii.h"

namespace popgate::sasl {

namespace {
constexpr char kKvsep = '\x01';

bool isAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isValueChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 0x21 && u <= 0x7e) || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
}  // namespace

std::optional<OAuthPairs> parseOAuthPairs(std::string_view text) {
  OAuthPairs pairs;
  for (;;) {
    std::size_t end = text.find(kKvsep);
    if (end == std::string_view::npos) return std::nullopt;  // unterminated
    if (end == 0) break;                                     // the closing kvsep
    std::string_view pair = text.substr(0, end);
    text.remove_prefix(end + 1);
    std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos || equals == 0) return std::nullopt;
    std::string_view key = pair.substr(0, equals);
    std::string_view value = pair.substr(equals + 1);
    if (!std::all_of(key.begin(), key.end(), isAlpha)) return std::nullopt;
    if (!std::all_of(value.begin(), value.end(), isValueChar)) return std::nullopt;
    if (findOAuthPair(pairs, key)) return std::nullopt;
    pairs.emplace_back(key, value);
  }
  if (text.size() != 1) return std::nullopt;  // bytes after the closing kvsep
  return pairs;
}

std::optional<std::string_view> findOAuthPair(const OAuthPairs& pairs, std::string_view key) {
  for (const auto& [k, v] : pairs) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::optional<std::string> parseBearerAuth(std::string_view value) {
  if (!asciiStartsWithUpper(value, "BEARER ")) return std::nullopt;
  value.remove_prefix(6);
  value.remove_prefix(std::min(value.find_first_not_of(' '), value.size()));
  // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  std::size_t body = value.find_first_not_of(
      "-._~+/abcdefghijklmnopqrstuvwxyz"
      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
  if (value.empty() || body == 0) return std::nullopt;
  if (body != std::string_view::npos &&
      value.find_first_not_of('=', body) != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(value);
}

}  // namespace popgate::sasl
