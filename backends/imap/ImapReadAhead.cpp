#include "backends/imap/ImapReadAhead.h"

#include <algorithm>

namespace popgate::imap {

bool BodyFetch::hold(std::string_view bytes) {
  if (dropped) return false;
  if (held.size() + bytes.size() > expected) {
    dropped = true;
    std::string().swap(held);
    return false;
  }
  if (held.empty()) held.reserve(expected);
  held.append(bytes);
  return true;
}

void ImapReadAhead::setSnapshot(backends::MessageList messages) {
  messages_ = std::move(messages);
  ahead_.clear();
  lastRetrieved_.reset();
}

std::optional<std::size_t> ImapReadAhead::indexOf(std::uint32_t uid) const {
  // The snapshot is in UID order (message numbers follow UIDs in IMAP).
  std::size_t low = 0;
  std::size_t high = messages_.size();
  while (low < high) {
    std::size_t middle = low + (high - low) / 2;
    if (messages_.number(middle) < uid) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  if (low == messages_.size() || messages_.number(low) != uid) return std::nullopt;
  return low;
}

std::shared_ptr<BodyFetch> ImapReadAhead::take(std::uint32_t uid) {
  while (!ahead_.empty()) {
    std::shared_ptr<BodyFetch> fetch = std::move(ahead_.front());
    ahead_.pop_front();
    if (fetch->uid == uid && !fetch->dropped && !fetch->unroutable) return fetch;
    fetch->dropped = true;
    std::string().swap(fetch->held);
    if (fetch->uid == uid) break;
  }
  dropQueued();
  return nullptr;
}

void ImapReadAhead::dropQueued() {
  for (const std::shared_ptr<BodyFetch>& fetch : ahead_) {
    fetch->dropped = true;
    std::string().swap(fetch->held);
  }
  ahead_.clear();
}

void ImapReadAhead::dropAll() {
  dropQueued();
  lastRetrieved_.reset();
}

std::vector<std::shared_ptr<BodyFetch>> ImapReadAhead::plan(std::uint32_t uid, bool allowed) {
  std::vector<std::shared_ptr<BodyFetch>> planned;
  std::optional<std::size_t> index = indexOf(uid);
  bool sequential = index && lastRetrieved_ && *lastRetrieved_ + 1 == *index;
  lastRetrieved_ = index;
  if (!sequential || !allowed || budget_ == 0) return planned;
  std::uint64_t queuedBytes = 0;
  for (const std::shared_ptr<BodyFetch>& fetch : ahead_) queuedBytes += fetch->expected;
  std::size_t next = *index + 1;
  if (!ahead_.empty()) {
    std::optional<std::size_t> last = indexOf(ahead_.back()->uid);
    if (last) next = std::max(next, *last + 1);
  }
  // In order and without gaps: a message too large for the budget ends the read-ahead, since
  // a client that reads in order needs that one next.
  for (; next < messages_.size() && ahead_.size() < kMaxMessagesAhead; ++next) {
    std::uint32_t nextUid = messages_.number(next);
    std::uint64_t size = messages_.octets(next);
    if (queuedBytes + size > budget_) break;
    queuedBytes += size;
    ahead_.push_back(std::make_shared<BodyFetch>(nextUid, size));
    planned.push_back(ahead_.back());
  }
  return planned;
}

std::uint64_t ImapReadAhead::heldBytes() const {
  std::uint64_t total = 0;
  for (const std::shared_ptr<BodyFetch>& fetch : ahead_) total += fetch->held.size();
  return total;
}

}  // namespace popgate::imap
