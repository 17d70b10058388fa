#pragma once
// Reads the tokens of a framed IMAP response (RFC 3501 §9 formal syntax, the subset servers
// send in data responses): atoms (a bracketed section such as BODY[HEADER.FIELDS (A B)] stays
// one atom), numbers, quoted strings, literals, NIL and parenthesised lists.

#include <cstddef>
#include <string>
#include <string_view>

#include "lib/imap/ImapResponse.h"

namespace popgate::imap {

struct ImapToken {
  enum class Kind { Atom, String, Nil, ListOpen, ListClose, End, Error };
  Kind kind = Kind::End;
  std::string text;                      // atom text, or the string's value when buffered
  const ImapLiteral* literal = nullptr;  // set for a literal string (maybe streamed or skipped)
};

class ImapTokenizer {
 public:
  ImapTokenizer(const ImapResponse& response, std::size_t offset);
  ImapToken next();
  // Skips one whole value (a list with everything in it, or a single token).
  bool skipValue(const ImapToken& first);

 private:
  const ImapResponse& response_;
  std::size_t segment_ = 0;
  std::size_t pos_;
};

}  // namespace popgate::imap
