// The auth_http answer cache: what it keys on, what it keeps, for how long, and its bound.

#include <gtest/gtest.h>

#include "proxy/route/AuthHttpCache.h"

namespace popgate::route {
namespace {

using namespace std::chrono_literals;
using Clock = AuthHttpCache::Clock;

AuthHttpQuery query(std::string user, std::string pass, std::string ip = "192.0.2.1") {
  AuthHttpQuery q;
  q.user = std::move(user);
  q.pass = std::move(pass);
  q.clientIp = std::move(ip);
  return q;
}

AuthHttpAnswer okAnswer() {
  AuthHttpAnswer a;
  a.ok = true;
  a.server = "127.0.0.1";
  a.port = 110;
  return a;
}

AuthHttpAnswer refusal() {
  AuthHttpAnswer a;
  a.errorText = "no";
  a.wait = 3s;
  return a;
}

const Clock::time_point t0{};

TEST(AuthHttpCache, KeyNeverHoldsThePasswordAndSeparatesWhatMatters) {
  AuthHttpCache cache(60s, 10s, 100);
  std::string key = cache.key(query("alice", "hunter2-secret")).value();
  EXPECT_EQ(key.find("hunter2-secret"), std::string::npos);
  EXPECT_EQ(key, cache.key(query("alice", "hunter2-secret")).value());
  EXPECT_NE(key, cache.key(query("alice", "other")).value());
  EXPECT_NE(key, cache.key(query("alice", "hunter2-secret", "192.0.2.2")).value());
  EXPECT_NE(key, cache.key(query("alicf", "hunter2-secret")).value());
  // Another process (another salt) keys the same login differently.
  AuthHttpCache other(60s, 10s, 100);
  EXPECT_NE(key, other.key(query("alice", "hunter2-secret")).value());
}

TEST(AuthHttpCache, DigestLoginsAreNeverCached) {
  AuthHttpCache cache(60s, 10s, 100);
  AuthHttpQuery apop = query("alice", "c4c9334bac560ecc979e58001b3e22fb");
  apop.method = "apop";
  EXPECT_FALSE(cache.key(apop).has_value());
  apop.method = "cram-md5";
  EXPECT_FALSE(cache.key(apop).has_value());
  EXPECT_FALSE(AuthHttpCache(60s, 10s, 0).key(query("a", "b")).has_value());
}

TEST(AuthHttpCache, PositiveAnswerLivesItsTtlForAnyAttempt) {
  AuthHttpCache cache(60s, 10s, 100);
  std::string key = cache.key(query("alice", "pw")).value();
  EXPECT_FALSE(cache.find(key, 1, t0).has_value());
  cache.store(key, 1, okAnswer(), t0);
  EXPECT_TRUE(cache.find(key, 1, t0 + 59s).has_value());
  EXPECT_TRUE(cache.find(key, 3, t0 + 59s).has_value());
  EXPECT_FALSE(cache.find(key, 1, t0 + 60s).has_value());
  EXPECT_EQ(cache.size(), 0u);  // the expired entry went on the way
}

TEST(AuthHttpCache, RefusalLivesTheNegativeTtlForItsOwnAttemptOnly) {
  AuthHttpCache cache(60s, 10s, 100);
  std::string key = cache.key(query("alice", "wrong")).value();
  cache.store(key, 1, refusal(), t0);
  auto hit = cache.find(key, 1, t0 + 9s);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->errorText, "no");
  EXPECT_EQ(hit->wait, 3s);
  EXPECT_FALSE(cache.find(key, 2, t0 + 9s).has_value());
  EXPECT_FALSE(cache.find(key, 1, t0 + 10s).has_value());
}

TEST(AuthHttpCache, TemporaryAndWaitAnswersAndZeroTtlsAreNotKept) {
  AuthHttpCache cache(60s, 0s, 100);
  std::string key = cache.key(query("alice", "pw")).value();
  cache.store(key, 1, refusal(), t0);  // negative TTL 0: off
  AuthHttpAnswer temporary = refusal();
  temporary.temporary = true;
  AuthHttpCache both(60s, 10s, 100);
  both.store(key, 1, temporary, t0);
  AuthHttpAnswer wait;
  wait.retry = true;
  both.store(key, 1, wait, t0);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(both.size(), 0u);
}

TEST(AuthHttpCache, LeastRecentlyUsedGoesFirst) {
  AuthHttpCache cache(60s, 10s, 2);
  std::string a = cache.key(query("a", "pw")).value();
  std::string b = cache.key(query("b", "pw")).value();
  std::string c = cache.key(query("c", "pw")).value();
  cache.store(a, 1, okAnswer(), t0);
  cache.store(b, 1, okAnswer(), t0);
  EXPECT_TRUE(cache.find(a, 1, t0).has_value());  // a is now the most recent
  cache.store(c, 1, okAnswer(), t0);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.find(a, 1, t0).has_value());
  EXPECT_FALSE(cache.find(b, 1, t0).has_value());
  EXPECT_TRUE(cache.find(c, 1, t0).has_value());
  cache.store(c, 1, refusal(), t0);  // replaced, not added
  EXPECT_EQ(cache.size(), 2u);
}

}  // namespace
}  // namespace popgate::route
