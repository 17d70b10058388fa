#pragma once
// Read-ahead over JMAP: once two RETRs in a row ask for consecutive messages, the downloads of
// the next ones start on other pooled HTTP connections while the client reads, so that the
// store's answer time (and its unflushed last segment, see docs/performance-stores.md) is not
// paid once per message. Unlike IMAP, whose FETCHes queue on one connection, each message here
// is one request: the count of downloads ahead is bounded as well as their bytes. And since each
// download ahead is one more request at a time for the store, read-ahead stops while the worker
// has enough downloads in flight anyway (many readers at once keep the store busy without it,
// and more at once only cost the store more CPU per message: docs/performance-stores.md).
//
// Pure planning; JmapMailbox starts, keeps and drops the downloads (JmapDownload).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace popgate::jmap {

struct ReadAheadLimits {
  std::size_t messages = 4;          // downloads ahead of the reader at most (0: off)
  std::uint64_t bytes = 256 * 1024;  // their announced sizes together at most (0: off)
  // Downloads in flight in the worker (every session's current one and those ahead) from which on
  // no more start ahead (0: off). The default lets a lone reader have `messages` ahead.
  std::size_t inFlight = 5;
};

// What is ahead of the reader now: `count` downloads of the messages before `next`, announcing
// `bytes` together; `inFlight` downloads are in flight in the worker, these included.
struct Ahead {
  std::size_t next = 0;
  std::size_t count = 0;
  std::uint64_t bytes = 0;
  std::size_t inFlight = 0;
};

// The messages (indexes below `total`, sized by `sizeOf`) to start downloading after a RETR of
// `index` that followed a RETR of `index - 1`: from after `index` and after what is already ahead,
// in order and without gaps, while the limits allow. A message larger than what is left of the byte
// budget ends the plan, since a reader in order needs that one next.
std::vector<std::size_t> planReadAhead(std::size_t total,
                                       const std::function<std::uint64_t(std::size_t)>& sizeOf,
                                       std::size_t index, const Ahead& ahead,
                                       const ReadAheadLimits& limits);

}  // namespace popgate::jmap
