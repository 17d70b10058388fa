#include "backends/imap/ImapFetch.h"

#include <algorithm>
#include <cctype>

#include "lib/common/Ascii.h"
#include "lib/common/Decimal.h"
#include "lib/imap/ImapTokenizer.h"

namespace popgate::imap {

namespace {
template <class T>
std::optional<T> number(const ImapToken& token) {
  if (token.kind != ImapToken::Kind::Atom) return std::nullopt;
  return parseDecimal<T>(token.text);
}
}  // namespace

std::optional<FetchData> parseFetch(const ImapResponse& response, const ImapHead& head) {
  if (head.keyword != "FETCH" || !head.number) return std::nullopt;
  FetchData data;
  data.sequence = *head.number;
  ImapTokenizer tokens(response, head.restOffset);
  if (tokens.next().kind != ImapToken::Kind::ListOpen) return std::nullopt;
  for (;;) {
    ImapToken name = tokens.next();
    if (name.kind == ImapToken::Kind::ListClose) return data;
    if (name.kind != ImapToken::Kind::Atom) return std::nullopt;
    const std::string& key = name.text;
    ImapToken value = tokens.next();
    if (asciiEqualsUpper(key, "UID")) {
      data.uid = number<std::uint32_t>(value);
      if (!data.uid) return std::nullopt;
    } else if (asciiEqualsUpper(key, "RFC822.SIZE")) {
      data.size = number<std::uint64_t>(value);
      if (!data.size) return std::nullopt;
    } else if (asciiStartsWithUpper(key, "BODY[") || asciiStartsWithUpper(key, "RFC822")) {
      if (value.kind != ImapToken::Kind::String && value.kind != ImapToken::Kind::Nil) {
        return std::nullopt;
      }
      data.sections.push_back(FetchData::Section{asciiUpper(key),
                                                 value.kind == ImapToken::Kind::Nil, value.literal,
                                                 std::move(value.text)});
    } else if (!tokens.skipValue(value)) {
      return std::nullopt;
    }
  }
}

std::optional<std::pair<std::uint32_t, std::uint64_t>> parseUidAndSize(std::string_view line) {
  std::size_t open = line.find('(');
  if (open == std::string_view::npos || !line.ends_with(')')) return std::nullopt;
  std::string_view items = line.substr(open + 1, line.size() - open - 2);
  std::optional<std::uint32_t> uid;
  std::optional<std::uint64_t> size;
  for (int i = 0; i < 2; ++i) {
    std::size_t space = items.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    std::string_view name = items.substr(0, space);
    items.remove_prefix(space + 1);
    std::size_t end = std::min(items.find(' '), items.size());
    std::string_view digits = items.substr(0, end);
    items.remove_prefix(std::min(end + 1, items.size()));
    std::optional<std::uint64_t> value = parseDecimal<std::uint64_t>(digits);
    if (!value) return std::nullopt;
    if (asciiEqualsUpper(name, "UID") && !uid && *value <= UINT32_MAX) {
      uid = static_cast<std::uint32_t>(*value);
    } else if (asciiEqualsUpper(name, "RFC822.SIZE") && !size) {
      size = *value;
    } else {
      return std::nullopt;
    }
  }
  if (!items.empty() || !uid || !size) return std::nullopt;
  return std::pair{*uid, *size};
}

bool isBodyLiteral(const ImapResponse& partial) {
  std::string_view line = partial.segments.back();
  std::size_t brace = line.rfind('{');
  if (brace == std::string_view::npos) return false;
  line = line.substr(0, brace);
  while (line.ends_with(' ')) line.remove_suffix(1);
  std::size_t start = line.find_last_of(" (");
  std::string attribute = asciiUpper(line.substr(start == std::string_view::npos ? 0 : start + 1));
  return attribute.starts_with("BODY[");
}

std::optional<std::uint32_t> uidBeforeLiteral(const ImapResponse& partial) {
  for (const std::string& segment : partial.segments) {
    std::string_view text = segment;
    bool quoted = false;
    int brackets = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (quoted) {
        if (c == '\\')
          ++i;
        else if (c == '"')
          quoted = false;
        continue;
      }
      if (c == '"') {
        quoted = true;
      } else if (c == '[') {
        ++brackets;
      } else if (c == ']') {
        brackets = std::max(0, brackets - 1);
      } else if (brackets == 0 && (c == '(' || c == ' ') && i + 5 <= text.size() &&
                 asciiEqualsUpper(text.substr(i + 1, 4), "UID ")) {
        std::size_t end = std::min(text.find_first_not_of("0123456789", i + 5), text.size());
        auto uid = parseDecimal<std::uint32_t>(text.substr(i + 5, end - (i + 5)));
        if (uid && (end == text.size() || text[end] == ' ' || text[end] == ')')) return uid;
      }
    }
  }
  return std::nullopt;
}

