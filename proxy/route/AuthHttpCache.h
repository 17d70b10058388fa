#pragma once
// Answers of the auth_http service kept for a while, so a client that logs in every minute (or
// a scanner that tries one password a hundred times) does not cost a request each time.
// Bounded (least recently used goes first), one time to live for logins the service let in and
// another for refusals. It never holds a password: the key carries a SHA-256 of the password
// under a random salt drawn once per process, so a memory dump or a log of the keys gives no
// password and no hash that could be looked up in a precomputed table.
//
// What is never cached: APOP and CRAM-MD5 (the digest depends on the greeting's timestamp, so
// no two sessions send the same one), WAIT answers, and temporary trouble of any kind.
//
// The key covers the method, the user, the password and the client's address: nginx hands the
// service Client-IP, and services decide on it (allow lists, their own per-address limits), so
// one address must never receive the verdict given to another. A refusal also depends on the
// attempt number (services answer Auth-Wait from Auth-Login-Attempt): a cached refusal only
// answers the same attempt number, while a cached OK answers any.

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

#include "proxy/route/AuthHttpProtocol.h"

namespace popgate::route {

class AuthHttpCache {
 public:
  using Clock = std::chrono::steady_clock;

  // A time to live of zero switches that half off; maxEntries 0 switches the cache off.
  AuthHttpCache(std::chrono::seconds positiveTtl, std::chrono::seconds negativeTtl,
                std::size_t maxEntries);

  // The key for this query, or nullopt when such answers are never cached.
  std::optional<std::string> key(const AuthHttpQuery& query) const;

  // A live answer for the key (it becomes the most recently used), or nullopt.
  std::optional<AuthHttpAnswer> find(const std::string& key, unsigned loginAttempt,
                                     Clock::time_point now);
  // Keeps an answer the rules above allow to keep; others are ignored.
  void store(const std::string& key, unsigned loginAttempt, const AuthHttpAnswer& answer,
             Clock::time_point now);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string key;
    AuthHttpAnswer answer;
    unsigned loginAttempt;
    Clock::time_point expires;
  };

  std::chrono::seconds positiveTtl_;
  std::chrono::seconds negativeTtl_;
  std::size_t maxEntries_;
  std::string salt_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace popgate::route
