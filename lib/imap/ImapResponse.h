#pragma once
// One IMAP server response (RFC 3501 §7) as framed by ImapResponseParser: the text of its
// line(s) and the literals between them. segments[i] ends with "{N}" when literals[i] exists.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace popgate::imap {

enum class LiteralMode {
  Buffer,  // keep the bytes in the response (small literals: strings, headers we parse)
  Stream,  // hand the bytes to the handler as they arrive (message bodies)
  Skip,    // drop the bytes (unsolicited or oversized data we do not need)
};

struct ImapLiteral {
  std::uint64_t size = 0;
  LiteralMode mode = LiteralMode::Buffer;
  std::string data;  // only for Buffer
};

struct ImapResponse {
  std::vector<std::string> segments;
  std::vector<ImapLiteral> literals;

  bool isContinuation() const { return !segments.empty() && segments[0].starts_with("+"); }
  bool isUntagged() const { return !segments.empty() && segments[0].starts_with("* "); }
};

enum class ImapStatus { Ok, No, Bad, Bye, Preauth };

// The start of a response line: "* 12 FETCH ...", "* OK [CODE x] text", "a1 NO [CODE] text".
struct ImapHead {
  std::string tag;                      // "*" for untagged, "+" for continuation
  std::optional<std::uint32_t> number;  // "* 12 EXISTS"
  std::string keyword;         // upper-cased: OK, NO, BAD, BYE, PREAUTH, FETCH, EXISTS, ...
  std::string code;            // upper-cased response-code atom, e.g. UIDVALIDITY
  std::string codeArgs;        // the rest inside the brackets
  std::string text;            // human-readable text after the code
  std::size_t restOffset = 0;  // offset in segments[0] after the keyword
};

ImapHead parseHead(const ImapResponse& response);
std::optional<ImapStatus> statusOf(std::string_view keyword);

}  // namespace popgate::imap
