#include "proxy/login/LoginGuard.h"

#include <algorithm>
#include <vector>

#include "lib/common/Ascii.h"

namespace popgate::login {

LoginGuard::LoginGuard(LoginGuardSettings settings) : settings_(settings) {}

std::string LoginGuard::hostOf(std::string_view peer) {
  if (peer.starts_with('[')) {
    std::size_t close = peer.find(']');
    return std::string(peer.substr(1, close == std::string_view::npos ? peer.size() : close - 1));
  }
  std::size_t colon = peer.rfind(':');
  // A bare IPv6 address has more than one colon and no port.
  if (colon == std::string_view::npos || peer.find(':') != colon) return std::string(peer);
  return std::string(peer.substr(0, colon));
}

LoginGuard::Record* LoginGuard::current(Table& table, std::string_view key, Clock::time_point now) {
  auto it = table.find(key);
  if (it == table.end()) return nullptr;
  if (now - it->second.last >= settings_.window) {
    table.erase(it);
    return nullptr;
  }
  return &it->second;
}

void LoginGuard::bump(Table& table, std::string_view key, Clock::time_point now) {
  Record* record = current(table, key, now);
  if (!record) {
    trim(table, now);
    record = &table.emplace(std::string(key), Record{}).first->second;
  }
  ++record->failures;
  record->last = now;
}

void LoginGuard::trim(Table& table, Clock::time_point now) {
  if (table.size() < settings_.maxTracked) return;
  std::erase_if(table,
                [&](const auto& entry) { return now - entry.second.last >= settings_.window; });
  // Still full of recent failures (a flood from many addresses): forget the oldest tenth, so
  // memory stays bounded and the scan above stays rare.
  if (table.size() < settings_.maxTracked) return;
  std::vector<Clock::time_point> times;
  times.reserve(table.size());
  for (const auto& entry : table) times.push_back(entry.second.last);
  auto cut = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 10);
  std::nth_element(times.begin(), cut, times.end());
  Clock::time_point oldest = *cut;
  std::erase_if(table, [&](const auto& entry) { return entry.second.last <= oldest; });
}

void LoginGuard::setSettings(LoginGuardSettings settings) {
  std::lock_guard lock(mutex_);
  settings_ = settings;
}

LoginGuardSettings LoginGuard::settings() const {
  std::lock_guard lock(mutex_);
  return settings_;
}

Error LoginGuard::refuseAddress() {
  refused_.fetch_add(1, std::memory_order_relaxed);
  // RFC 3206 §4: SYS/TEMP, the refusal is not about this password and will pass.
  return Error{ErrorCode::Temporary, "too many failed logins from this address",
               "-ERR [SYS/TEMP] Too many failed logins from your address, try again later."};
}

Error LoginGuard::loginDelayRefusal() {
  return Error{ErrorCode::Temporary, "LOGIN-DELAY not yet passed",
               "-ERR [LOGIN-DELAY] Minimum time between logins not yet passed."};
}

std::chrono::milliseconds LoginGuard::delayAfter(std::size_t failures) {
  LoginGuardSettings limits = settings();
  std::chrono::milliseconds delay = limits.firstDelay;
  for (std::size_t i = 1; i < failures && delay < limits.maxDelay; ++i) delay *= 2;
  delay = std::min(delay, limits.maxDelay);
  if (delay.count() > 0) delayed_.fetch_add(1, std::memory_order_relaxed);
  return delay;
}

std::optional<Error> LoginGuard::admit(std::string_view address, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (settings_.refuseAfter == 0) return std::nullopt;
  Record* record = current(addresses_, address, now);
  if (!record || record->failures < settings_.refuseAfter) return std::nullopt;
  return refuseAddress();
}

std::chrono::milliseconds LoginGuard::failed(std::string_view address, std::string_view login,
                                             Clock::time_point now) {
  std::size_t failures = 0;
  {
    std::lock_guard lock(mutex_);
    std::string name = asciiLower(login);
    bump(addresses_, address, now);
    bump(logins_, name, now);
    failures = std::max(current(addresses_, address, now)->failures,
                        current(logins_, name, now)->failures);
  }
  return delayAfter(failures);
}

std::optional<Error> LoginGuard::succeeded(std::string_view login, const std::string& key,
                                           std::optional<std::chrono::seconds> loginDelay,
                                           Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (auto it = logins_.find(asciiLower(login)); it != logins_.end()) logins_.erase(it);
  if (!loginDelay || loginDelay->count() == 0) return std::nullopt;
  auto it = nextLogin_.find(key);
  if (it != nextLogin_.end() && now < it->second) {
    return loginDelayRefusal();
  }
  if (it == nextLogin_.end() && nextLogin_.size() >= settings_.maxTracked) {
    std::erase_if(nextLogin_, [&](const auto& entry) { return entry.second <= now; });
  }
  if (nextLogin_.size() >= settings_.maxTracked && it == nextLogin_.end()) return std::nullopt;
  nextLogin_[key] = now + *loginDelay;
  return std::nullopt;
}

}  // namespace popgate::login
