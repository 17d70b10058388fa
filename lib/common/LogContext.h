#pragma once
// Who a log line is about, without passing it to every call: the session (its id, the client's
// address, the user and backend once known) whose callback runs on this thread. A worker runs one
// callback at a time, so a thread-local pointer set while a session's code runs (LogScope, at
// every place where the loop enters a session: its connection's events, and the login, mailbox
// and lock callbacks, re-entered by the decorators in proxy/server) names the session of every
// line logged meanwhile. The log formatters (text and JSON) read it; nothing else does.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace popgate {

struct LogContext {
  std::string session;  // the id, the same on every line from accept to close
  std::string client;   // "address:port"
  std::string user;     // the login name as sent (escaped when written); never a secret
  std::string backend;  // the configured backend name, once routed
};

// What one step of a session is, for the lines it logs: an event name and how long it took.
struct LogEvent {
  const char* name = nullptr;
  std::optional<std::int64_t> durationMs;
};

class LogScope {
 public:
  explicit LogScope(const std::shared_ptr<LogContext>& context, LogEvent event = {})
      : previous_(std::exchange(current_, context.get())),
        previousEvent_(std::exchange(event_, event)) {}
  ~LogScope() {
    current_ = previous_;
    event_ = previousEvent_;
  }
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

  // Null outside any session.
  static LogContext* current() { return current_; }
  static const LogEvent& event() { return event_; }

 private:
  static inline thread_local LogContext* current_ = nullptr;
  static inline thread_local LogEvent event_{};
  LogContext* previous_;
  LogEvent previousEvent_;
};

}  // namespace popgate
