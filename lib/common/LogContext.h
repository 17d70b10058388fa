#pragma once
// Who a log line is about, without passing it to every call: the session (its id, the client's
// address, the user and backend once known) whose callback runs on this thread. A worker runs one
// callback at a time, so a thread-local pointer set while a session's code runs (LogScope, at
// every place where the loop enters a session: its connection's events, and the login, mailbox
// and lock callbacks, re-entered by the decorators in proxy/server; an IMAP connection, which
// belongs to one session, captures it and enters it in its own callbacks) names the session of
// every line logged meanwhile. The log formatters (text and JSON) read it.

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
  // A null context: lines logged meanwhile belong to no session.
  explicit LogScope(std::shared_ptr<LogContext> context, LogEvent event = {})
      : context_(std::move(context)), event_(event), previous_(std::exchange(current_, this)) {}
  ~LogScope() { current_ = previous_; }
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

  // Null outside any session.
  static LogContext* current() { return current_ ? current_->context_.get() : nullptr; }
  static LogEvent event() { return current_ ? current_->event_ : LogEvent{}; }
  // The session whose code runs now, for an object made on its behalf that gets callbacks of its
  // own from the loop (an upstream connection): it enters the session again in them.
  static std::shared_ptr<LogContext> capture() { return current_ ? current_->context_ : nullptr; }

 private:
  static inline thread_local const LogScope* current_ = nullptr;
  std::shared_ptr<LogContext> context_;
  LogEvent event_;
  const LogScope* previous_;
};

}  // namespace popgate
