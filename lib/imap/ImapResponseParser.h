#pragma once
// Frames the byte stream from an IMAP server into responses (RFC 3501 §7, §4.3 literals).
// Pure and resumable at any byte. Literals are buffered, streamed to the handler, or skipped,
// as the handler decides when each one starts, so a 200 MB message body never sits in memory.

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/common/Result.h"
#include "lib/imap/ImapResponse.h"

namespace popgate::imap {

class ImapResponseParser {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // `partial` holds the segments read so far (its last one ends with "{size}").
    virtual LiteralMode onLiteralStart(const ImapResponse& partial, std::uint64_t size) = 0;
    virtual void onLiteralData(std::string_view bytes) = 0;
    virtual void onLiteralEnd() = 0;
    virtual void onResponse(ImapResponse& response) = 0;
  };

  static constexpr std::size_t kMaxLine = 256 * 1024;
  static constexpr std::uint64_t kMaxBufferedLiteral = 1024 * 1024;  // larger: skipped
  // Bounds for one response, whatever the server sends: literals kept beyond this are skipped,
  // and a response with more literals than this is a protocol error.
  static constexpr std::uint64_t kMaxBufferedResponse = 4 * 1024 * 1024;
  static constexpr std::size_t kMaxLiterals = 4096;

  // Feeds bytes; stops at the first protocol violation and returns it (the parser is then
  // unusable). Call abort() from a handler callback to stop consuming the rest of `bytes`.
  Status feed(std::string_view bytes, Handler& handler);
  void abort() { aborted_ = true; }
  // Bytes of the literal being read that have not arrived yet (0 outside a literal).
  std::uint64_t literalRemaining() const { return inLiteral_ ? literalRemaining_ : 0; }

 private:
  Status lineComplete(Handler& handler);

  ImapResponse response_;
  std::string line_;
  std::uint64_t literalRemaining_ = 0;
  std::uint64_t bufferedInResponse_ = 0;
  bool inLiteral_ = false;
  bool aborted_ = false;
  bool failed_ = false;
};

// Reads "{123}" (or "{123+}") at the end of a line; nullopt if the line ends otherwise.
std::optional<std::uint64_t> trailingLiteralSize(std::string_view line);

}  // namespace popgate::imap
