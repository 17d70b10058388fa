#include "proxy/route/AuthHttpCache.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>

namespace popgate::route {

namespace {

constexpr std::size_t kSaltBytes = 32;

std::string randomSalt() {
  std::string salt(kSaltBytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), salt.size());
  return salt;
}

}  // namespace

AuthHttpCache::AuthHttpCache(std::chrono::seconds positiveTtl, std::chrono::seconds negativeTtl,
                             std::size_t maxEntries)
    : positiveTtl_(positiveTtl),
      negativeTtl_(negativeTtl),
      maxEntries_(maxEntries),
      salt_(randomSalt()) {}

std::optional<std::string> AuthHttpCache::key(const AuthHttpQuery& query) const {
  if (maxEntries_ == 0 || authHttpUsesSalt(query.method)) return std::nullopt;
  SHA256_CTX context;
  SHA256_Init(&context);
  SHA256_Update(&context, salt_.data(), salt_.size());
  SHA256_Update(&context, query.pass.data(), query.pass.size());
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256_Final(digest.data(), &context);
  // NUL cannot occur in the method or an address; the user is last but the digest's length is
  // fixed, so no two (user, password) pairs share a key.
  std::string key = query.method;
  key += '\0';
  key += query.clientIp;
  key += '\0';
  key.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  key += query.user;
  return key;
}

std::optional<AuthHttpAnswer> AuthHttpCache::find(const std::string& key, unsigned loginAttempt,
                                                  Clock::time_point now) {
  auto found = index_.find(key);
  if (found == index_.end()) return std::nullopt;
  auto it = found->second;
  if (now >= it->expires) {
    index_.erase(found);
    entries_.erase(it);
    return std::nullopt;
  }
  if (!it->answer.ok && it->loginAttempt != loginAttempt) return std::nullopt;
  entries_.splice(entries_.begin(), entries_, it);
  return it->answer;
}

void AuthHttpCache::store(const std::string& key, unsigned loginAttempt,
                          const AuthHttpAnswer& answer, Clock::time_point now) {
  if (answer.retry || answer.temporary || maxEntries_ == 0) return;
  std::chrono::seconds ttl = answer.ok ? positiveTtl_ : negativeTtl_;
  if (ttl.count() <= 0) return;
  if (auto found = index_.find(key); found != index_.end()) {
    entries_.erase(found->second);
    index_.erase(found);
  }
  entries_.push_front(Entry{key, answer, loginAttempt, now + ttl});
  index_.emplace(key, entries_.begin());
  while (entries_.size() > maxEntries_) {
    index_.erase(entries_.back().key);
    entries_.pop_back();
  }
}

}  // namespace popgate::route
