#pragma once
// backends::Mailbox over IMAP4rev1 (RFC 3501) with UIDPLUS (RFC 4315): one upstream connection
// per POP3 session. It logs in as ImapLogin.h describes (LOGIN, SASL PLAIN, a master user,
// XOAUTH2 or OAUTHBEARER); after the login's OK, EXAMINE, the snapshot FETCH and the search for
// deletions a broken QUIT left half done (ImapMailboxCleanup.cpp) go in one round trip.

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backends/imap/ImapFetch.h"
#include "backends/imap/ImapLogin.h"
#include "backends/imap/ImapReadAhead.h"
#include "backends/imap/UidlFormat.h"
#include "backends/mailbox/Mailbox.h"
#include "lib/imap/ImapConnection.h"
#include "lib/net/TcpConnector.h"
#include "lib/net/Timer.h"
#include "lib/net/TlsContext.h"

namespace popgate::imap {

enum class ImapTls { None, StartTls, Implicit };

struct ImapSettings {
  ImapTls tls = ImapTls::None;
  std::shared_ptr<const net::TlsClientContext> tlsContext;  // required unless tls is None
  std::string host = "127.0.0.1";
  int port = 143;
  std::string mailbox = "INBOX";
  std::chrono::milliseconds connectTimeout{10'000};
  std::chrono::milliseconds commandTimeout{60'000};
  // Bytes of messages fetched ahead of sequential RETRs and held per session (0: off).
  std::uint64_t readAheadBytes = 256 * 1024;
  UidlFormat uidlFormat;  // dovecot's, unless uidl_format says otherwise
  TokenMechanism tokenMechanism = TokenMechanism::Auto;  // for a TokenCredential
  // The name the upstream's certificate must carry (and SNI); empty: the TLS context's own
  // (server_name, else host). Set when a mailbox is pointed at another host (newMailboxAt).
  std::string tlsServerName;
};

class ImapMailbox final : public backends::Mailbox, private ImapConnection::Listener {
 public:
  ImapMailbox(uv_loop_t* loop, ImapSettings settings);
  ~ImapMailbox() override;

  void open(const backends::Credentials& credentials, SnapshotDone done) override;
  void retrieve(const backends::MessageRef& message, std::optional<std::uint32_t> bodyLines,
                backends::BodySink& sink) override;
  void pauseBody() override;
  void resumeBody() override;
  void commit(const std::vector<backends::MessageRef>& toDelete, Done done) override;

  // RFC 1939 UIDL as Dovecot 2.3's default pop3_uidl_format "%08Xu%08Xv" prints it (the
  // default of uidl_format).
  static std::string uidl(std::uint32_t uid, std::uint32_t uidValidity);

  // Set beside \Deleted by QUIT's UID STORE, so that the next session can tell a deletion it
  // must undo (a break before UID EXPUNGE) from a \Deleted that another client set.
  static constexpr std::string_view kDeletingKeyword = "$PopgateDeleting";

 private:
  void onUntagged(const ImapResponse& response, const ImapHead& head) override;
  void greeted(Result<ImapHead> greeting, backends::Credentials credentials);
  void startTls(backends::Credentials credentials);
  void afterTls(backends::Credentials credentials);
  std::unique_ptr<net::ByteStream> wrapTls(std::unique_ptr<net::ByteStream> plain);
  void login(const backends::Credentials& credentials);
  void listMessages(bool literalPlus);
  Result<backends::MessageList> packSnapshot();  // snapshot_, in UID order, once per message
  // ImapMailboxCleanup.cpp: deletions interrupted between UID STORE and UID EXPUNGE.
  void sendInterruptedSearch();
  void noteSearchResult(const ImapResponse& response, const ImapHead& head);
  void noteInterruptedSet(std::string_view esearch);
  void listed(backends::MessageList messages);  // the snapshot FETCH is done
  void clearInterrupted(backends::MessageList messages);
  void notePermanentFlags(std::string_view flags);
  std::string deletionFlags() const;  // what QUIT's UID STORE adds
  void finishOpen(Result<backends::MessageList> result);

  // Retrieval: a whole message (RETR), or header then body ranges (TOP).
  void sendMessageFetch(const std::shared_ptr<BodyFetch>& fetch);
  std::shared_ptr<BodyFetch> routeFetch(const std::shared_ptr<BodyFetch>& own,
                                        std::optional<std::uint32_t> uid);
  // Runs `next` now, or once no whole-message FETCH is pending.
  void whenFetchesDone(std::function<void()> next);
  void messageBytes(BodyFetch& fetch, std::string_view bytes);
  void markBodilessUnroutable();
  void replayHeld();
  void startBody();
  ImapCommand bodyFetch(std::string section);
  void fetchHeader();
  void fetchTextRange();
  void deliver(std::string_view bytes);
  void deliverHeader(std::string_view bytes);
  void endBody(Status status);

  void commitNow(const std::vector<backends::MessageRef>& toDelete, Done done);
  void deleteMarked(std::vector<std::uint32_t> uids, Done done);
  void storeAndExpunge(const std::string& set, Done done);
  void logout(Done done, Status outcome);

  uv_loop_t* loop_;
  ImapSettings settings_;
  std::unique_ptr<net::TcpConnector> connector_;
  std::unique_ptr<ImapConnection> connection_;

  std::set<std::string> capabilities_;
  bool capabilitiesAfterLogin_ = false;
  std::optional<std::uint32_t> uidValidity_;
  bool uidValidityChanged_ = false;
  std::uint32_t exists_ = 0;
  std::vector<std::uint32_t> interrupted_;  // UIDs carrying kDeletingKeyword at login (SEARCH)
  std::string interruptedSet_;              // the same as a UID set (ESEARCH)
  bool searching_ = false;                  // that search is pending
  std::optional<backends::MessageList> listing_;  // the snapshot, waiting for it
  bool keywordsAllowed_ = false;                  // the last PERMANENTFLAGS lets us set the keyword
  SnapshotDone openDone_;
  struct SnapshotEntry {  // 16 bytes, for as long as the snapshot FETCH runs
    static constexpr std::uint64_t kNoSize = ~std::uint64_t{0};
    std::uint32_t uid;
    std::uint64_t size;  // kNoSize: this response did not carry RFC822.SIZE
  };
  static constexpr std::size_t kMaxReserved = 1 << 20;  // of EXISTS, reserved up front
  std::vector<SnapshotEntry> snapshot_;                 // as the snapshot FETCH answers
  ImapReadAhead readAhead_;
  // Whole-message FETCHes whose command is pending, by UID (never two for one UID).
  std::map<std::uint32_t, std::shared_ptr<BodyFetch>> inFlight_;
  std::shared_ptr<BodyFetch> literalTarget_;  // the FETCH the literal being read belongs to
  std::function<void()> afterFetches_;
  bool uidBeforeBody_ = false;       // the server names the UID before the body literal
  bool skippedUnnamedBody_ = false;  // a body literal without a UID was skipped
  net::Timer soon_;                  // callbacks that must not run inside the call that caused them

  struct Retrieval {
    backends::BodySink* sink = nullptr;
    std::uint32_t uid = 0;
    std::shared_ptr<BodyFetch> fetch;  // RETR: the whole-message fetch it reads
    bool started = false;
    std::optional<std::uint32_t> linesLeft;  // TOP: body lines still to send
    std::uint64_t textOffset = 0;
    std::uint64_t rangeSize = 0;
    std::uint64_t rangeReceived = 0;
    bool heldCr = false;  // TOP: the header part ended in a CR not yet sent
  } body_;
};

}  // namespace popgate::imap
