#include "backends/mailbox/MessageList.h"

#include <algorithm>

namespace popgate::backends {

void MessageList::reserve(std::size_t count) {
  sizes_.reserve(count);
  if (numbered()) {
    numbers_.reserve(count);
  } else {
    ends_.reserve(2 * count);
  }
}

void MessageList::append(std::string_view id, std::string_view uidl, std::uint64_t size) {
  arena_.append(id);
  ends_.push_back(arena_.size());
  arena_.append(uidl);
  ends_.push_back(arena_.size());
  if (size >= kLargeSize) largeSizes_.emplace_back(sizes_.size(), size);
  sizes_.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(size, kLargeSize)));
}

void MessageList::append(std::uint32_t number, std::uint64_t size) {
  numbers_.push_back(number);
  if (size >= kLargeSize) largeSizes_.emplace_back(sizes_.size(), size);
  sizes_.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(size, kLargeSize)));
}

void MessageList::shrinkToFit() {
  sizes_.shrink_to_fit();
  numbers_.shrink_to_fit();
  arena_.shrink_to_fit();
  ends_.shrink_to_fit();
}

void MessageList::clear() {
  sizes_.clear();
  largeSizes_.clear();
  numbers_.clear();
  arena_.clear();
  ends_.clear();
}

std::uint64_t MessageList::octets(std::size_t index) const {
  if (sizes_[index] != kLargeSize) return sizes_[index];
  auto it = std::lower_bound(largeSizes_.begin(), largeSizes_.end(), index,
                             [](const auto& large, std::size_t key) { return large.first < key; });
  return it->second;
}

std::string_view MessageList::piece(std::size_t slot) const {
  std::size_t begin = slot == 0 ? 0 : ends_[slot - 1];
  return std::string_view(arena_).substr(begin, ends_[slot] - begin);
}

std::string MessageList::id(std::size_t index) const {
  if (numbered()) return std::to_string(numbers_[index]);
  return std::string(piece(2 * index));
}

void MessageList::appendUidl(std::string& out, std::size_t index) const {
  if (numbered()) return uidlOf_(out, numbers_[index]);
  out.append(piece(2 * index + 1));
}

std::string MessageList::uidl(std::size_t index) const {
  std::string out;
  appendUidl(out, index);
  return out;
}

}  // namespace popgate::backends
