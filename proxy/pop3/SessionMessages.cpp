// The TRANSACTION commands (RFC 1939 §5) and the message bodies of RETR and TOP.

#include <fmt/format.h>

#include <algorithm>

#include "lib/common/Ascii.h"
#include "proxy/pop3/Arguments.h"
#include "proxy/pop3/ErrorReply.h"
#include "proxy/pop3/Session.h"

namespace popgate::pop3 {

void Session::cmdStat(std::string_view args) {
  if (!args.empty()) return badCommand("-ERR STAT takes no argument.");
  std::size_t count = 0;
  std::uint64_t octets = 0;
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (deleted_[i]) continue;
    ++count;
    octets += messages_.octets(i);
  }
  reply(fmt::format("+OK {} {}", count, octets));
}

std::optional<std::size_t> Session::visibleMessage(std::string_view arg) {
  auto number = parseNumber(arg);
  if (!number) {
    badCommand("-ERR Invalid message number.");
    return std::nullopt;
  }
  if (*number == 0 || *number > messages_.size()) {
    reply(fmt::format("-ERR There's no message {}.", *number));
    return std::nullopt;
  }
  if (deleted_[*number - 1]) {
    reply("-ERR Message is deleted.");
    return std::nullopt;
  }
  return *number - 1;
}

void Session::cmdList(std::string_view args) {
  if (!args.empty()) {
    auto index = visibleMessage(args);
    if (index) reply(fmt::format("+OK {} {}", *index + 1, messages_.octets(*index)));
    return;
  }
  std::size_t visible = 0;
  for (std::size_t i = 0; i < messages_.size(); ++i) visible += deleted_[i] ? 0 : 1;
  reply(fmt::format("+OK {} messages:", visible));
  startListing(false);
}

void Session::cmdUidl(std::string_view args) {
  if (!args.empty()) {
    auto index = visibleMessage(args);
    if (index) reply(fmt::format("+OK {} {}", *index + 1, messages_.uidl(*index)));
    return;
  }
  reply("+OK");
  startListing(true);
}

void Session::startListing(bool uidl) {
  busy_ = true;
  listing_ = Listing{uidl, 0};
  continueListing();
}

void Session::continueListing() {
  // Slices of about 16 KiB, as long as the client keeps up; onDrained() resumes. So a listing
  // costs one slice of memory whatever the mailbox's size, and a client that stops reading
  // holds up only itself (until the idle timeout).
  constexpr std::size_t kSlice = 16 * 1024;
  // Reserved for what is left to list, not a whole slice: the output queue keeps each string
  // with its capacity, and 100,000 pipelined LISTs of a small mailbox must not queue a slice
  // each (measured: 33 MB where the replies were 2 MB).
  auto reserveFor = [this](std::string& out) {
    std::size_t left = messages_.size() - listing_->next;
    out.reserve(std::min(kSlice + 128, left * 24 + 8));
  };
  std::string out;
  reserveFor(out);
  while (listing_->next < messages_.size()) {
    if (out.size() >= kSlice) {
      sink_.send(std::exchange(out, {}));
      if (sink_.congested()) return;
      reserveFor(out);
    }
    std::size_t i = listing_->next++;
    if (deleted_[i]) continue;
    appendDecimal(out, i + 1);
    out.push_back(' ');
    if (listing_->uidl) {
      messages_.appendUidl(out, i);
    } else {
      appendDecimal(out, messages_.octets(i));
    }
    out.append("\r\n");
  }
  out.append(".\r\n");
  sink_.send(std::move(out));
  listing_.reset();
  busy_ = false;
}

void Session::cmdRetr(std::string_view args) {
  auto index = visibleMessage(args);
  if (!index) return;
  startRetrieval(*index, std::nullopt, fmt::format("+OK {} octets", messages_.octets(*index)));
}

void Session::cmdTop(std::string_view args) {
  auto parts = splitArgs(args);
  if (parts.size() != 2) return badCommand("-ERR TOP needs a message number and a line count.");
  auto lines = parseNumber(parts[1]);
  if (!lines) return badCommand("-ERR Invalid line count.");
  auto index = visibleMessage(parts[0]);
  if (!index) return;
  startRetrieval(*index, *lines, "+OK");
}

void Session::startRetrieval(std::size_t index, std::optional<std::uint32_t> bodyLines,
                             std::string okLine) {
  busy_ = true;
  bodyStarted_ = false;
  bodyPaused_ = false;
  bodyOkLine_ = std::move(okLine);
  stuffer_.reset();
  mailbox_->retrieve(messages_.at(index), bodyLines, *this);
}

void Session::onBodyStart() {
  bodyStarted_ = true;
  reply(bodyOkLine_);
}

void Session::onBodyData(std::string_view bytes) {
  // Pieces, not a stuffed copy: the connection copies only what the socket does not take.
  // At most 64 KiB at a time, so that the list of pieces stays bounded (a body of "." lines
  // makes two pieces per three bytes).
  constexpr std::size_t kSlice = 64 * 1024;
  constexpr std::size_t kKeptPieces = 1024;
  while (!bytes.empty()) {
    std::string_view slice = bytes.substr(0, kSlice);
    bytes.remove_prefix(slice.size());
    bodyPieces_.clear();
    stuffer_.append(slice, bodyPieces_);
    sink_.sendPieces(bodyPieces_);
  }
  if (bodyPieces_.capacity() > kKeptPieces) std::vector<std::string_view>().swap(bodyPieces_);
  if (!bodyPaused_ && sink_.congested()) {
    bodyPaused_ = true;
    mailbox_->pauseBody();
  }
}

void Session::onBodyEnd(Status status) {
  busy_ = false;
  bodyPaused_ = false;
  if (!bodyStarted_) {
    reply(errorReply(status ? Error{ErrorCode::Gone, {}} : status.error(),
                     "Cannot read the message from the mail store."));
  } else if (status) {
    std::string out;
    stuffer_.finish(out);
    sink_.send(std::move(out));
  } else {
    // The response is half sent: the only honest signal left is to close without the final
    // ".", so the client knows the message is incomplete. Nothing is deleted.
    return finish();
  }
  process();
}

void Session::cmdDele(std::string_view args) {
  auto index = visibleMessage(args);
  if (!index) return;
  deleted_[*index] = true;
  reply("+OK Marked to be deleted.");
}

void Session::cmdNoop(std::string_view args) {
  if (!args.empty()) return badCommand("-ERR NOOP takes no argument.");
  reply("+OK");
}

void Session::cmdRset(std::string_view args) {
  if (!args.empty()) return badCommand("-ERR RSET takes no argument.");
  deleted_.assign(messages_.size(), false);
  reply("+OK");
}

}  // namespace popgate::pop3
