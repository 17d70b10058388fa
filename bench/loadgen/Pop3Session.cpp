#include "Pop3Session.h"

#include <charconv>

#include "Stats.h"

namespace loadgen {

Pop3Session::Pop3Session(uv_loop_t* loop, Listener& listener, Settings settings)
    : loop_(loop),
      listener_(listener),
      settings_(settings),
      limiter_(loop, settings.readRate),
      deferTimer_(loop),
      timeoutTimer_(loop) {
  command_.reserve(256);
}

Pop3Session::~Pop3Session() = default;

void Pop3Session::start(const std::string& user, const std::string& password) {
  user_ = user;
  password_ = password;
  result_ = SessionResult{};
  result_.startedAt = nowSeconds();
  finished_ = false;
  sizes_.clear();
  nextMessage_ = 0;
  step_ = Step::Greeting;
  reader_.expect(ReplyReader::Shape::Line);
  connection_ = std::make_unique<Connection>(loop_, static_cast<Connection::Handler&>(*this));
  timeoutTimer_.start(settings_.timeoutS,
                      [this] { finish(std::string("timeout in ") + stepName(), ""); });
  connection_->connect(settings_.address);
}

void Pop3Session::onConnected() {}

void Pop3Session::onData(const char* data, std::size_t size) {
  result_.wireBytes += size;
  if (step_ == Step::Retr) limiter_.consumed(size);
  while (size > 0 && !finished_) {
    std::size_t used = reader_.feed(data, size);
    data += used;
    size -= used;
    if (reader_.malformed()) return finish("malformed reply", stepName());
    if (!reader_.complete()) return;
    if (size > 0 && step_ != Step::Quit) return finish("unexpected bytes", stepName());
    onReply();
  }
}

void Pop3Session::onClosed(const char* why) {
  if (finished_) return;
  if (step_ == Step::Done) return;
  finish(std::string("closed in ") + stepName(), why);
}

void Pop3Session::send(Step step, const std::string& command, ReplyReader::Shape shape,
                       ReplyReader::Body body) {
  step_ = step;
  reader_.expect(shape, body);
  connection_->write(command);
}

void Pop3Session::onReply() {
  if (!reader_.ok()) {
    std::string_view line = reader_.statusLine();
    if (line.ends_with("\r\n")) line.remove_suffix(2);
    return finish(std::string("-ERR to ") + stepName(), std::string(line));
  }
  auto line = [&](const char* verb, const std::string& argument) -> const std::string& {
    command_.assign(verb);
    if (!argument.empty()) command_.append(" ").append(argument);
    command_.append("\r\n");
    return command_;
  };
  using Shape = ReplyReader::Shape;
  using Body = ReplyReader::Body;
  switch (step_) {
    case Step::Greeting:
      return send(Step::User, line("USER", user_), Shape::Line);
    case Step::User:
      return send(Step::Pass, line("PASS", password_), Shape::Line);
    case Step::Pass:
      switch (settings_.script) {
        case Script::Poll:
          return send(Step::Uidl, line("UIDL", ""), Shape::MultiLine, Body::Keep);
        case Script::Bulk:
          return send(Step::List, line("LIST", ""), Shape::MultiLine, Body::Keep);
        case Script::Big:
          return send(Step::ListOne, line("LIST", std::to_string(settings_.message)), Shape::Line);
      }
      return;
    case Step::Uidl: {
      // Lines of "n uidl" plus the final "."; the body starts after the status line's CRLF.
      std::string_view body = reader_.body();
      std::uint64_t lines = 0;
      for (char c : body) lines += c == '\n';
      result_.uidlLines = lines > 0 ? lines - 1 : 0;
      return send(Step::Quit, line("QUIT", ""), Shape::Line);
    }
    case Step::List:
      parseList();
      return sendNextRetr();
    case Step::ListOne: {
      // "+OK m size"
      std::string_view status = reader_.statusLine();
      std::size_t space = status.rfind(' ');
      std::uint64_t size = 0;
      if (space != std::string_view::npos) {
        std::from_chars(status.data() + space + 1, status.data() + status.size(), size);
      }
      sizes_.assign(1, size);
      result_.retrStartedAt = nowSeconds();
      limiter_.start(connection_.get());
      return send(Step::Retr, line("RETR", std::to_string(settings_.message)), Shape::MultiLine);
    }
    case Step::Retr: {
      std::uint64_t octets = sizes_[nextMessage_ == 0 ? 0 : nextMessage_ - 1];
      ++result_.messages;
      result_.messageOctets += octets;
      listener_.onRetrieved(*this, octets);
      if (settings_.script == Script::Big) {
        result_.retrEndedAt = nowSeconds();
        limiter_.stop();
        return send(Step::Quit, line("QUIT", ""), Shape::Line);
      }
      return sendNextRetr();
    }
    case Step::Quit:
      return finish("", "");
    case Step::Done:
      return;
  }
}

void Pop3Session::parseList() {
  // Body: "1 2048\r\n2 4096\r\n.\r\n" (scan listings, RFC 1939 §5).
  std::string_view body = reader_.body();
  sizes_.clear();
  while (!body.empty()) {
    std::size_t eol = body.find("\r\n");
    std::string_view entry = body.substr(0, eol);
    body.remove_prefix(eol == std::string_view::npos ? body.size() : eol + 2);
    std::size_t space = entry.find(' ');
    if (space == std::string_view::npos) continue;  // the final "."
    std::uint64_t size = 0;
    std::from_chars(entry.data() + space + 1, entry.data() + entry.size(), size);
    sizes_.push_back(size);
  }
}

void Pop3Session::sendNextRetr() {
  if (nextMessage_ >= sizes_.size()) {
    step_ = Step::Quit;
    reader_.expect(ReplyReader::Shape::Line);
    connection_->write("QUIT\r\n");
    return;
  }
  ++nextMessage_;
  command_.assign("RETR ").append(std::to_string(nextMessage_)).append("\r\n");
  step_ = Step::Retr;
  reader_.expect(ReplyReader::Shape::MultiLine);
  connection_->write(command_);
}

void Pop3Session::finish(std::string error, std::string detail) {
  if (finished_) return;
  finished_ = true;
  step_ = Step::Done;
  timeoutTimer_.stop();
  limiter_.stop();
  if (connection_) connection_->close();
  result_.endedAt = nowSeconds();
  result_.ok = error.empty();
  result_.error = std::move(error);
  result_.errorDetail = std::move(detail);
  deferTimer_.start(0, [this] {
    connection_.reset();
    listener_.onFinished(*this, result_);
  });
}

const char* Pop3Session::stepName() const {
  switch (step_) {
    case Step::Greeting:
      return "greeting";
    case Step::User:
      return "USER";
    case Step::Pass:
      return "PASS";
    case Step::Uidl:
      return "UIDL";
    case Step::List:
      return "LIST";
    case Step::ListOne:
      return "LIST n";
    case Step::Retr:
      return "RETR";
    case Step::Quit:
      return "QUIT";
    case Step::Done:
      return "done";
  }
  return "?";
}

}  // namespace loadgen
