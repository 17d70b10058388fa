#include "lib/imap/ImapTokenizer.h"

#include <algorithm>
#include <cctype>

#include "lib/common/Ascii.h"
#include "lib/imap/ImapResponseParser.h"

namespace popgate::imap {

ImapTokenizer::ImapTokenizer(const ImapResponse& response, std::size_t offset)
    : response_(response), pos_(offset) {}

ImapToken ImapTokenizer::next() {
  for (;;) {
    if (segment_ >= response_.segments.size()) return {};
    std::string_view line = response_.segments[segment_];
    while (pos_ < line.size() && line[pos_] == ' ') ++pos_;
    if (pos_ >= line.size()) return {};
    char c = line[pos_];
    if (c == '(') {
      ++pos_;
      return {ImapToken::Kind::ListOpen, {}, nullptr};
    }
    if (c == ')') {
      ++pos_;
      return {ImapToken::Kind::ListClose, {}, nullptr};
    }
    if (c == '{') {
      // A literal: it ends this segment; its bytes sit between this segment and the next.
      if (segment_ >= response_.literals.size() || !trailingLiteralSize(line.substr(pos_))) {
        return {ImapToken::Kind::Error, "bad literal", nullptr};
      }
      const ImapLiteral& literal = response_.literals[segment_];
      ++segment_;
      pos_ = 0;
      return {ImapToken::Kind::String, literal.data, &literal};
    }
    if (c == '"') {
      std::string value;
      for (++pos_; pos_ < line.size(); ++pos_) {
        char q = line[pos_];
        if (q == '\\' && pos_ + 1 < line.size()) {
          value.push_back(line[++pos_]);
        } else if (q == '"') {
          ++pos_;
          return {ImapToken::Kind::String, std::move(value), nullptr};
        } else {
          value.push_back(q);
        }
      }
      return {ImapToken::Kind::Error, "unterminated quoted string", nullptr};
    }
    std::size_t start = pos_;
    int depth = 0;
    while (pos_ < line.size()) {
      char a = line[pos_];
      if (a == '[') ++depth;
      if (a == ']' && depth > 0) --depth;
      if (depth == 0 && (a == ' ' || a == '(' || a == ')')) break;
      ++pos_;
    }
    std::string atom(line.substr(start, pos_ - start));
    if (asciiEqualsUpper(atom, "NIL")) return {ImapToken::Kind::Nil, {}, nullptr};
    return {ImapToken::Kind::Atom, std::move(atom), nullptr};
  }
}

bool ImapTokenizer::skipValue(const ImapToken& first) {
  if (first.kind != ImapToken::Kind::ListOpen) {
    return first.kind != ImapToken::Kind::End && first.kind != ImapToken::Kind::Error;
  }
  int depth = 1;
  while (depth > 0) {
    ImapToken t = next();
    if (t.kind == ImapToken::Kind::End || t.kind == ImapToken::Kind::Error) return false;
    if (t.kind == ImapToken::Kind::ListOpen) ++depth;
    if (t.kind == ImapToken::Kind::ListClose) --depth;
  }
  return true;
}

}  // namespace popgate::imap
