#include "proxy/pop3/CommandDecoder.h"

#include <algorithm>
#include <cctype>

#include "lib/common/Ascii.h"

namespace popgate::pop3 {

void CommandDecoder::discardBuffered() {
  buffer_.clear();
  consumed_ = 0;
  discarding_ = false;
}

void CommandDecoder::compact() {
  // Erase consumed bytes only once they dominate, so pipelined input is not moved per line.
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 4096 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
}

std::size_t CommandDecoder::limitFor(std::string_view pending, bool sasl) const {
  // Decided on the line's first bytes, before its end is seen: an AUTH line may be long.
  return sasl || asciiStartsWithUpper(pending, "AUTH ") ? maxSaslLine_ : kMaxLine;
}

DecodeStatus CommandDecoder::takeLine(std::string_view& line, bool sasl) {
  for (;;) {
    std::string_view pending(buffer_.data() + consumed_, buffer_.size() - consumed_);
    std::size_t lf = pending.find('\n');
    if (discarding_) {
      if (lf == std::string_view::npos) {
        consumed_ = buffer_.size();
        compact();
        return DecodeStatus::NeedMore;
      }
      consumed_ += lf + 1;
      discarding_ = false;
      continue;
    }
    std::size_t limit = limitFor(pending, sasl);
    if (lf == std::string_view::npos) {
      if (pending.size() >= limit) {
        // Resynchronise at the next LF, as nginx does, without buffering the rest of the line.
        discarding_ = true;
        consumed_ = buffer_.size();
        compact();
        return DecodeStatus::LineTooLong;
      }
      return DecodeStatus::NeedMore;
    }
    consumed_ += lf + 1;
    if (lf + 1 > limit) {
      compact();
      return DecodeStatus::LineTooLong;
    }
    line = pending.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return DecodeStatus::Command;
  }
}

DecodeStatus CommandDecoder::nextRawLine(std::string& out) {
  std::string_view line;
  DecodeStatus status = takeLine(line, true);
  if (status == DecodeStatus::Command) {
    out.assign(line);
    compact();
  }
  return status;
}

DecodeStatus CommandDecoder::next(Command& out) {
  std::string_view line;
  DecodeStatus status = takeLine(line, false);
  if (status != DecodeStatus::Command) return status;
  std::size_t space = line.find(' ');
  std::string_view verb = line.substr(0, space);
  bool valid = !verb.empty() && verb.size() <= 8 && line.find('\0') == std::string_view::npos &&
               std::all_of(verb.begin(), verb.end(),
                           [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  if (valid) {
    out.verb = asciiUpper(verb);
    out.rest.assign(space == std::string_view::npos ? std::string_view{} : line.substr(space + 1));
  }
  compact();
  return valid ? DecodeStatus::Command : DecodeStatus::Invalid;
}

}  // namespace popgate::pop3
