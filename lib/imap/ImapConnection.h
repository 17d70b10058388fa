#pragma once
// An IMAP client connection on the event loop: generates tags, keeps the queue of commands sent
// and waiting for their tagged completion (pipelined), sends literal parts on continuation
// requests, hands untagged data and literals to the oldest pending command, carries SASL
// exchanges (RFC 3501 §6.2.2: the server's "+" lines to the command, its answers back), and
// bounds every wait with a timeout. It never resends a command after a failure: a lost connection
// fails every pending command, so a STORE or EXPUNGE is never replayed behind the caller's back.

#include <uv.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/common/LogContext.h"
#include "lib/common/Result.h"
#include "lib/imap/ImapResponse.h"
#include "lib/imap/ImapResponseParser.h"
#include "lib/net/ByteStream.h"
#include "lib/net/Timer.h"

namespace popgate::imap {

struct ImapCommand {
  std::vector<std::string> parts;  // text after the tag; parts after the first follow a "+"
  std::function<LiteralMode(const ImapResponse&, std::uint64_t)> onLiteral;
  std::function<void(std::string_view)> onLiteralData;
  std::function<void()> onLiteralEnd;
  std::function<void(const ImapResponse&, const ImapHead&)> onUntagged;
  // The tagged completion (OK, NO or BAD in head.keyword), or an error if the connection failed.
  std::function<void(Result<ImapHead>)> onDone;
  // Makes this an AUTHENTICATE (RFC 3501 §6.2.2): every continuation request ("+ <base64>")
  // the server sends once the command is out is handed over as the text after "+ ", and the
  // returned line (without CRLF) is sent back. No later command is sent until the tagged
  // answer, since until then every line the client sends belongs to the exchange. The trace
  // shows each such line as *** (they carry passwords and tokens).
  std::function<std::string(std::string_view)> onContinuation;
};

class ImapConnection final : private net::StreamHandler, private ImapResponseParser::Handler {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // Every untagged response, before the pending command sees it.
    virtual void onUntagged(const ImapResponse& response, const ImapHead& head) = 0;
  };

  ImapConnection(uv_loop_t* loop, std::unique_ptr<net::ByteStream> stream,
                 std::chrono::milliseconds timeout, Listener& listener);
  ~ImapConnection() override;

  // Waits for the server greeting (RFC 3501 §7.1: OK, PREAUTH or BYE).
  void start(std::function<void(Result<ImapHead>)> onGreeting);
  void send(ImapCommand command);
  // Between cork() and uncork(), commands sent are written together: a pipelined batch costs
  // one write (and usually one segment) instead of one per command.
  void cork();
  void uncork();
  void pauseReading();
  void resumeReading();
  // After a tagged OK to STARTTLS: puts TLS under the connection. Bytes that arrived after that
  // OK in plain text are dropped (RFC 3501 §6.2.1; the CVE-2011-0411 injection).
  using StreamWrapper =
      std::function<std::unique_ptr<net::ByteStream>(std::unique_ptr<net::ByteStream>)>;
  void startTls(const StreamWrapper& wrap);

 private:
  struct Pending {
    std::string tag;
    ImapCommand command;
    std::size_t partsSent = 0;
  };

  void pump();
  void writePart(Pending& pending);
  bool answerSasl(const ImapResponse& response);
  void armTimer();
  void fail(Error error);
  Pending* oldest() { return pending_.empty() ? nullptr : &pending_.front(); }

  void onData(std::string_view bytes) override;
  void onDrained() override {}
  void onClosed(Status reason) override;

  LiteralMode onLiteralStart(const ImapResponse& partial, std::uint64_t size) override;
  void onLiteralData(std::string_view bytes) override;
  void onLiteralEnd() override;
  void onResponse(ImapResponse& response) override;

  std::unique_ptr<net::ByteStream> stream_;
  std::chrono::milliseconds timeout_;
  Listener& listener_;
  net::Timer timer_;
  net::Timer failLater_;  // fails commands sent after the connection died, from the loop
  // The session it works for (lib/common/LogContext.h), entered in its callbacks from the loop.
  std::shared_ptr<LogContext> log_ = LogScope::capture();
  ImapResponseParser parser_;
  std::function<void(Result<ImapHead>)> onGreeting_;
  std::deque<Pending> pending_;
  std::uint32_t nextTag_ = 1;
  bool paused_ = false;
  bool restartParser_ = false;
  bool corked_ = false;
  std::string corkBuffer_;
  bool writing_ = false;  // inside stream_->write()
  std::optional<Error> failed_;
};

}  // namespace popgate::imap
