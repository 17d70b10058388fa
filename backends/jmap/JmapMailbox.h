#pragma once
// A POP3 session's view of a JMAP account. open(): the session resource and the mailbox ids
// (cached per user in JmapAccounts), then Email/query + Email/get pages in receivedAt order;
// retrieve(): the blob from downloadUrl, streamed with back-pressure and cut by MessageTop for
// TOP, and sequential RETRs read ahead on other pooled connections (JmapReadAhead); commit():
// one Email/set (destroy, or a move to the trash). Every HTTP status that is not success is
// mapped to an RFC 3206 outcome: 401/403 [AUTH], anything else [SYS/TEMP].

#include <uv.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/jmap/JmapAccounts.h"
#include "backends/jmap/JmapDownload.h"
#include "backends/jmap/JmapDownloadUrl.h"
#include "backends/jmap/JmapReadAhead.h"
#include "backends/jmap/JmapSettings.h"
#include "backends/jmap/JmapSnapshots.h"
#include "backends/mailbox/Mailbox.h"
#include "backends/mailbox/MessageTop.h"
#include "lib/http/HttpClient.h"
#include "lib/net/Timer.h"

namespace popgate::jmap {

// What every mailbox of one backend on one worker shares.
struct JmapContext {
  uv_loop_t* loop;
  const JmapSettings& settings;
  http::HttpClient client;
  JmapAccounts accounts;
  JmapSnapshots snapshots;
  std::size_t downloadsInFlight = 0;  // JmapDownload objects alive (JmapReadAhead's inFlight)
};

class JmapMailbox final : public backends::Mailbox, private http::HttpResponseHandler {
 public:
  explicit JmapMailbox(JmapContext& context);
  ~JmapMailbox() override;

  void open(const backends::Credentials& credentials, SnapshotDone done) override;
  void retrieve(const backends::MessageRef& message, std::optional<std::uint32_t> bodyLines,
                backends::BodySink& sink) override;
  void pauseBody() override;
  void resumeBody() override;
  void commit(const std::vector<backends::MessageRef>& toDelete, Done done) override;

 private:
  using Answer = std::function<void(Result<std::string>)>;

  // A JSON GET or POST with the user's authorization; the answer is the body of a 200.
  void call(http::HttpRequest request, Answer answer);
  void api(std::string body, Answer answer);
  void fetchSession();
  void fetchMailboxes();
  void listMailbox();
  void fetchPage(std::uint64_t position);
  void fetchChanges(std::shared_ptr<const MailboxSnapshot> kept);
  void addMessage(const std::string& id, std::string blobId, std::uint64_t size);
  // Hands the snapshot to the session, and keeps a copy for the next login when `keep`.
  void openDoneWith(std::string how, bool keep);
  void openFailed(Error error);

  // Retrieval (JmapMailboxRetrieve.cpp).
  Result<http::HttpRequest> downloadRequest(std::size_t index);
  void startDownload();
  void readAhead(std::size_t index);
  std::unique_ptr<JmapDownload> takeAhead(std::size_t index);
  void dropAhead();
  void replayAhead();

  void onResponseHead(const http::HttpResponseHead& head) override;
  void onResponseBody(std::string_view bytes) override;
  void onResponseEnd(Status status) override;
  void endBody(Status status);

  JmapContext& context_;
  std::string user_;
  std::string authorization_;
  http::HttpUrl answeredBy_;  // the URL of the last JSON answer, after redirects
  bool answered_ = false;     // the last call got an HTTP response, of any status
  JmapAccount account_;
  std::optional<DownloadUrl> downloadUrl_;  // from account_.session, at the first download
  SnapshotDone openDone_;
  backends::MessageList messages_;
  struct Blob {
    std::string blobId;
    std::size_t index;  // the message number - 1
    std::uint64_t size;
  };
  using Blobs = std::map<std::string, Blob>;
  Blobs blobOf_;                                // Email id -> its blob
  std::vector<Blobs::const_iterator> byIndex_;  // message number - 1 -> its entry
  std::string queryState_;
  int restarts_ = 0;
  Pending call_;

  // The retrieval under way.
  std::unique_ptr<JmapDownload> download_;
  std::size_t index_ = 0;
  backends::BodySink* sink_ = nullptr;
  std::optional<backends::MessageTop> top_;
  std::uint64_t expectedSize_ = 0;
  std::uint64_t received_ = 0;
  std::string messageId_;

  // Read-ahead: downloads of the messages after the one being read, in message order.
  std::deque<std::unique_ptr<JmapDownload>> ahead_;
  std::optional<std::size_t> lastRetrieved_;  // the index of the last RETR, if it was one

  net::Timer later_;  // an empty commit still answers from the loop
};

}  // namespace popgate::jmap
