#include "lib/imap/ImapConnection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "lib/imap/ImapTrace.h"

namespace popgate::imap {

ImapConnection::ImapConnection(uv_loop_t* loop, std::unique_ptr<net::ByteStream> stream,
                               std::chrono::milliseconds timeout, Listener& listener)
    : stream_(std::move(stream)),
      timeout_(timeout),
      listener_(listener),
      timer_(loop),
      failLater_(loop) {
  stream_->setHandler(this);
}

ImapConnection::~ImapConnection() {
  stream_->setHandler(nullptr);
}

void ImapConnection::start(std::function<void(Result<ImapHead>)> onGreeting) {
  onGreeting_ = std::move(onGreeting);
  stream_->startReading();
  armTimer();
}

void ImapConnection::armTimer() {
  // Time only what we wait for: nothing pending, or reading paused by back-pressure, is no wait.
  if ((pending_.empty() && !onGreeting_) || paused_ || failed_) {
    timer_.stop();
    return;
  }
  timer_.start(timeout_, [this] {
    LogScope scope(log_);
    fail(Error{ErrorCode::Temporary, "IMAP server timed out"});
  });
}

void ImapConnection::send(ImapCommand command) {
  pending_.push_back(Pending{"p" + std::to_string(nextTag_++), std::move(command), 0});
  if (failed_) {
    failLater_.start(std::chrono::milliseconds(0), [this] {
      LogScope scope(log_);
      fail(*failed_);
    });
    return;
  }
  pump();
  armTimer();
}

void ImapConnection::writePart(Pending& pending) {
  if (pending.partsSent == 0 && spdlog::should_log(spdlog::level::trace)) {
    spdlog::trace("imap {} C: {}", stream_->peerAddress(),
                  traceCommand(pending.tag, pending.command.parts));
  }
  std::string batch;
  std::string& out = corked_ ? corkBuffer_ : batch;
  if (pending.partsSent == 0) out.append(pending.tag).append(" ");
  out.append(pending.command.parts[pending.partsSent]);
  ++pending.partsSent;
  if (pending.partsSent == pending.command.parts.size()) out.append("\r\n");
  if (corked_) return;
  writing_ = true;
  stream_->write(std::move(batch));
  writing_ = false;
}

void ImapConnection::cork() {
  corked_ = true;
}

void ImapConnection::uncork() {
  corked_ = false;
  if (corkBuffer_.empty() || failed_) return;
  writing_ = true;
  stream_->write(std::exchange(corkBuffer_, {}));
  writing_ = false;
}

void ImapConnection::pump() {
  // Pipelining (RFC 3501 §5.5): send every queued command, but stop at one that waits for a
  // continuation request before its literal may follow.
  // An AUTHENTICATE holds back what follows until its tagged answer (RFC 3501 §6.2.2).
  for (Pending& pending : pending_) {
    bool sasl = static_cast<bool>(pending.command.onContinuation);
    if (pending.partsSent == pending.command.parts.size()) {
      if (sasl) return;
      continue;
    }
    if (pending.partsSent > 0) return;  // waiting for "+"
    writePart(pending);
    if (pending.partsSent < pending.command.parts.size() || sasl) return;
  }
}

bool ImapConnection::answerSasl(const ImapResponse& response) {
  for (Pending& pending : pending_) {
    if (pending.partsSent < pending.command.parts.size()) return false;  // a literal's "+"
    if (!pending.command.onContinuation) continue;
    // "+ " then base64 (RFC 3501 §7.5); a bare "+" (some servers) is an empty challenge.
    std::string_view text = response.segments[0];
    text.remove_prefix(std::min<std::size_t>(text.size(), 2));
    std::string line = pending.command.onContinuation(text);
    if (spdlog::should_log(spdlog::level::trace)) {
      spdlog::trace("imap {} C: {}", stream_->peerAddress(), traceSaslResponse(line));
    }
    writing_ = true;
    stream_->write(line + "\r\n");
    writing_ = false;
    return true;
  }
  return false;
}

void ImapConnection::pauseReading() {
  paused_ = true;
  stream_->stopReading();
  armTimer();
}

void ImapConnection::resumeReading() {
  paused_ = false;
  if (!failed_) stream_->startReading();
  armTimer();
}

void ImapConnection::onData(std::string_view bytes) {
  if (failed_) return;
  LogScope scope(log_);
  armTimer();
  Status status = parser_.feed(bytes, *this);
  if (restartParser_) {
    restartParser_ = false;
    parser_ = ImapResponseParser{};
    return;
  }
  if (!status) return fail(status.error());
  if (!failed_) stream_->expectAtLeast(parser_.literalRemaining());
}

void ImapConnection::startTls(const StreamWrapper& wrap) {
  parser_.abort();        // stop reading this plain-text chunk...
  restartParser_ = true;  // ...and forget any partial line of it once feed() returns
  stream_->setHandler(nullptr);
  stream_ = wrap(std::move(stream_));
  stream_->setHandler(this);
  stream_->startReading();
}

void ImapConnection::onClosed(Status reason) {
  LogScope scope(log_);
  Error error =
      reason ? Error{ErrorCode::Temporary, "IMAP server closed the connection"} : reason.error();
  if (writing_) {
    // A stream may report a failed write from inside write() (TcpStream does when uv_write
    // fails at once). Failing here would complete commands inside send() and pop the queue
    // that pump() is walking; fail from the loop instead.
    if (!failed_) failed_ = error;
    failLater_.start(std::chrono::milliseconds(0), [this] {
      LogScope failScope(log_);
      fail(*failed_);
    });
    return;
  }
  fail(std::move(error));
}

void ImapConnection::fail(Error error) {
  if (!failed_) failed_ = error;
  parser_.abort();
  timer_.stop();
  stream_->stopReading();
  if (onGreeting_) std::exchange(onGreeting_, nullptr)(error);
  // Fail each command once; a callback may queue more, which are failed in turn.
  while (!pending_.empty()) {
    Pending pending = std::move(pending_.front());
    pending_.pop_front();
    if (pending.command.onDone) pending.command.onDone(error);
  }
}

LiteralMode ImapConnection::onLiteralStart(const ImapResponse& partial, std::uint64_t size) {
  Pending* command = oldest();
  if (!command || !command->command.onLiteral || !partial.isUntagged()) return LiteralMode::Buffer;
  return command->command.onLiteral(partial, size);
}

void ImapConnection::onLiteralData(std::string_view bytes) {
  if (Pending* command = oldest(); command && command->command.onLiteralData) {
    command->command.onLiteralData(bytes);
  }
}

void ImapConnection::onLiteralEnd() {
  if (Pending* command = oldest(); command && command->command.onLiteralEnd) {
    command->command.onLiteralEnd();
  }
}

void ImapConnection::onResponse(ImapResponse& response) {
  if (spdlog::should_log(spdlog::level::trace)) {
    spdlog::trace("imap {} S: {}", stream_->peerAddress(), traceResponse(response));
  }
  ImapHead head = parseHead(response);
  if (onGreeting_) {
    auto callback = std::exchange(onGreeting_, nullptr);
    if (head.tag == "*" && statusOf(head.keyword)) {
      // The greeting is untagged data too: its [CAPABILITY ...] code spares a round trip.
      listener_.onUntagged(response, head);
      callback(head);
    } else {
      callback(Error{ErrorCode::Temporary, "IMAP server sent no greeting"});
    }
    armTimer();
    return;
  }
  if (head.tag == "+") {
    if (answerSasl(response)) return;
    for (Pending& pending : pending_) {
      if (pending.partsSent > 0 && pending.partsSent < pending.command.parts.size()) {
        writePart(pending);
        break;
      }
    }
    pump();
    return;
  }
  if (head.tag == "*") {
    listener_.onUntagged(response, head);
    if (Pending* command = oldest(); command && command->command.onUntagged) {
      command->command.onUntagged(response, head);
    }
    return;
  }
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->tag != head.tag) continue;
    ImapCommand command = std::move(it->command);
    bool unsent = it->partsSent < command.parts.size();
    pending_.erase(it);
    // A NO instead of "+": the rest of that command is never sent. An AUTHENTICATE's answer
    // releases the commands it held back.
    if (unsent || command.onContinuation) pump();
    armTimer();
    if (command.onDone) command.onDone(head);
    return;
  }
  // A tag we never sent: the server is confused; trust nothing more from it.
  fail(Error{ErrorCode::Temporary, "IMAP server answered an unknown tag"});
}

}  // namespace popgate::imap
