#include "lib/config/EnvExpansion.h"

#include <cstdlib>

namespace popgate::config {

namespace {

bool nameStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool nameChar(char c) {
  return nameStart(c) || (c >= '0' && c <= '9');
}

Error invalid(std::string detail) {
  return Error{ErrorCode::Invalid, std::move(detail)};
}

}  // namespace

std::optional<std::string> processEnvironment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (!value) return std::nullopt;
  return std::string(value);
}

Result<std::string> expandEnvironment(std::string_view text, const EnvironmentLookup& lookup) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos)
      return invalid("unterminated ${ (write $${ for a literal ${)");
    std::string_view inside = text.substr(i + 2, close - i - 2);
    std::size_t nameEnd = 0;
    while (nameEnd < inside.size() && nameChar(inside[nameEnd])) ++nameEnd;
    std::string name(inside.substr(0, nameEnd));
    std::string_view rest = inside.substr(nameEnd);
    if (name.empty() || !nameStart(name[0]) || (!rest.empty() && !rest.starts_with(":-"))) {
      return invalid("malformed reference ${" + std::string(inside) +
                     "} (use ${NAME} or ${NAME:-default})");
    }
    std::optional<std::string> value = lookup(name);
    if (rest.starts_with(":-")) {
      out += value && !value->empty() ? *value : std::string(rest.substr(2));
    } else if (value) {
      out += *value;
    } else {
      return invalid("environment variable " + name + " is not set (or write ${" + name +
                     ":-default})");
    }
    i = close + 1;
  }
  return out;
}

}  // namespace popgate::config
