#include "backends/jmap/JmapReadAhead.h"

#include <algorithm>

namespace popgate::jmap {

std::vector<std::size_t> planReadAhead(std::size_t total,
                                       const std::function<std::uint64_t(std::size_t)>& sizeOf,
                                       std::size_t index, const Ahead& ahead,
                                       const ReadAheadLimits& limits) {
  std::vector<std::size_t> planned;
  std::size_t count = ahead.count;
  std::uint64_t bytes = ahead.bytes;
  std::size_t inFlight = ahead.inFlight;
  for (std::size_t next = std::max(index + 1, ahead.next);
       next < total && count < limits.messages && inFlight < limits.inFlight; ++next) {
    std::uint64_t size = sizeOf(next);
    if (bytes + size > limits.bytes) break;
    bytes += size;
    ++count;
    ++inFlight;
    planned.push_back(next);
  }
  return planned;
}

}  // namespace popgate::jmap
