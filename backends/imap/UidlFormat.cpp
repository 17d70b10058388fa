#include "backends/imap/UidlFormat.h"

#include <fmt/format.h>

namespace popgate::imap {

namespace {

constexpr std::size_t kMaxUidl = 70;  // RFC 1939 §7

Error invalid(std::string detail) {
  return Error{ErrorCode::Invalid, "uidl_format: " + std::move(detail)};
}

}  // namespace

UidlFormat::UidlFormat() = default;

Result<UidlFormat> UidlFormat::parse(std::string_view text) {
  if (text == "dovecot") return UidlFormat();
  std::string_view tpl = text == "cyrus" ? "%v.%u" : text == "courier" ? "UID%u-%v" : text;
  UidlFormat out;
  out.dovecotDefault_ = false;
  std::size_t longest = 0;
  bool hasUid = false;
  for (std::size_t i = 0; i < tpl.size();) {
    char c = tpl[i];
    if (c != '%') {
      if (c < 0x21 || c > 0x7e) return invalid("only printable characters, no spaces");
      if (out.pieces_.empty() || out.pieces_.back().kind != Piece::Kind::Text) {
        out.pieces_.push_back({});
      }
      out.pieces_.back().text += c;
      ++longest;
      ++i;
      continue;
    }
    Piece piece;
    ++i;
    if (i < tpl.size() && tpl[i] == '%') {
      out.pieces_.push_back({Piece::Kind::Text, "%", 0, false, false});
      ++longest;
      ++i;
      continue;
    }
    if (i < tpl.size() && tpl[i] == '0') {
      piece.zeroPad = true;
      ++i;
    }
    while (i < tpl.size() && tpl[i] >= '0' && tpl[i] <= '9') {
      piece.width = piece.width * 10 + (tpl[i++] - '0');
      if (piece.width > static_cast<int>(kMaxUidl)) return invalid("width too large");
    }
    if (piece.width > 0 && !piece.zeroPad)
      return invalid("a width needs a leading 0 (no spaces in a UIDL)");
    if (i < tpl.size() && tpl[i] == 'X') {
      piece.hex = true;
      ++i;
    }
    if (i >= tpl.size()) return invalid("'%' at the end needs a variable (%u or %v)");
    if (tpl[i] == 'u') {
      piece.kind = Piece::Kind::Uid;
      hasUid = true;
    } else if (tpl[i] == 'v') {
      piece.kind = Piece::Kind::UidValidity;
    } else {
      return invalid(std::string("unknown variable %") + tpl[i] + " (known: %u, %v)");
    }
    ++i;
    longest += std::max<std::size_t>(static_cast<std::size_t>(piece.width), piece.hex ? 8 : 10);
    out.pieces_.push_back(piece);
  }
  // Without the UID, every message of the mailbox would have the same UIDL.
  if (!hasUid) return invalid("needs %u");
  if (longest > kMaxUidl) return invalid("can be longer than 70 characters (RFC 1939)");
  return out;
}

std::string UidlFormat::format(std::uint32_t uid, std::uint32_t uidValidity) const {
  std::string out;
  appendTo(out, uid, uidValidity);
  return out;
}

void UidlFormat::appendTo(std::string& out, std::uint32_t uid, std::uint32_t uidValidity) const {
  if (dovecotDefault_) {
    // Called for every message of every UIDL: plain hex digits, no format parsing.
    static constexpr char kHex[] = "0123456789abcdef";
    char digits[16];
    for (int i = 7; i >= 0; --i, uid >>= 4, uidValidity >>= 4) {
      digits[i] = kHex[uid & 0xF];
      digits[i + 8] = kHex[uidValidity & 0xF];
    }
    out.append(digits, sizeof digits);
    return;
  }
  for (const Piece& piece : pieces_) {
    if (piece.kind == Piece::Kind::Text) {
      out += piece.text;
      continue;
    }
    std::uint32_t value = piece.kind == Piece::Kind::Uid ? uid : uidValidity;
    std::string digits = piece.hex ? fmt::format("{:x}", value) : std::to_string(value);
    if (digits.size() < static_cast<std::size_t>(piece.width)) {
      out.append(static_cast<std::size_t>(piece.width) - digits.size(), '0');
    }
    out += digits;
  }
}

}  // namespace popgate::imap
