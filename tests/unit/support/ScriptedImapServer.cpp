#include "support/ScriptedImapServer.h"

#include <gtest/gtest.h>

#include "lib/imap/ImapResponseParser.h"

namespace popgate::imap::test {

ScriptedImapServer::ScriptedImapServer(uv_loop_t* loop) : listener_(loop), slowTimer_(loop) {
  Status status =
      listener_.listen("127.0.0.1", 0, false, [this](auto stream) { accepted(std::move(stream)); });
  EXPECT_TRUE(status) << status.error().detail;
}

ScriptedImapServer::~ScriptedImapServer() {
  if (client_) client_->setHandler(nullptr);
}

void ScriptedImapServer::accepted(std::unique_ptr<net::TcpStream> stream) {
  if (client_) {
    client_->setHandler(nullptr);
    oldClients_.push_back(std::move(client_));
  }
  client_ = std::move(stream);
  client_->setHandler(this);
  client_->startReading();
  ++connections_;
  clientGone_ = false;
  input_.clear();
  command_.clear();
  literalLeft_ = 0;
  if (greeting_) send(*greeting_ + "\r\n");
}

void ScriptedImapServer::send(std::string bytes) {
  if (client_) client_->write(std::move(bytes));
}

void ScriptedImapServer::reply(const Command& command, std::string_view status) {
  send(command.tag + " " + std::string(status) + "\r\n");
}

void ScriptedImapServer::sendSlowly(std::vector<std::string> pieces,
                                    std::chrono::milliseconds gap) {
  slowPieces_ = std::move(pieces);
  nextPiece_ = 0;
  gap_ = gap;
  sendNextPiece();
}

void ScriptedImapServer::sendNextPiece() {
  if (nextPiece_ >= slowPieces_.size()) return;
  send(slowPieces_[nextPiece_++]);
  if (client_) client_->flush();  // one segment per piece: the client should read them apart
  if (nextPiece_ < slowPieces_.size()) slowTimer_.start(gap_, [this] { sendNextPiece(); });
}

void ScriptedImapServer::disconnect() {
  slowTimer_.stop();
  if (client_) client_->closeAfterFlush();
}

std::vector<std::string> ScriptedImapServer::commandTexts() const {
  std::vector<std::string> texts;
  for (const Command& command : commands_) texts.push_back(command.text);
  return texts;
}

bool ScriptedImapServer::sawCommand(std::string_view prefix) const {
  for (const Command& command : commands_) {
    if (command.text.starts_with(prefix)) return true;
  }
  return false;
}

void ScriptedImapServer::onData(std::string_view bytes) {
  received_.append(bytes);
  input_.append(bytes);
  parse();
}

void ScriptedImapServer::onClosed(Status) {
  clientGone_ = true;
}

void ScriptedImapServer::parse() {
  for (;;) {
    if (literalLeft_ > 0) {
      std::size_t take =
          static_cast<std::size_t>(std::min<std::uint64_t>(literalLeft_, input_.size()));
      command_.append(input_, 0, take);
      input_.erase(0, take);
      literalLeft_ -= take;
      if (literalLeft_ > 0) return;
      continue;
    }
    std::size_t lf = input_.find("\r\n");
    if (lf == std::string::npos) return;
    std::string line = input_.substr(0, lf);
    input_.erase(0, lf + 2);
    command_.append(line);
    if (auto size = trailingLiteralSize(line)) {
      command_.append("\r\n");
      literalLeft_ = *size;
      if (!line.ends_with("+}") && continuation_) send(*continuation_ + "\r\n");
      continue;
    }
    Command command;
    std::size_t space = command_.find(' ');
    command.tag = command_.substr(0, space);
    command.text = space == std::string::npos ? "" : command_.substr(space + 1);
    command_.clear();
    commands_.push_back(command);
    if (script_) script_(command);
    if (!client_ || clientGone_) return;
  }
}

}  // namespace popgate::imap::test
