#include "lib/imap/ImapTrace.h"

#include "lib/common/Ascii.h"
#include "lib/common/LogText.h"

namespace popgate::imap {

namespace {
constexpr std::size_t kMaxTraceLine = 512;
}

std::string traceCommand(const std::string& tag, const std::vector<std::string>& parts) {
  std::string first = parts.empty() ? std::string() : parts.front();
  if (asciiStartsWithUpper(first, "LOGIN ")) return tag + " LOGIN ***";
  if (asciiStartsWithUpper(first, "AUTHENTICATE ")) {
    // The mechanism is no secret; an initial response (SASL-IR) is.
    std::string rest = first.substr(13);
    return tag + " AUTHENTICATE " + logText(rest.substr(0, rest.find(' ')), 40) + " ***";
  }
  std::string text = tag + " ";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) text += " <literal> ";
    text += parts[i];
  }
  return logText(text, kMaxTraceLine);
}

std::string traceSaslResponse(std::string_view /*line*/) {
  return "***";
}

std::string traceResponse(const ImapResponse& response) {
  std::string text;
  for (std::size_t i = 0; i < response.segments.size(); ++i) {
    text += response.segments[i];
    if (i < response.literals.size()) {
      text += " <" + std::to_string(response.literals[i].size) + " octets> ";
    }
  }
  return logText(text, kMaxTraceLine);
}

}  // namespace popgate::imap
