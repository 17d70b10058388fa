#pragma once
// A scripted IMAP server on 127.0.0.1:0, on the test's own loop. It reassembles each client
// command (literals inline, RFC 3501 §4.3), records it, and hands it to the test's script,
// which answers with raw bytes. One client at a time.

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/net/ByteStream.h"
#include "lib/net/TcpListener.h"
#include "lib/net/TcpStream.h"
#include "lib/net/Timer.h"

namespace popgate::imap::test {

class ScriptedImapServer final : private net::StreamHandler {
 public:
  struct Command {
    std::string tag;
    std::string text;  // after the tag; a literal appears as "{N}\r\n<bytes>"
  };
  using Script = std::function<void(const Command&)>;

  explicit ScriptedImapServer(uv_loop_t* loop);
  ~ScriptedImapServer() override;

  int port() const { return listener_.boundPort(); }

  // Sent when a client connects; nullopt never greets (a hanging banner).
  void setGreeting(std::optional<std::string> line) { greeting_ = std::move(line); }
  void setScript(Script script) { script_ = std::move(script); }
  // The answer to a synchronizing literal; nullopt leaves the client waiting for it.
  void setContinuation(std::optional<std::string> line) { continuation_ = std::move(line); }

  void send(std::string bytes);
  void reply(const Command& command, std::string_view status);  // "<tag> <status>\r\n"
  // Sends the pieces one per `gap`, so that the client reads them separately.
  void sendSlowly(std::vector<std::string> pieces, std::chrono::milliseconds gap);
  // Sends what is queued, then closes the client connection.
  void disconnect();

  int connections() const { return connections_; }
  bool clientGone() const { return clientGone_; }
  const std::string& received() const { return received_; }
  const std::vector<Command>& commands() const { return commands_; }
  std::vector<std::string> commandTexts() const;  // texts without the tags
  bool sawCommand(std::string_view prefix) const;

 private:
  void accepted(std::unique_ptr<net::TcpStream> stream);
  void onData(std::string_view bytes) override;
  void onDrained() override {}
  void onClosed(Status reason) override;
  void parse();
  void sendNextPiece();

  net::TcpListener listener_;
  net::Timer slowTimer_;
  std::unique_ptr<net::TcpStream> client_;
  std::vector<std::unique_ptr<net::TcpStream>> oldClients_;
  std::optional<std::string> greeting_ = std::string("* OK Dovecot ready.");
  std::optional<std::string> continuation_ = std::string("+ OK");
  Script script_;
  std::string input_;
  std::string command_;  // the command assembled so far
  std::uint64_t literalLeft_ = 0;
  std::vector<std::string> slowPieces_;
  std::size_t nextPiece_ = 0;
  std::chrono::milliseconds gap_{0};
  std::string received_;
  std::vector<Command> commands_;
  int connections_ = 0;
  bool clientGone_ = false;
};

}  // namespace popgate::imap::test
