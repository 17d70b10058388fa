#pragma once
// Read-ahead for clients that download messages in order (fetchmail, getmail, mpop and every
// "download all" client). Once two RETRs in a row ask for consecutive messages, the messages
// after them are fetched in the same IMAP pipeline, within a byte budget, and held until the
// client asks for them. That hides the upstream round trip of each RETR (one per message, and
// upstreams are often far away), and an IMAP server answers a queue of FETCHes for less CPU
// than the same FETCHes one round trip apart (it does not go back to sleep between them).
//
// Pure bookkeeping: which messages to fetch ahead, what they hold, and when to forget them.
// ImapMailbox sends the commands and moves the bytes.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/mailbox/MessageList.h"
#include "lib/common/Result.h"

namespace popgate::imap {

// One `UID FETCH <uid> (BODY.PEEK[])` of a whole message, in flight or answered.
struct BodyFetch {
  BodyFetch(std::uint32_t uid_, std::uint64_t expected_) : uid(uid_), expected(expected_) {}

  // Keeps bytes that arrive before a retrieval reads this fetch. False (and nothing kept) once
  // more than the snapshot size arrived: the server changed its mind about the message, and
  // a retrieval will fetch it anew.
  bool hold(std::string_view bytes);

  std::uint32_t uid;
  std::uint64_t expected;     // RFC822.SIZE from the snapshot
  bool attached = false;      // the running retrieval reads it: bytes go straight to the sink
  bool dropped = false;       // nobody will ask for it: what still arrives is discarded
  bool started = false;       // a body arrived
  bool unroutable = false;    // its body came without a UID among other FETCHes, and was skipped
  std::string held;           // bytes that arrived before attachment
  std::optional<Status> end;  // the tagged completion, once it came before attachment
};

class ImapReadAhead {
 public:
  static constexpr std::size_t kMaxMessagesAhead = 8;

  explicit ImapReadAhead(std::uint64_t budgetBytes) : budget_(budgetBytes) {}

  // The snapshot (numbered by UID) in message-number order.
  void setSnapshot(backends::MessageList messages);

  // A RETR of `uid` starts. Returns the fetch ahead that already asked for it (the ones before
  // it are dropped), or nullptr when there is none (then all are dropped).
  std::shared_ptr<BodyFetch> take(std::uint32_t uid);
  // The fetches to send now, behind the RETR of `uid`: none unless `allowed` and the previous
  // RETR was of the message just before it; then the following messages that fit the budget.
  std::vector<std::shared_ptr<BodyFetch>> plan(std::uint32_t uid, bool allowed = true);
  // Anything but a RETR (TOP, deletion, logout): forget what is ahead; order starts anew.
  void dropAll();

  std::uint64_t heldBytes() const;  // bytes held now (a bound: at most the budget)
  std::size_t queued() const { return ahead_.size(); }

 private:
  std::optional<std::size_t> indexOf(std::uint32_t uid) const;
  void dropQueued();

  std::uint64_t budget_;
  backends::MessageList messages_;
  std::deque<std::shared_ptr<BodyFetch>> ahead_;  // in command order = message order
  std::optional<std::size_t> lastRetrieved_;
};

}  // namespace popgate::imap
