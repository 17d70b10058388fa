#pragma once
// Brute-force limits and RFC 2449 LOGIN-DELAY, shared by every worker thread (one per process).
//
// Failed logins are counted per client address and per login name, each failure forgotten once
// `window` has passed since the last one. A failure is answered only after a delay that doubles
// with each recent failure (the larger of the address's and the name's count), up to maxDelay:
// a guesser's rate falls, a user's typo costs a quarter of a second. An address with refuseAfter
// recent failures is refused before any check until its window passes. A login name is never
// refused, only slowed: refusing a name would let anyone lock its owner out from elsewhere.
// Successful logins are never delayed and clear their name's count (not the address's: a
// guesser who knows one password must not wipe its record).
//
// LOGIN-DELAY (RFC 2449 §6.7, §8.1.2): a user's successful login within the delay of their last
// one is refused with [LOGIN-DELAY]; only logins that were let in count.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "lib/common/Result.h"

namespace popgate::login {

struct LoginGuardSettings {
  std::chrono::seconds window{900};
  std::chrono::milliseconds firstDelay{250};
  std::chrono::milliseconds maxDelay{15'000};
  std::size_t refuseAfter = 30;     // failures from one address within the window; 0: never
  std::size_t maxTracked = 100000;  // addresses and names each; the oldest are forgotten first
};

class LoginGuard {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LoginGuard(LoginGuardSettings settings = {});
  // A reloaded configuration's limits (SIGHUP); the records so far are kept.
  void setSettings(LoginGuardSettings settings);

  // Before anything is checked: an error when this address is refused for now.
  std::optional<Error> admit(std::string_view address, Clock::time_point now);
  // After a refused password (ErrorCode::Auth): how long to wait before the -ERR.
  std::chrono::milliseconds failed(std::string_view address, std::string_view login,
                                   Clock::time_point now);
  // After the store accepted the login: an error ([LOGIN-DELAY]) when `key` (the user's mailbox)
  // logged in less than `loginDelay` ago; otherwise the login is recorded.
  std::optional<Error> succeeded(std::string_view login, const std::string& key,
                                 std::optional<std::chrono::seconds> loginDelay,
                                 Clock::time_point now);

  // Throttling so far, for the metrics: logins refused unchecked (an address over refuseAfter),
  // and refused passwords answered after a delay.
  std::uint64_t refusedCount() const { return refused_.load(std::memory_order_relaxed); }
  std::uint64_t delayedCount() const { return delayed_.load(std::memory_order_relaxed); }

  // The pieces of the rules above, for a throttle that keeps the records elsewhere (Redis,
  // proxy/login/RedisLoginThrottle.h) and only the counts and limits here.
  LoginGuardSettings settings() const;
  // The wait before answering a refused password after `failures` recent ones (counted).
  std::chrono::milliseconds delayAfter(std::size_t failures);
  // The refusal of an address over refuseAfter (counted).
  Error refuseAddress();
  static Error loginDelayRefusal();

  // The client address without its port: "[::1]:4000" and "127.0.0.1:4000" to the host.
  static std::string hostOf(std::string_view peer);

 private:
  struct Record {
    std::size_t failures = 0;
    Clock::time_point last;
  };
  using Table = std::map<std::string, Record, std::less<>>;

  Record* current(Table& table, std::string_view key, Clock::time_point now);
  void bump(Table& table, std::string_view key, Clock::time_point now);
  void trim(Table& table, Clock::time_point now);

  LoginGuardSettings settings_;
  mutable std::mutex mutex_;
  Table addresses_;
  Table logins_;
  // LOGIN-DELAY: by mailbox key, when its next login may come; bounded like the tables above.
  std::map<std::string, Clock::time_point, std::less<>> nextLogin_;
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> delayed_{0};
};

}  // namespace popgate::login
