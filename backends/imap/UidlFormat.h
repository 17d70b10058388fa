#pragma once
// How an IMAP message's UIDL is written, so that users who move from a store's own POP3 server
// to popgate keep their UIDLs and download nothing twice. Presets are named after the POP3
// servers users leave:
//   dovecot  %08Xu%08Xv   Dovecot 2.3's default pop3_uidl_format (popgate's default)
//   cyrus    %v.%u        Cyrus pop3d: <uidvalidity>.<uid>
//   courier  UID%u-%v     Courier pop3d: UID<uid>-<uidvalidity>
// or a template in Dovecot's pop3_uidl_format syntax: %u the UID, %v the UIDVALIDITY, each with
// an optional width (a leading 0 pads with zeros) and X for lower-case hex; %% is a percent sign.
// Every UIDL it can write is 1-70 characters of 0x21-0x7E (RFC 1939 §7), or the template is
// refused.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/Result.h"

namespace popgate::imap {

class UidlFormat {
 public:
  UidlFormat();  // dovecot
  // A preset name or a template; an error says what is wrong with it.
  static Result<UidlFormat> parse(std::string_view text);

  std::string format(std::uint32_t uid, std::uint32_t uidValidity) const;
  void appendTo(std::string& out, std::uint32_t uid, std::uint32_t uidValidity) const;

 private:
  struct Piece {
    enum class Kind { Text, Uid, UidValidity } kind = Kind::Text;
    std::string text;
    int width = 0;
    bool zeroPad = false;
    bool hex = false;
  };
  bool dovecotDefault_ = true;  // the fast path: plain hex digits, no pieces
  std::vector<Piece> pieces_;
};

}  // namespace popgate::imap
