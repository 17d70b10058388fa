#pragma once
// Reads the attributes of an untagged FETCH response (RFC 3501 §7.4.2) that the mailbox needs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/imap/ImapResponse.h"

namespace popgate::imap {

struct FetchData {
  struct Section {
    std::string name;  // e.g. "BODY[]", "BODY[TEXT]<0>" (upper-cased)
    bool nil = false;
    const ImapLiteral* literal = nullptr;  // when sent as a literal (possibly streamed)
    std::string value;                     // when sent as a quoted string or buffered literal
  };
  std::uint32_t sequence = 0;
  std::optional<std::uint32_t> uid;
  std::optional<std::uint64_t> size;  // RFC822.SIZE
  std::vector<Section> sections;
};

// nullopt when the response is not a well-formed "* n FETCH (...)".
std::optional<FetchData> parseFetch(const ImapResponse& response, const ImapHead& head);

// The snapshot's common case, without tokenizing: "* 3 FETCH (UID 7 RFC822.SIZE 1234)" (either
// order, any case) -> (7, 1234). nullopt for any other shape (then use parseFetch).
std::optional<std::pair<std::uint32_t, std::uint64_t>> parseUidAndSize(std::string_view line);

// Whether the literal that starts after `partial` is a message section: in
// "* 3 FETCH (UID 7 BODY[] {12}" it belongs to BODY[].
bool isBodyLiteral(const ImapResponse& partial);
// The UID a FETCH response names before the literal that starts after `partial`, if it does
// ("* 3 FETCH (UID 7 BODY[] {12}" -> 7). Quoted strings and [...] sections are not read.
std::optional<std::uint32_t> uidBeforeLiteral(const ImapResponse& partial);

// Builds an IMAP command whose arguments may need literals (RFC 3501 §4.3). Each part but the
// first is sent after the server's continuation request, unless LITERAL+ (RFC 7888) allows
// sending it at once.
class ImapCommandText {
 public:
  explicit ImapCommandText(bool literalPlus) : literalPlus_(literalPlus) { parts_.emplace_back(); }
  ImapCommandText& raw(std::string_view text);
  // An astring: quoted when it is plain 7-bit text, a literal otherwise.
  ImapCommandText& string(std::string_view value);
  std::vector<std::string> take() { return std::move(parts_); }

 private:
  bool literalPlus_;
  std::vector<std::string> parts_;
};

// "1:3,7,9:10" from any list of UIDs.
std::string formatUidSet(std::vector<std::uint32_t> uids);

// A UTF-8 mailbox name in IMAP's modified UTF-7 (RFC 3501 §5.1.3): "Entwürfe" -> "Entw&APw-rfe".
std::string encodeMailboxName(std::string_view utf8);

}  // namespace popgate::imap