ImapCommandText& ImapCommandText::raw(std::string_view text) {
  parts_.back().append(text);
  return *this;
}

ImapCommandText& ImapCommandText::string(std::string_view value) {
  bool quotable = value.size() < 1024 && std::all_of(value.begin(), value.end(), [](char c) {
                    auto u = static_cast<unsigned char>(c);
                    return u >= 0x01 && u < 0x80 && c != '\r' && c != '\n';
                  });
  if (quotable) {
    std::string& out = parts_.back();
    out.push_back('"');
    for (char c : value) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
    return *this;
  }
  parts_.back()
      .append("{")
      .append(std::to_string(value.size()))
      .append(literalPlus_ ? "+}\r\n" : "}\r\n");
  if (!literalPlus_) parts_.emplace_back();
  parts_.back().append(value);
  return *this;
}

std::string formatUidSet(std::vector<std::uint32_t> uids) {
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  std::string out;
  for (std::size_t i = 0; i < uids.size();) {
    std::size_t j = i;
    while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
    if (!out.empty()) out.push_back(',');
    out.append(std::to_string(uids[i]));
    if (j > i) out.append(":").append(std::to_string(uids[j]));
    i = j + 1;
  }
  return out;
}

namespace {
// UTF-8 -> UTF-16 code units; invalid sequences become U+FFFD.
std::vector<std::uint16_t> utf16(std::string_view utf8) {
  std::vector<std::uint16_t> out;
  for (std::size_t i = 0; i < utf8.size();) {
    auto byte = static_cast<unsigned char>(utf8[i]);
    std::uint32_t cp = 0xFFFD;
    std::size_t length = byte < 0x80       ? 1
                         : byte >> 5 == 6  ? 2
                         : byte >> 4 == 14 ? 3
                         : byte >> 3 == 30 ? 4
                                           : 0;
    if (length == 0 || i + length > utf8.size()) {
      ++i;
    } else {
      cp = length == 1 ? byte : byte & (0x7F >> length);
      for (std::size_t k = 1; k < length; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
      i += length;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<std::uint16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<std::uint16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<std::uint16_t>(cp));
    }
  }
  return out;
}
}  // namespace

std::string encodeMailboxName(std::string_view utf8) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
  std::vector<std::uint16_t> units = utf16(utf8);
  std::string out;
  for (std::size_t i = 0; i < units.size();) {
    std::uint16_t unit = units[i];
    if (unit >= 0x20 && unit <= 0x7E) {
      out.append(unit == '&' ? "&-" : std::string(1, static_cast<char>(unit)));
      ++i;
      continue;
    }
    // A run of other characters: base64 of their UTF-16BE bytes, without padding.
    out.push_back('&');
    std::uint32_t bits = 0;
    int count = 0;
    for (; i < units.size() && (units[i] < 0x20 || units[i] > 0x7E); ++i) {
      for (int shift : {8, 0}) {
        bits = (bits << 8) | ((units[i] >> shift) & 0xFF);
        count += 8;
        while (count >= 6) {
          count -= 6;
          out.push_back(kAlphabet[(bits >> count) & 0x3F]);
        }
      }
    }
    if (count > 0) out.push_back(kAlphabet[(bits << (6 - count)) & 0x3F]);
    out.push_back('-');
  }
  return out;
}

}  // namespace popgate::imap
