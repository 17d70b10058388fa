// ImapMailbox, retrieval: RETR as one whole-message FETCH (possibly fetched ahead, see
// ImapReadAhead), TOP as the header and then growing body ranges, and back-pressure.

#include <fmt/format.h>

#include <algorithm>

#include "backends/imap/ImapMailbox.h"
#include "lib/common/Decimal.h"

namespace popgate::imap {

namespace {
constexpr std::uint64_t kFirstTextRange = 16 * 1024;
constexpr std::uint64_t kMaxTextRange = 1024 * 1024;

bool isOk(const Result<ImapHead>& reply) {
  return reply && reply.value().keyword == "OK";
}

bool hasQuotedBody(const FetchData& data) {
  return std::any_of(data.sections.begin(), data.sections.end(), [](const auto& section) {
    return !section.literal && !section.nil && section.name.starts_with("BODY[");
  });
}
}  // namespace

void ImapMailbox::retrieve(const backends::MessageRef& message,
                           std::optional<std::uint32_t> bodyLines, backends::BodySink& sink) {
  body_ = Retrieval{};
  body_.sink = &sink;
  body_.uid = parseDecimal<std::uint32_t>(message.id).value_or(0);
  body_.linesLeft = bodyLines;
  if (bodyLines) {
    readAhead_.dropAll();
    return whenFetchesDone([this] { fetchHeader(); });
  }
  body_.fetch = readAhead_.take(body_.uid);
  // Read-ahead needs to tell apart the answers to pipelined FETCHes, which may interleave
  // (Dovecot runs them in parallel): only when the server names the UID before the body.
  std::vector<std::shared_ptr<BodyFetch>> toSend = readAhead_.plan(body_.uid, uidBeforeBody_);
  if (body_.fetch) {
    // Fetched ahead: what has arrived is handed over from the loop (never from inside this
    // call); the rest streams as it comes.
    soon_.start(std::chrono::milliseconds(0), [this] { replayHeld(); });
    for (const std::shared_ptr<BodyFetch>& ahead : toSend) sendMessageFetch(ahead);
    return;
  }
  body_.fetch = std::make_shared<BodyFetch>(body_.uid, message.size);
  body_.fetch->attached = true;
  toSend.insert(toSend.begin(), body_.fetch);
  // Read-ahead dropped by this jump may still be on its way: the new FETCH waits for it, so
  // that no two pending FETCHes are for the same UID.
  whenFetchesDone([this, toSend = std::move(toSend)] {
    for (const std::shared_ptr<BodyFetch>& fetch : toSend) sendMessageFetch(fetch);
  });
}

void ImapMailbox::whenFetchesDone(std::function<void()> next) {
  if (inFlight_.empty()) return next();
  afterFetches_ = std::move(next);
}

std::shared_ptr<BodyFetch> ImapMailbox::routeFetch(const std::shared_ptr<BodyFetch>& own,
                                                   std::optional<std::uint32_t> uid) {
  if (!uid) return own;  // the server does not say: only its own FETCH is pending then
  auto it = inFlight_.find(*uid);
  return it == inFlight_.end() ? nullptr : it->second;
}

void ImapMailbox::sendMessageFetch(const std::shared_ptr<BodyFetch>& fetch) {
  // BODY.PEEK never sets \Seen (RFC 3501 §6.4.5): POP3 reading must not change IMAP state.
  // The untagged answers to every pending FETCH reach the oldest pending command's callbacks
  // (ImapConnection), so each callback routes by the UID in the response.
  inFlight_[fetch->uid] = fetch;
  ImapCommand command;
  command.parts = {fmt::format("UID FETCH {} (BODY.PEEK[])", fetch->uid)};
  command.onLiteral = [this, fetch](const ImapResponse& partial, std::uint64_t) {
    if (!isBodyLiteral(partial)) return LiteralMode::Buffer;
    std::optional<std::uint32_t> uid = uidBeforeLiteral(partial);
    if (uid) uidBeforeBody_ = true;
    if (!uid && inFlight_.size() > 1) {
      // A server that named the UID first before now does not: whose body this is shows only
      // after it. Never guess (a wrong guess sends one message's bytes as another's): skip it,
      // fail that FETCH once its UID is read, and stop reading ahead.
      uidBeforeBody_ = false;
      skippedUnnamedBody_ = true;
      return LiteralMode::Skip;
    }
    literalTarget_ = routeFetch(fetch, uid);
    if (!literalTarget_ || literalTarget_->dropped) {
      literalTarget_.reset();
      return LiteralMode::Skip;
    }
    literalTarget_->started = true;
    if (literalTarget_->attached) startBody();
    return LiteralMode::Stream;
  };
  command.onLiteralData = [this](std::string_view bytes) {
    if (literalTarget_) messageBytes(*literalTarget_, bytes);
  };
  command.onLiteralEnd = [this] { literalTarget_.reset(); };
  command.onUntagged = [this, fetch](const ImapResponse& response, const ImapHead& head) {
    // A small body may come as a quoted string instead of a literal.
    auto data = parseFetch(response, head);
    if (std::exchange(skippedUnnamedBody_, false)) {
      if (data && data->uid) {
        if (auto skipped = routeFetch(fetch, data->uid)) skipped->unroutable = true;
      } else {
        markBodilessUnroutable();
      }
    }
    if (!data) return;
    if (!data->uid && inFlight_.size() > 1 && hasQuotedBody(*data)) {
      // The same for a body sent as a string: never guess whose it is.
      uidBeforeBody_ = false;
      return markBodilessUnroutable();
    }
    std::shared_ptr<BodyFetch> target = routeFetch(fetch, data->uid);
    if (!target) return;
    for (const FetchData::Section& section : data->sections) {
      if (section.literal || section.nil || !section.name.starts_with("BODY[")) continue;
      target->started = true;
      if (target->attached) startBody();
      messageBytes(*target, section.value);
    }
  };
  command.onDone = [this, fetch](Result<ImapHead> reply) {
    if (auto it = inFlight_.find(fetch->uid); it != inFlight_.end() && it->second == fetch) {
      inFlight_.erase(it);
    }
    Status status = Ok{};
    if (!reply)
      status = reply.error();
    else if (reply.value().keyword == "BAD")
      status = Error{ErrorCode::Temporary, "FETCH failed"};
    else if (fetch->unroutable)
      status = Error{ErrorCode::Temporary, "IMAP server sent a body without naming its UID first"};
    else if (!fetch->started)
      status = Error{ErrorCode::Gone, {}};
    if (fetch->attached)
      endBody(std::move(status));
    else
      fetch->end = std::move(status);
    if (inFlight_.empty() && afterFetches_) std::exchange(afterFetches_, nullptr)();
  };
  connection_->send(std::move(command));
}

void ImapMailbox::markBodilessUnroutable() {
  // The body that could not be placed belongs to a FETCH that has not had its body yet.
  for (auto& [uid, pending] : inFlight_) {
    if (!pending->started) pending->unroutable = true;
  }
}

void ImapMailbox::messageBytes(BodyFetch& fetch, std::string_view bytes) {
  if (fetch.attached) return deliver(bytes);
  fetch.hold(bytes);
}

void ImapMailbox::replayHeld() {
  std::shared_ptr<BodyFetch> fetch = body_.fetch;
  if (!fetch || !body_.sink || fetch->attached) return;
  if (fetch->dropped || fetch->unroutable) {
    // Between take() and now it stopped being usable (more bytes than the snapshot announced,
    // or a body that could not be placed): fetch the message again, alone.
    auto fresh = std::make_shared<BodyFetch>(fetch->uid, fetch->expected);
    fresh->attached = true;
    body_.fetch = fresh;
    return whenFetchesDone([this, fresh] { sendMessageFetch(fresh); });
  }
  fetch->attached = true;
  if (fetch->started) {
    startBody();
    std::string held = std::exchange(fetch->held, {});
    if (!held.empty()) deliver(held);
  }
  if (fetch->end) endBody(*fetch->end);
}

void ImapMailbox::startBody() {
  if (body_.started || !body_.sink) return;
  body_.started = true;
  body_.sink->onBodyStart();
}

ImapCommand ImapMailbox::bodyFetch(std::string item) {
  ImapCommand command;
  command.parts = {fmt::format("UID FETCH {} ({})", body_.uid, item)};
  command.onLiteral = [this](const ImapResponse& partial, std::uint64_t size) {
    if (!isBodyLiteral(partial)) return LiteralMode::Buffer;
    startBody();
    body_.rangeReceived += size;
    return LiteralMode::Stream;
  };
  command.onLiteralData = [this](std::string_view bytes) { deliver(bytes); };
  command.onUntagged = [this](const ImapResponse& response, const ImapHead& head) {
    auto data = parseFetch(response, head);
    if (!data || (data->uid && *data->uid != body_.uid)) return;
    for (const FetchData::Section& section : data->sections) {
      if (section.literal || section.nil || !section.name.starts_with("BODY[")) continue;
      startBody();
      body_.rangeReceived += section.value.size();
      deliver(section.value);
    }
  };
  return command;
}

void ImapMailbox::fetchHeader() {
  ImapCommand command = bodyFetch("BODY.PEEK[HEADER]");
  command.onDone = [this](Result<ImapHead> reply) {
    if (!reply) return endBody(reply.error());
    if (reply.value().keyword == "BAD") return endBody(Error{ErrorCode::Temporary, "FETCH failed"});
    if (!body_.started) return endBody(Error{ErrorCode::Gone, {}});
    // TOP n 0 still reads the text's first octet when the header ended in a lone CR.
    if (*body_.linesLeft == 0 && !body_.heldCr) return endBody(Ok{});
    body_.rangeSize = *body_.linesLeft == 0 ? 1 : kFirstTextRange;
    fetchTextRange();
  };
  connection_->send(std::move(command));
}

void ImapMailbox::fetchTextRange() {
  // TOP n m reads the body in growing partial ranges (RFC 3501 §6.4.5 <origin.octets>) until m
  // lines are out, so a large body is not downloaded for a few lines.
  body_.rangeReceived = 0;
  ImapCommand command =
      bodyFetch(fmt::format("BODY.PEEK[TEXT]<{}.{}>", body_.textOffset, body_.rangeSize));
  command.onDone = [this](Result<ImapHead> reply) {
    if (!isOk(reply))
      return endBody(reply ? Error{ErrorCode::Temporary, "FETCH failed"} : reply.error());
    if (*body_.linesLeft == 0 || body_.rangeReceived < body_.rangeSize) return endBody(Ok{});
    body_.textOffset += body_.rangeReceived;
    body_.rangeSize = std::min(body_.rangeSize * 4, kMaxTextRange);
    fetchTextRange();
  };
  connection_->send(std::move(command));
}

void ImapMailbox::deliver(std::string_view bytes) {
  if (!body_.sink) return;
  if (!body_.linesLeft) return body_.sink->onBodyData(bytes);  // RETR
  if (body_.rangeSize == 0) return deliverHeader(bytes);
  if (body_.heldCr) {
    // Courier ends BODY[HEADER] of a message that is only a header with a lone CR, and sends
    // the missing half of that CRLF as BODY[TEXT]: an LF, or (Courier-IMAP 5.0.13, seen) a
    // second CR. Either way RETR has "\r\n" there and TOP must too: it is the header's line
    // end, and no line of the body.
    body_.heldCr = false;
    if (!bytes.empty() && (bytes.front() == '\n' || bytes.front() == '\r')) {
      body_.sink->onBodyData("\r\n");
      bytes.remove_prefix(1);
    } else {
      body_.sink->onBodyData("\r");
    }
  }
  // Body of a TOP: cut after the LF that ends the last wanted line.
  std::uint32_t& left = *body_.linesLeft;
  if (left == 0) return;
  std::size_t pos = 0;
  while (left > 0) {
    std::size_t lf = bytes.find('\n', pos);
    if (lf == std::string_view::npos) {
      pos = bytes.size();
      break;
    }
    pos = lf + 1;
    --left;
  }
  body_.sink->onBodyData(bytes.substr(0, pos));
}

void ImapMailbox::deliverHeader(std::string_view bytes) {
  if (bytes.empty()) return;
  if (body_.heldCr) {
    body_.heldCr = false;
    body_.sink->onBodyData("\r");
  }
  // A CR at the end is held until the text part shows what follows it (see deliver()).
  if (bytes.back() == '\r') {
    body_.heldCr = true;
    bytes.remove_suffix(1);
  }
  if (!bytes.empty()) body_.sink->onBodyData(bytes);
}

void ImapMailbox::endBody(Status status) {
  if (status && body_.heldCr && body_.sink) body_.sink->onBodyData("\r");  // no LF came after it
  body_.heldCr = false;
  backends::BodySink* sink = body_.sink;
  body_.sink = nullptr;
  body_.fetch.reset();
  connection_->resumeReading();  // a retrieval may end while back-pressure paused reading
  if (sink) sink->onBodyEnd(std::move(status));
}

void ImapMailbox::pauseBody() {
  connection_->pauseReading();
}

void ImapMailbox::resumeBody() {
  connection_->resumeReading();
}

}  // namespace popgate::imap
