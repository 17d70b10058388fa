// Message bytes from the store, in chunks as the upstream delivers them, against the rules of
// RFC 1939 §3 applied one byte at a time: the stuffed body must be exactly that, through both
// output forms, and must never contain the terminator before its end.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "FuzzInput.h"
#include "proxy/pop3/DotStuffer.h"
#include "reference/ReferenceStuffing.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  popgate::fuzz::FuzzInput input(data, size);
  std::string message;
  std::string asString;
  std::string asPieces;
  popgate::pop3::DotStuffer intoString;
  popgate::pop3::DotStuffer intoPieces;
  std::vector<std::string_view> pieces;
  while (!input.empty()) {
    std::string chunk(input.chunk());  // owned, so that a read past it is a sanitizer error
    message += chunk;
    intoString.append(chunk, asString);
    pieces.clear();
    intoPieces.append(chunk, pieces);
    for (std::string_view piece : pieces) {
      popgate::fuzz::check(!piece.empty());
      asPieces.append(piece);
    }
  }
  intoString.finish(asString);
  intoPieces.finish(asPieces);
  std::string expected = popgate::reference::stuff(message);
  popgate::fuzz::check(asString == expected && asPieces == expected);
  popgate::fuzz::check(expected.find("\r\n.\r\n") == expected.size() - 5 || expected == ".\r\n");
  return 0;
}
