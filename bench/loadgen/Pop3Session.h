#pragma once
// One scripted POP3 session, commands sent one at a time as a plain client would:
//   poll: greeting, USER, PASS, UIDL, QUIT
//   bulk: greeting, USER, PASS, LIST, RETR 1..n, QUIT
//   big:  greeting, USER, PASS, LIST m, RETR m (read at a limited rate), QUIT
// The session reports each retrieved message as it completes, and its end from a fresh loop
// callback (never from inside the connection's own callback), so the owner may start the
// next session on the same object at once.

#include <netinet/in.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "Connection.h"
#include "RateLimiter.h"
#include "ReplyReader.h"
#include "Timer.h"

namespace loadgen {

enum class Script { Poll, Bulk, Big };

struct SessionResult {
  bool ok = false;
  std::string error;         // kind of failure, e.g. "-ERR to PASS", "timeout in RETR"
  std::string errorDetail;   // the server's line or the socket error
  double startedAt = 0;      // connect() called
  double endedAt = 0;        // QUIT answered
  double retrStartedAt = 0;  // big: RETR sent
  double retrEndedAt = 0;    // big: terminator received
  std::uint64_t uidlLines = 0;
  std::uint64_t messages = 0;
  std::uint64_t messageOctets = 0;  // sum of the LIST sizes of the messages retrieved
  std::uint64_t wireBytes = 0;      // every byte received
};

class Pop3Session final : private Connection::Handler {
 public:
  class Listener {
   public:
    virtual void onRetrieved(Pop3Session& session, std::uint64_t octets) = 0;
    virtual void onFinished(Pop3Session& session, const SessionResult& result) = 0;

   protected:
    ~Listener() = default;
  };

  struct Settings {
    Script script = Script::Poll;
    sockaddr_in address{};
    double timeoutS = 120;
    std::uint64_t readRate = 0;  // bytes/s, 0: unlimited
    int message = 1;             // big
  };

  Pop3Session(uv_loop_t* loop, Listener& listener, Settings settings);
  ~Pop3Session();

  void start(const std::string& user, const std::string& password);
  int userIndex = -1;  // the owner's bookkeeping

 private:
  enum class Step { Greeting, User, Pass, Uidl, List, ListOne, Retr, Quit, Done };

  void onConnected() override;
  void onData(const char* data, std::size_t size) override;
  void onClosed(const char* why) override;

  void send(Step step, const std::string& command, ReplyReader::Shape shape,
            ReplyReader::Body body = ReplyReader::Body::Count);
  void onReply();
  void sendNextRetr();
  void parseList();
  void finish(std::string error, std::string detail);
  const char* stepName() const;

  uv_loop_t* loop_;
  Listener& listener_;
  Settings settings_;
  std::unique_ptr<Connection> connection_;
  RateLimiter limiter_;
  ReplyReader reader_;
  Timer deferTimer_;
  Timer timeoutTimer_;
  Step step_ = Step::Done;
  std::string user_;
  std::string password_;
  std::string command_;               // reused: no allocation per command once warm
  std::vector<std::uint64_t> sizes_;  // LIST: index = message number - 1
  std::size_t nextMessage_ = 0;
  bool finished_ = false;
  SessionResult result_;
};

}  // namespace loadgen
