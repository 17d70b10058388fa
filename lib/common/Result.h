#pragma once
// Value-or-error for code that runs inside loop callbacks, where exceptions must not escape.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace popgate {

enum class ErrorCode {
  Auth,       // credentials refused (RFC 3206 [AUTH])
  Temporary,  // upstream unreachable, timed out or failed (RFC 3206 [SYS/TEMP])
  Permanent,  // the upstream can never do this (RFC 3206 [SYS/PERM])
  InUse,      // mailbox locked by another session (RFC 2449 [IN-USE])
  Gone,       // the message no longer exists upstream
  Invalid,    // bad input (configuration, protocol)
};

struct Error {
  ErrorCode code;
  std::string detail;   // for the log: may name hosts, ids and what the upstream said
  std::string reply{};  // when set, words the POP3 client may read instead of the generic ones
};

template <class T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const {
    assert(ok());
    return std::get<0>(state_);
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace popgate
