#include "lib/imap/ImapResponseParser.h"

#include <algorithm>
#include <cstring>

#include "lib/common/Decimal.h"

namespace popgate::imap {

std::optional<std::uint64_t> trailingLiteralSize(std::string_view line) {
  if (!line.ends_with('}')) return std::nullopt;
  std::size_t open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view digits = line.substr(open + 1, line.size() - open - 2);
  if (digits.ends_with('+')) digits.remove_suffix(1);  // LITERAL+ (RFC 7888)
  return parseDecimal<std::uint64_t>(digits, 19);
}

Status ImapResponseParser::feed(std::string_view bytes, Handler& handler) {
  if (failed_) return Error{ErrorCode::Temporary, "IMAP parser already failed"};
  aborted_ = false;
  while (!bytes.empty() && !aborted_) {
    if (inLiteral_) {
      std::size_t take =
          static_cast<std::size_t>(std::min<std::uint64_t>(literalRemaining_, bytes.size()));
      ImapLiteral& literal = response_.literals.back();
      if (literal.mode == LiteralMode::Buffer) {
        literal.data.append(bytes.substr(0, take));
      } else if (literal.mode == LiteralMode::Stream) {
        handler.onLiteralData(bytes.substr(0, take));
      }
      bytes.remove_prefix(take);
      literalRemaining_ -= take;
      if (literalRemaining_ == 0) {
        inLiteral_ = false;
        if (literal.mode == LiteralMode::Stream) handler.onLiteralEnd();
      }
      continue;
    }
    const void* found = std::memchr(bytes.data(), '\n', bytes.size());
    std::size_t take =
        found ? static_cast<std::size_t>(static_cast<const char*>(found) - bytes.data())
              : bytes.size();
    if (line_.size() + take > kMaxLine) {
      failed_ = true;
      return Error{ErrorCode::Temporary, "IMAP response line too long"};
    }
    line_.append(bytes.substr(0, take));
    if (!found) return Ok{};
    bytes.remove_prefix(take + 1);
    if (Status status = lineComplete(handler); !status) {
      failed_ = true;
      return status;
    }
  }
  return Ok{};
}

Status ImapResponseParser::lineComplete(Handler& handler) {
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  auto literalSize = trailingLiteralSize(line_);
  response_.segments.push_back(std::move(line_));
  line_.clear();
  if (!literalSize) {
    bufferedInResponse_ = 0;
    handler.onResponse(response_);
    // The next response reuses this one's buffers (a snapshot is hundreds of short lines).
    if (!response_.segments.empty()) line_ = std::move(response_.segments.front());
    line_.clear();
    response_.segments.clear();
    response_.literals.clear();
    return Ok{};
  }
  if (response_.literals.size() >= kMaxLiterals) {
    return Error{ErrorCode::Temporary, "IMAP response has too many literals"};
  }
  LiteralMode mode = handler.onLiteralStart(response_, *literalSize);
  if (mode == LiteralMode::Buffer && (*literalSize > kMaxBufferedLiteral ||
                                      bufferedInResponse_ + *literalSize > kMaxBufferedResponse)) {
    mode = LiteralMode::Skip;
  }
  if (mode == LiteralMode::Buffer) bufferedInResponse_ += *literalSize;
  response_.literals.push_back(ImapLiteral{*literalSize, mode, {}});
  if (mode == LiteralMode::Buffer) response_.literals.back().data.reserve(*literalSize);
  literalRemaining_ = *literalSize;
  inLiteral_ = true;
  if (literalRemaining_ == 0) {
    inLiteral_ = false;
    if (mode == LiteralMode::Stream) handler.onLiteralEnd();
  }
  return Ok{};
}

}  // namespace popgate::imap
