#pragma once
// One connection to Redis for one worker loop, over hiredis's asynchronous API. Shared state
// between replicas (mailbox leases) goes through it, so it fails fast rather than waits:
// - every command is bounded by `commandTimeout`; a command that times out drops the connection
//   (a Redis that does not answer is not trusted with the next command), and every command
//   in flight on it answers Error{Temporary};
// - a lost or refused connection is retried with exponential backoff; while none is open,
//   commands answer Error{Temporary} at once (on the next loop iteration);
// - a refused connect fails at once (lib/redis/RedisUvEvents.h: hiredis's own libuv adapter
//   would wait for `connectTimeout`); a server that does not answer is bounded by `connectTimeout`;
// - it never resends a command: a SET whose answer was lost may have been applied, and only
//   the caller knows whether that is safe to repeat.
// Same contract as every asynchronous step: `done` never fires from inside command(); destroying
// the returned handle cancels the callback (the command itself may still run on the server).

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/common/Pending.h"
#include "lib/common/Result.h"
#include "lib/net/LoopExecutor.h"
#include "lib/net/Timer.h"

struct redisAsyncContext;

namespace popgate::redis {

struct RedisSettings {
  // An IP literal, or a name looked up (on libuv's thread pool) at every connection attempt, so
  // that a Redis that comes back at another address (a container recreated) is found again.
  std::string address = "127.0.0.1";
  int port = 6379;
  std::string password;  // AUTH after every connect when set
  std::chrono::milliseconds connectTimeout{2000};
  std::chrono::milliseconds commandTimeout{2000};
  std::chrono::milliseconds maxBackoff{5000};
};

// The reply kinds popgate uses (RESP simple string, integer, bulk string, nil); a Redis error
// reply becomes Error{Temporary} and an array is reported as Other.
struct RedisReply {
  enum class Kind { Status, Integer, String, Nil, Other };
  Kind kind = Kind::Nil;
  long long integer = 0;
  std::string text;
};

class RedisClient {
 public:
  using Done = std::function<void(Result<RedisReply>)>;
  RedisClient(uv_loop_t* loop, RedisSettings settings);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  [[nodiscard]] Pending command(std::vector<std::string> argv, Done done);

  struct Request;  // one command in flight (public for hiredis's C callbacks)

 private:
  static void onConnect(const redisAsyncContext* context, int status);
  static void onDisconnect(const redisAsyncContext* context, int status);
  static void onReply(redisAsyncContext* context, void* reply, void* privdata);

  void connect();
  void connectTo(const std::string& ip);  // after the lookup, if there was one
  struct Lookup;                          // a name lookup in flight
  void lookedUp(int status, addrinfo* result);
  void drop(const std::string& why);  // frees the connection (pending commands fail)
  void lost(const std::string& why);  // the connection is gone: retry after the backoff
  void finish(std::uint64_t id, Result<RedisReply> result);

  uv_loop_t* loop_;
  RedisSettings settings_;
  net::LoopExecutor executor_;
  net::Timer connectTimer_;  // the connect timeout, then the backoff before the next attempt
  redisAsyncContext* context_ = nullptr;
  Lookup* lookup_ = nullptr;  // owned by libuv until its callback
  // The addresses of the last lookup not tried yet: each attempt takes the next (a name may
  // give ::1 and 127.0.0.1 where Redis listens on only one), the lookup runs again after the
  // last, and a connection that opens forgets the rest.
  std::vector<std::string> untried_;
  bool destroying_ = false;
  std::chrono::milliseconds backoff_{100};
  std::uint64_t nextId_ = 1;
  std::map<std::uint64_t, std::shared_ptr<Request>> inFlight_;
  Pending hello_;  // AUTH or PING, sent with each connect
};

}  // namespace popgate::redis
