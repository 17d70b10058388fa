#include "lib/imap/ImapResponse.h"

#include <algorithm>
#include <cctype>

#include "lib/common/Ascii.h"
#include "lib/common/Decimal.h"

namespace popgate::imap {

namespace {
std::string_view word(std::string_view line, std::size_t& pos) {
  std::size_t end = line.find(' ', pos);
  if (end == std::string_view::npos) end = line.size();
  std::string_view w = line.substr(pos, end - pos);
  pos = end < line.size() ? end + 1 : end;
  return w;
}
}  // namespace

std::optional<ImapStatus> statusOf(std::string_view keyword) {
  if (keyword == "OK") return ImapStatus::Ok;
  if (keyword == "NO") return ImapStatus::No;
  if (keyword == "BAD") return ImapStatus::Bad;
  if (keyword == "BYE") return ImapStatus::Bye;
  if (keyword == "PREAUTH") return ImapStatus::Preauth;
  return std::nullopt;
}

ImapHead parseHead(const ImapResponse& response) {
  ImapHead head;
  if (response.segments.empty()) return head;
  std::string_view line = response.segments[0];
  std::size_t pos = 0;
  head.tag = std::string(word(line, pos));
  if (head.tag == "+") {
    head.text = std::string(line.substr(pos));
    return head;
  }
  std::string_view next = word(line, pos);
  if (auto number = parseDecimal<std::uint32_t>(next)) {
    head.number = number;
    next = word(line, pos);
  }
  head.keyword = asciiUpper(next);
  head.restOffset = pos;
  if (statusOf(head.keyword)) {
    std::string_view rest = line.substr(pos);
    if (rest.starts_with("[")) {
      std::size_t close = rest.find(']');
      if (close != std::string_view::npos) {
        std::string_view inside = rest.substr(1, close - 1);
        std::size_t space = inside.find(' ');
        head.code = asciiUpper(inside.substr(0, space));
        if (space != std::string_view::npos) head.codeArgs = std::string(inside.substr(space + 1));
        rest.remove_prefix(close + 1);
        if (rest.starts_with(" ")) rest.remove_prefix(1);
      }
    }
    head.text = std::string(rest);
  }
  return head;
}

}  // namespace popgate::imap
