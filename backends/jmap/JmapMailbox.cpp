#include "backends/jmap/JmapMailbox.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "lib/common/Base64.h"
#include "lib/common/LogText.h"

namespace popgate::jmap {

namespace {

// A page never asks for more than this many emails, whatever maxObjectsInGet allows: it bounds
// one JSON answer (about 100 octets per email) well inside max_json_bytes.
constexpr std::uint64_t kMaxPage = 20000;
// A mailbox whose query state changes while its pages are read is read again from the start,
// this many times at most.
constexpr int kMaxRestarts = 3;

Error statusError(const http::HttpResponse& response) {
  int status = response.head.status;
  std::string what = "HTTP " + std::to_string(status) + " from " + response.url.origin();
  if (status == 401 || status == 403) return Error{ErrorCode::Auth, what};
  return Error{ErrorCode::Temporary, what};
}

}  // namespace

JmapMailbox::JmapMailbox(JmapContext& context) : context_(context), later_(context.loop) {}

JmapMailbox::~JmapMailbox() = default;

void JmapMailbox::open(const backends::Credentials& credentials, SnapshotDone done) {
  openDone_ = std::move(done);
  user_ = credentials.user;
  if (const std::string* password = credentials.password()) {
    authorization_ = "Basic " + encodeBase64(credentials.user + ":" + *password);
  } else if (const auto* token = std::get_if<backends::TokenCredential>(&credentials.secret)) {
    authorization_ = "Bearer " + token->token;
  } else {
    // A master user needs a store-specific impersonation that JMAP (RFC 8620) does not define.
    later_.start(std::chrono::milliseconds(0), [this] {
      openFailed(Error{ErrorCode::Permanent, "JMAP has no master-user login"});
    });
    return;
  }
  if (const JmapAccount* known = context_.accounts.find(user_)) {
    account_ = *known;
    downloadUrl_.reset();
    if (!account_.mailboxes.mailboxId.empty()) return listMailbox();
    return fetchMailboxes();
  }
  fetchSession();
}

void JmapMailbox::call(http::HttpRequest request, Answer answer) {
  const JmapSettings& settings = context_.settings;
  request.headers.emplace_back("Authorization", authorization_);
  request.headers.emplace_back("Accept", "application/json");
  request.deadlines.connect = settings.connectTimeout;
  request.deadlines.response = settings.commandTimeout;
  request.deadlines.total = settings.commandTimeout + settings.retryBudget;
  request.retryBudget = settings.retryBudget;
  call_ = context_.client.fetch(
      std::move(request), settings.maxJsonBytes,
      [this, answer = std::move(answer)](Result<http::HttpResponse> response) {
        answered_ = response.ok();
        if (!response) return answer(response.error());
        if (response.value().head.status != 200) return answer(statusError(response.value()));
        answeredBy_ = response.value().url;
        answer(std::move(response.value().body));
      });
}

void JmapMailbox::api(std::string body, Answer answer) {
  auto url = http::parseHttpUrl(account_.session.apiUrl);
  if (!url) return answer(Error{ErrorCode::Temporary, "JMAP: bad apiUrl: " + url.error().detail});
  call(http::HttpRequest::post(url.value(), "application/json", std::move(body)),
       std::move(answer));
}

void JmapMailbox::fetchSession() {
  call(http::HttpRequest::get(context_.settings.sessionUrl), [this](Result<std::string> body) {
    if (!body) return openFailed(body.error());
    auto session = parseSession(body.value());
    if (!session) return openFailed(session.error());
    // Cyrus sends "/jmap/" and "/jmap/download/{accountId}/...": relative to the resource.
    for (std::string* url : {&session.value().apiUrl, &session.value().downloadUrl}) {
      auto absolute = http::resolveLocation(answeredBy_, *url);
      if (!absolute) return openFailed(Error{ErrorCode::Temporary, "JMAP: bad URL in the session"});
      *url = absolute.value().text();
    }
    account_ = JmapAccount{std::move(session.value()), {}};
    downloadUrl_.reset();
    fetchMailboxes();
  });
}

void JmapMailbox::fetchMailboxes() {
  MailboxChoice choice{context_.settings.mailbox,
                       context_.settings.deleteMode == DeleteMode::Trash};
  api(mailboxRequest(account_.session, choice), [this, choice](Result<std::string> body) {
    if (!body) return openFailed(body.error());
    std::string state;
    auto ids = parseMailboxes(body.value(), choice, &state);
    if (!ids) return openFailed(ids.error());
    account_.mailboxes = std::move(ids.value());
    context_.accounts.put(user_, account_);
    context_.accounts.sawSessionState(user_, state);
    listMailbox();
  });
}

void JmapMailbox::listMailbox() {
  auto kept = context_.snapshots.find(user_);
  if (kept && context_.settings.snapshotCacheMessages > 0 &&
      kept->mailboxId == account_.mailboxes.mailboxId) {
    return fetchChanges(std::move(kept));
  }
  fetchPage(0);
}

void JmapMailbox::fetchChanges(std::shared_ptr<const MailboxSnapshot> kept) {
  api(emailChangesRequest(account_.session, kept->mailboxId, kept->queryState),
      [this, kept](Result<std::string> body) {
        // A refused login or a store that does not answer fails as a listing would; a store
        // that answers anything else (a status, a method error, changes that do not add up)
        // gets the listing.
        if (!body && (body.error().code == ErrorCode::Auth || !answered_)) {
          return openFailed(body.error());
        }
        Result<EmailChanges> changes =
            body ? parseEmailChanges(body.value()) : Result<EmailChanges>(body.error());
        std::optional<std::vector<SnapshotEntry>> entries;
        if (changes) entries = applyChanges(*kept, changes.value());
        if (!entries) {
          spdlog::debug(
              "JMAP: the kept snapshot of {} cannot be brought up to date ({}): listing "
              "the mailbox",
              logText(user_), logText(changes ? "changes not exact" : changes.error().detail));
          context_.snapshots.forget(user_);
          return fetchPage(0);
        }
        context_.accounts.sawSessionState(user_, changes.value().sessionState);
        queryState_ = changes.value().newQueryState;
        for (SnapshotEntry& entry : *entries) {
          addMessage(entry.id, std::move(entry.blobId), entry.size);
        }
        const EmailChanges& what = changes.value();
        bool same =
            what.added.empty() && what.removed.empty() && what.newQueryState == kept->queryState;
        if (same) context_.snapshots.touch(user_);  // nothing new to keep: no copy
        openDoneWith(std::to_string(what.added.size()) + " added and " +
                         std::to_string(what.removed.size()) + " removed since the kept snapshot",
                     !same);
      });
}

void JmapMailbox::addMessage(const std::string& id, std::string blobId, std::uint64_t size) {
  auto [entry, added] = blobOf_.emplace(id, Blob{std::move(blobId), messages_.size(), size});
  if (!added) return;
  byIndex_.push_back(entry);
  messages_.append(id, uidlForId(id), size);
}

void JmapMailbox::openDoneWith(std::string how, bool keep) {
  call_.reset();
  messages_.shrinkToFit();
  byIndex_.shrink_to_fit();
  std::size_t limit = context_.settings.snapshotCacheMessages;
  if (keep && limit > 0 && byIndex_.size() <= limit && !queryState_.empty()) {
    auto snapshot = std::make_shared<MailboxSnapshot>();
    snapshot->mailboxId = account_.mailboxes.mailboxId;
    snapshot->queryState = queryState_;
    snapshot->entries.reserve(byIndex_.size());
    for (const auto& entry : byIndex_) {
      snapshot->entries.push_back({entry->first, entry->second.blobId, entry->second.size});
    }
    context_.snapshots.put(user_, std::move(snapshot), limit);
  }
  spdlog::debug("JMAP: snapshot of {} messages for {}: {}", byIndex_.size(), logText(user_),
                logText(how));
  std::exchange(openDone_, nullptr)(std::move(messages_));
}

void JmapMailbox::fetchPage(std::uint64_t position) {
  std::uint64_t limit = std::min(account_.session.maxObjectsInGet, kMaxPage);
  api(emailPageRequest(account_.session, account_.mailboxes.mailboxId, position, limit),
      [this, position](Result<std::string> body) {
        if (!body) return openFailed(body.error());
        auto page = parseEmailPage(body.value());
        if (!page) return openFailed(page.error());
        context_.accounts.sawSessionState(user_, page.value().sessionState);
        if (position > 0 && page.value().queryState != queryState_) {
          // The mailbox changed between pages: the numbering would not be one snapshot.
          if (++restarts_ > kMaxRestarts) {
            return openFailed(Error{ErrorCode::Temporary, "JMAP: the mailbox kept changing"});
          }
          messages_.clear();
          blobOf_.clear();
          byIndex_.clear();
          return fetchPage(0);
        }
        queryState_ = page.value().queryState;
        for (std::size_t i = 0; i < page.value().messages.size(); ++i) {
          const auto& message = page.value().messages[i];
          addMessage(message.id, std::move(page.value().blobIds[i]), message.size);
        }
        std::uint64_t next = position + page.value().idsReturned;
        if (page.value().idsReturned > 0 && next < page.value().total) return fetchPage(next);
        openDoneWith("listed", true);
      });
}

void JmapMailbox::openFailed(Error error) {
  // Whatever was cached may be why (a stale session, a mailbox gone): ask afresh next time.
  context_.accounts.forget(user_);
  context_.snapshots.forget(user_);
  if (openDone_) std::exchange(openDone_, nullptr)(std::move(error));
}

void JmapMailbox::commit(const std::vector<backends::MessageRef>& toDelete, Done done) {
  if (toDelete.empty()) {
    dropAhead();
    later_.start(std::chrono::milliseconds(0), [done = std::move(done)] { done(Ok{}); });
    return;
  }
  dropAhead();
  std::vector<std::string> ids;
  for (const auto& message : toDelete) ids.push_back(message.id);
  bool destroy = context_.settings.deleteMode == DeleteMode::Destroy;
  std::string request = destroy
                            ? destroyRequest(account_.session, ids)
                            : moveToTrashRequest(account_.session, ids, account_.mailboxes.trashId);
  api(std::move(request), [this, ids, destroy, done = std::move(done)](Result<std::string> body) {
    if (!body) return done(body.error());
    auto answer = parseSet(body.value(), destroy);
    if (!answer) return done(answer.error());
    context_.accounts.sawSessionState(user_, answer.value().sessionState);
    std::size_t removed = 0;
    for (const std::string& id : ids) {
      for (const std::string& gone : answer.value().done) removed += gone == id ? 1 : 0;
    }
    if (removed == ids.size()) return done(Ok{});
    for (const std::string& failure : answer.value().notDone) {
      spdlog::warn("JMAP: {} not removed for {}: {}", destroy ? "destroy" : "move to trash",
                   logText(user_), logText(failure));
    }
    std::string count = std::to_string(ids.size() - removed) + " of " + std::to_string(ids.size()) +
                        " deleted messages were not removed.";
    done(Error{ErrorCode::Temporary, "JMAP: " + count, count});
  });
}

}  // namespace popgate::jmap
