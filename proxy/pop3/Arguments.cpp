#include "proxy/pop3/Arguments.h"

#include "lib/common/Decimal.h"

namespace popgate::pop3 {

std::optional<std::uint32_t> parseNumber(std::string_view text) {
  return parseDecimal<std::uint32_t>(text, 9);
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
