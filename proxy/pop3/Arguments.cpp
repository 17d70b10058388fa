#include "proxy/pop3/Arguments.h"

namespace popgate::pop3 {

std::optional<std::uint32_t> parseNumber(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return value;
}

std::vector<std::string_view> splitArgs(std::string_view text) {
  std::vector<std::string_view> out;
  if (text.empty()) return out;
  for (;;) {
    std::size_t space = text.find(' ');
    out.push_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return out;
}

}  // namespace popgate::pop3
