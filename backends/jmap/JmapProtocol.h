#pragma once
// The JMAP requests popgate makes and the answers it reads (RFC 8620 core, RFC 8621 mail), as
// pure functions of JSON: the session resource, the snapshot at login (the mailbox, its
// emails in receivedAt order with id, blobId and size, paged by the server's limits), the
// deletion at QUIT, and the download URL of a blob. No I/O here: the tests feed them answers.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backends/mailbox/Mailbox.h"
#include "lib/common/Result.h"

namespace popgate::jmap {

inline constexpr const char* kCoreCapability = "urn:ietf:params:jmap:core";
inline constexpr const char* kMailCapability = "urn:ietf:params:jmap:mail";

struct JmapSession {
  std::string apiUrl;
  std::string downloadUrl;  // an RFC 6570 level-1 template: {accountId} {blobId} {type} {name}
  std::string accountId;    // the primary account for mail
  std::uint64_t maxObjectsInGet = 500;
  std::uint64_t maxCallsInRequest = 16;
  std::string state;  // the session's state; a response with another one makes it stale
};

// Reads the session resource (RFC 8620 §2). Errors name what is missing.
Result<JmapSession> parseSession(std::string_view body);

// Which mailbox POP3 shows: the one with role "inbox", or the top-level one with this name.
struct MailboxChoice {
  std::string name;        // empty: role inbox
  bool wantTrash = false;  // also find the mailbox with role "trash" (delete: trash)
};
struct MailboxIds {
  std::string mailboxId;
  std::string trashId;  // empty when not asked for
};
// One request: Mailbox/query by role (or by name, a substring filter, then Mailbox/get of the
// matches to pick the exact top-level one), and the trash by role when asked.
std::string mailboxRequest(const JmapSession& session, const MailboxChoice& choice);
Result<MailboxIds> parseMailboxes(std::string_view body, const MailboxChoice& choice,
                                  std::string* sessionState);

// One page of the snapshot: Email/query on the mailbox in receivedAt order (filters cannot
// take back-references, so the mailbox id is known first), and Email/get of id, blobId and
// size by back-reference to the query's ids, in the same request.
std::string emailPageRequest(const JmapSession& session, const std::string& mailboxId,
                             std::uint64_t position, std::uint64_t limit);
struct EmailPage {
  std::vector<backends::MessageRef> messages;  // in query order; id is the Email id
  std::vector<std::string> blobIds;            // parallel to messages
  std::uint64_t idsReturned = 0;               // the query's ids (Email/get may have missed some)
  std::uint64_t total = 0;
  std::string queryState;
  std::string sessionState;
};
Result<EmailPage> parseEmailPage(std::string_view body);

// A later login of a user whose snapshot popgate kept: Email/queryChanges of the same query
// since the kept queryState (RFC 8620 §5.6), and Email/get of what it added, by back-reference
// ("/added/*/id"), in one request. Cyrus answers it for an unchanged 500-message mailbox with
// about a tenth of the CPU of the listing (docs/performance-stores.md).
std::string emailChangesRequest(const JmapSession& session, const std::string& mailboxId,
                                const std::string& sinceQueryState);
struct AddedEmail {
  std::uint64_t index = 0;  // its position in the new results
  std::string id;
};
struct EmailChanges {
  std::string oldQueryState;
  std::string newQueryState;
  std::vector<std::string> removed;  // may name ids the old results did not hold
  std::vector<AddedEmail> added;     // added or moved
  std::optional<std::uint64_t> total;
  std::map<std::string, std::pair<std::string, std::uint64_t>> got;  // id -> blobId, size
  std::string sessionState;
};
// A method error (cannotCalculateChanges, ...) is an Error naming its type: the caller lists
// the mailbox afresh.
Result<EmailChanges> parseEmailChanges(std::string_view body);

// QUIT: destroy, or move to the trash mailbox (its mailboxIds become the trash alone).
std::string destroyRequest(const JmapSession& session, const std::vector<std::string>& ids);
std::string moveToTrashRequest(const JmapSession& session, const std::vector<std::string>& ids,
                               const std::string& trashId);
struct SetAnswer {
  std::vector<std::string> done;     // destroyed, or updated
  std::vector<std::string> notDone;  // with the server's reason, "id: type"
  std::string sessionState;
};
Result<SetAnswer> parseSet(std::string_view body, bool destroy);

// RFC 1939 §7: 1-70 characters 0x21-0x7E. A JMAP id that is one is the UIDL itself (RFC 8620
// ids are 1-255 URL-safe characters); a longer one becomes a digest, the same every time.
std::string uidlForId(const std::string& id);

}  // namespace popgate::jmap
