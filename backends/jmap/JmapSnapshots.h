#pragma once
// Per worker: each user's last snapshot (the mailbox's emails in receivedAt order with blobId
// and size, and the query state it was read at), so that the next login asks Cyrus or any
// JMAP server only what changed since (Email/queryChanges, RFC 8620 §5.6) instead of listing
// the mailbox again. Email ids, blobIds and sizes never change (RFC 8621 §4: an Email is
// immutable), so a kept entry stays right for as long as the server keeps the Email; what the
// server removed or added is in the changes. Anything doubtful (a method error, an index past
// the end, a total that does not match) makes the caller list the mailbox afresh.
//
// Bounded by the messages kept (backend key snapshot_cache_messages): the oldest snapshot goes
// first, and a snapshot larger than the whole bound is not kept.

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/jmap/JmapProtocol.h"

namespace popgate::jmap {

struct SnapshotEntry {
  std::string id;
  std::string blobId;
  std::uint64_t size = 0;
};

struct MailboxSnapshot {
  std::string mailboxId;
  std::string queryState;
  std::vector<SnapshotEntry> entries;  // in query order
};

// The snapshot at changes.newQueryState, or nothing when the changes cannot be applied exactly
// (RFC 8620 §5.6: remove every removed id, then insert the added ones in ascending index).
std::optional<std::vector<SnapshotEntry>> applyChanges(const MailboxSnapshot& old,
                                                       const EmailChanges& changes);

class JmapSnapshots {
 public:
  std::shared_ptr<const MailboxSnapshot> find(const std::string& user) const;
  void put(const std::string& user, std::shared_ptr<const MailboxSnapshot> snapshot,
           std::size_t maxMessages);
  void touch(const std::string& user);  // used again: the last to go
  void forget(const std::string& user);
  std::size_t messages() const { return messages_; }

 private:
  struct Kept {
    std::shared_ptr<const MailboxSnapshot> snapshot;
    std::list<std::string>::iterator age;
  };
  std::map<std::string, Kept> entries_;
  std::list<std::string> order_;  // oldest first
  std::size_t messages_ = 0;
};

}  // namespace popgate::jmap
