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
    // The partial match is 0 here, so a terminator starts at i or later and its '.' at i + 2 or
    // later. Looking for the '.' (memchr) and checking its neighbours is several times cheaper
    // than memmem for the whole terminator: the reader must stay a small share of the CPU.
    for (std::size_t from = i + 2; from + 2 < size && end == 0;) {
      const void* dot = std::memchr(data + from, '.', size - 2 - from);
      if (!dot) break;
      std::size_t at = static_cast<std::size_t>(static_cast<const char*>(dot) - data);
      if (std::memcmp(data + at - 2, kTerminator, kTerminatorSize) == 0) end = at + 3;
      from = at + 1;
    }
    if (end == 0) {
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
