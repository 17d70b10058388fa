#pragma once
// APOP (RFC 1939 §7): the greeting's timestamp and the command's arguments. Pure, except
// nextApopTimestamp(), which reads the process id, a process-wide counter and the clock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace popgate::pop3 {

// "<pid.counter.clock@hostname>": the msg-id form RFC 1939 §7 asks for, unique per connection.
std::string formatApopTimestamp(std::uint64_t pid, std::uint64_t counter, std::int64_t clock,
                                std::string_view hostname);
// A fresh timestamp; the counter is atomic, so every worker thread's is different.
std::string nextApopTimestamp(std::string_view hostname);

struct ApopArguments {
  std::string name;
  std::string digest;  // 32 lower-case hex digits
};
// "name SP digest": the digest after the last space, 32 hex digits in either case (stored
// lower-case); the name before it, non-empty (it may hold spaces). nullopt when malformed.
std::optional<ApopArguments> parseApopArguments(std::string_view args);

}  // namespace popgate::pop3
