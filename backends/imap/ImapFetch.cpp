#include "imap/ImapFetch.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/Ascii.h"
#include "imap/ImapTokenizer.h"

namespace popgate::imap {

namespace {
template <class T>
std::optional<T> number(const ImapToken& token) {
  if (token.kind != ImapToken::Kind::Atom) return std::nullopt;
  T value{};
  const char* end = token.text.data() + token.text.size();
  auto [ptr, ec] = std::from_chars(token.text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
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
    std::string key = asciiUpper(name.text);
    ImapToken value = tokens.next();
    if (key == "UID") {
      data.uid = number<std::uint32_t>(value);
      if (!data.uid) return std::nullopt;
    } else if (key == "RFC822.SIZE") {
      data.size = number<std::uint64_t>(value);
      if (!data.size) return std::nullopt;
    } else if (key.starts_with("BODY[") || key.starts_with("RFC822")) {
      if (value.kind != ImapToken::Kind::String && value.kind != ImapToken::Kind::Nil) {
        return std::nullopt;
      }
      data.sections.push_back(FetchData::Section{key, value.kind == ImapToken::Kind::Nil,
                                                 value.literal, std::move(value.text)});
    } else if (!tokens.skipValue(value)) {
      return std::nullopt;
    }
  }
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

}  // namespace popgate::imap
