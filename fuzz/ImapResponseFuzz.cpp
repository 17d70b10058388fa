// What an IMAP server can send: responses cut at any byte, literals buffered, streamed or
// skipped as the mailbox would choose, and every reader the mailbox runs on a framed response
// (the head, the tokenizer, FETCH attributes, the snapshot fast path, literal routing).

#include <cstdint>
#include <cstdlib>
#include <string>

#include "FuzzInput.h"
#include "backends/imap/ImapFetch.h"
#include "lib/imap/ImapResponse.h"
#include "lib/imap/ImapResponseParser.h"
#include "lib/imap/ImapTokenizer.h"

namespace {
using namespace popgate::imap;

using popgate::fuzz::check;

class Reader final : public ImapResponseParser::Handler {
 public:
  // The handler's choices come from a generator seeded by the input's first byte, so that the
  // rest of the input is the server's byte stream as it is.
  explicit Reader(std::uint8_t seed) : state_(seed * 2654435761u + 1) {}

  LiteralMode onLiteralStart(const ImapResponse& partial, std::uint64_t size) override {
    check(!partial.segments.empty());
    check(trailingLiteralSize(partial.segments.back()) == size);
    isBodyLiteral(partial);
    uidBeforeLiteral(partial);
    streamLeft_ = size;
    switch (choice() % 3) {
      case 0:
        return LiteralMode::Buffer;
      case 1:
        return LiteralMode::Stream;
      default:
        return LiteralMode::Skip;
    }
  }
  void onLiteralData(std::string_view bytes) override {
    check(bytes.size() <= streamLeft_);
    streamLeft_ -= bytes.size();
  }
  void onLiteralEnd() override { check(streamLeft_ == 0); }
  void onResponse(ImapResponse& response) override {
    check(response.segments.size() == response.literals.size() + 1);
    for (const ImapLiteral& literal : response.literals) {
      if (literal.mode == LiteralMode::Buffer) check(literal.data.size() == literal.size);
    }
    ImapHead head = parseHead(response);
    statusOf(head.keyword);
    parseUidAndSize(response.segments[0]);
    if (head.keyword == "FETCH") parseFetch(response, head);
    // The tokenizer must end (End or Error) within a bound of the response's size.
    ImapTokenizer tokens(response, head.restOffset);
    std::size_t limit = 16;
    for (const std::string& segment : response.segments) limit += segment.size() + 2;
    for (std::size_t i = 0;; ++i) {
      check(i <= limit);
      ImapToken token = tokens.next();
      if (token.kind == ImapToken::Kind::End || token.kind == ImapToken::Kind::Error) break;
      if (choice() & 1) tokens.skipValue(token);
    }
  }

 private:
  std::uint32_t choice() {
    state_ = state_ * 1664525u + 1013904223u;
    return state_ >> 24;
  }
  std::uint32_t state_;
  std::uint64_t streamLeft_ = 0;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  popgate::fuzz::FuzzInput input(data, size);
  Reader reader(input.control());
  ImapResponseParser parser;
  while (!input.empty()) {
    if (!parser.feed(input.chunk(), reader)) break;  // a protocol error ends the connection
  }
  return 0;
}
