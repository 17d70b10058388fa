// Deletions that a broken connection interrupted between UID STORE and UID EXPUNGE.
//
// QUIT's commit marks the messages `\Deleted $PopgateDeleting` before `UID EXPUNGE`. If the
// connection breaks in between, the client never got +OK for its QUIT, so under RFC 1939 §6
// nothing was deleted: but the \Deleted flags would stay upstream, and any other client's
// EXPUNGE (or Dovecot's autoexpunge) would remove the messages later. The next session of the
// mailbox finds them by the keyword and removes both flags before it hands out its listing.
// Only messages carrying the keyword are touched: a \Deleted that another client set is its own.
//
// Limits: a server that does not accept new keywords (PERMANENTFLAGS without \* or the keyword,
// RFC 3501 §7.1) gets \Deleted alone, and such a break leaves it upstream as before. Without
// ESEARCH (Courier) the SEARCH answer lists every UID on one line, which ImapResponseParser
// bounds (kMaxLine: some 30,000 UIDs); a break in a QUIT of more messages than that would make
// every later login of the mailbox fail with [SYS/TEMP] until the flags are cleared by hand.

#include <fmt/format.h>

#include <algorithm>

#include "backends/imap/ImapMailbox.h"
#include "lib/common/Ascii.h"
#include "lib/common/Decimal.h"

namespace popgate::imap {

namespace {
constexpr std::size_t kMaxInterrupted = 1'000'000;  // bounds the SEARCH answer we keep
}  // namespace

void ImapMailbox::sendInterruptedSearch() {
  // Read-only (EXAMINE) is enough to search: the write happens only when something is found.
  // With ESEARCH (RFC 4731) the answer is one compact UID set, however many messages matched;
  // a plain SEARCH lists every UID, on a line that ImapResponseParser bounds.
  // It goes behind the snapshot FETCH: Dovecot runs the two at once and interleaves their
  // untagged data, which ImapConnection hands to the oldest pending command; so the FETCH must
  // be the oldest, and the search results are taken in onUntagged, whoever is oldest.
  searching_ = true;
  bool compact = capabilities_.count("ESEARCH") > 0;
  ImapCommand search;
  search.parts = {
      fmt::format("UID SEARCH {}KEYWORD {}", compact ? "RETURN (ALL) " : "", kDeletingKeyword)};
  // NO or BAD (a server without keywords may refuse the key): nothing to clear.
  search.onDone = [this](Result<ImapHead> reply) {
    searching_ = false;
    if (!openDone_ || !listing_) return;  // the FETCH failed, or is still answering
    if (!reply) return finishOpen(reply.error());
    clearInterrupted(*std::exchange(listing_, std::nullopt));
  };
  connection_->send(std::move(search));
}

void ImapMailbox::noteSearchResult(const ImapResponse& response, const ImapHead& head) {
  std::string_view rest = std::string_view(response.segments[0]).substr(head.restOffset);
  if (head.keyword == "ESEARCH") return noteInterruptedSet(rest);
  while (!rest.empty() && interrupted_.size() < kMaxInterrupted) {
    std::size_t end = std::min(rest.find(' '), rest.size());
    if (auto uid = parseDecimal<std::uint32_t>(rest.substr(0, end)); uid && *uid > 0) {
      interrupted_.push_back(*uid);
    }
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
}

void ImapMailbox::listed(backends::MessageList messages) {
  if (searching_) {
    listing_ = std::move(messages);  // the SEARCH's completion goes on
    return;
  }
  clearInterrupted(std::move(messages));
}

void ImapMailbox::noteInterruptedSet(std::string_view esearch) {
  // RFC 4731 §3.1: "* ESEARCH (TAG "p3") UID ALL 4:7,9"; no ALL when nothing matched.
  std::string upper = asciiUpper(esearch);
  std::size_t at = upper.find(" ALL ");
  if (at == std::string::npos) return;
  std::string_view set = esearch.substr(at + 5);
  set = set.substr(0, std::min(set.find(' '), set.size()));
  bool valid = !set.empty() && std::all_of(set.begin(), set.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == ':' || c == ',';
  });
  if (valid) interruptedSet_ = std::string(set);
}

void ImapMailbox::clearInterrupted(backends::MessageList messages) {
  std::string set = std::exchange(interruptedSet_, {});
  if (set.empty() && !interrupted_.empty()) set = formatUidSet(std::exchange(interrupted_, {}));
  if (set.empty()) return finishOpen(std::move(messages));
  ImapCommand select;
  select.parts = ImapCommandText(capabilities_.count("LITERAL+") > 0)
                     .raw("SELECT ")
                     .string(encodeMailboxName(settings_.mailbox))
                     .take();
  connection_->send(std::move(select));
  // The messages never left the snapshot (\Deleted ones are still listed); this only stops a
  // later EXPUNGE by someone else from removing them. A refusal leaves the flags as they were.
  ImapCommand unflag;
  unflag.parts = {fmt::format("UID STORE {} -FLAGS.SILENT (\\Deleted {})", set, kDeletingKeyword)};
  unflag.onDone = [this, messages = std::move(messages)](Result<ImapHead> reply) mutable {
    if (!reply) return finishOpen(reply.error());
    finishOpen(std::move(messages));
  };
  connection_->send(std::move(unflag));
}

void ImapMailbox::notePermanentFlags(std::string_view flags) {
  // RFC 3501 §7.1: "\*" means new keywords can be created; else only those listed are kept.
  std::string upper = asciiUpper(flags);
  keywordsAllowed_ = upper.find("\\*") != std::string::npos ||
                     upper.find(asciiUpper(kDeletingKeyword)) != std::string::npos;
}

std::string ImapMailbox::deletionFlags() const {
  return keywordsAllowed_ ? fmt::format("\\Deleted {}", kDeletingKeyword) : "\\Deleted";
}

}  // namespace popgate::imap
