#include "ReplyReader.h"

#include <cstring>

namespace loadgen {

namespace {

constexpr char kTerminator[] = "\r\n.\r\n";
constexpr int kTerminatorSize = 5;
// KMP failure function of CRLF.CRLF: after matching k bytes and a mismatch, fall back to this.
constexpr int kFallback[kTerminatorSize] = {0, 0, 0, 1, 2};

int step(int matched, char c) {
  while (matched > 0 && c != kTerminator[matched]) matched = kFallback[matched - 1];
  if (c == kTerminator[matched]) ++matched;
  return matched;
}

}  // namespace

ReplyReader::ReplyReader() {
  status_.reserve(256);
  body_.reserve(64 * 1024);
}

void ReplyReader::expect(Shape shape, Body body) {
  shape_ = shape;
  keep_ = body;
  phase_ = Phase::Status;
  status_.clear();
  body_.clear();
  bodyBytes_ = 0;
  matched_ = 0;
}

std::size_t ReplyReader::feed(const char* data, std::size_t size) {
  std::size_t used = 0;
  if (phase_ == Phase::Status) used += feedStatus(data, size);
  if (phase_ == Phase::Body) used += feedBody(data + used, size - used);
  return used;
}

std::size_t ReplyReader::feedStatus(const char* data, std::size_t size) {
  const void* lf = std::memchr(data, '\n', size);
  std::size_t take = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - data) + 1 : size;
  status_.append(data, take);
  if (status_.size() > kMaxStatusLine) {
    phase_ = Phase::Malformed;
    return take;
  }
  if (!lf) return take;
  if (shape_ == Shape::MultiLine && ok()) {
    phase_ = Phase::Body;
    matched_ = 2;  // the status line's CRLF starts the terminator: "+OK\r\n.\r\n" is empty
  } else {
    phase_ = Phase::Done;
  }
  return take;
}

std::size_t ReplyReader::feedBody(const char* data, std::size_t size) {
  std::size_t end = 0;  // one past the terminator, if found
  std::size_t i = 0;
  // A terminator may straddle chunks: continue the partial match byte by byte.
  while (i < size && matched_ > 0) {
    matched_ = step(matched_, data[i++]);
    if (matched_ == kTerminatorSize) {
      end = i;
      break;
    }
  }
  if (end == 0 && i < size) {
    const void* found = memmem(data + i, size - i, kTerminator, kTerminatorSize);
    if (found) {
      end = static_cast<std::size_t>(static_cast<const char*>(found) - data) + kTerminatorSize;
    } else {
      // Remember how much of a terminator the chunk ends with (at most 4 bytes matter).
      matched_ = 0;
      for (std::size_t j = size > 4 ? size - 4 : i; j < size; ++j)
        matched_ = step(matched_, data[j]);
    }
  }
  std::size_t take = end ? end : size;
  if (keep_ == Body::Keep) body_.append(data, take);
  bodyBytes_ += take;
  if (end) phase_ = Phase::Done;
  return take;
}

}  // namespace loadgen
