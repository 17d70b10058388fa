#pragma once
// A small JMAP server on a ScriptedHttpServer, for the JmapMailbox unit tests: the session
// resource at /jmap/ (relative URLs, as Cyrus sends them), the API at /jmap/api/ answering
// Mailbox/query, Mailbox/get, Email/query (paged, receivedAt order = insertion order), Email/get
// and Email/set, and downloads at /jmap/download/. A test can override any answer. What the
// real server does is tested against Cyrus in tests/integration.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/ScriptedHttpServer.h"

namespace popgate::jmap::test {

struct FakeEmail {
  std::string id;
  std::string blob;  // the message bytes
};

class FakeJmapServer {
 public:
  using Request = http::test::ScriptedHttpServer::Request;

  explicit FakeJmapServer(http::test::ScriptedHttpServer& http);

  std::string sessionUrl() const { return http_.url("/jmap/"); }

  std::string password = "secret";  // Basic alice:<password>, or Bearer <token>
  std::string token = "tok";
  std::vector<FakeEmail> emails;
  std::uint64_t maxObjectsInGet = 500;
  std::string sessionState = "s1";
  std::string queryState = "q1";
  bool hasTrash = true;
  bool refuseQueryChanges = false;                 // Email/queryChanges: cannotCalculateChanges
  std::optional<std::uint64_t> queryChangesTotal;  // a wrong total, when set
  int queryChanges = 0;                            // Email/queryChanges answered
  std::vector<std::string> refuseDestroy;          // ids answered in notDestroyed
  std::vector<std::string> destroyed;              // every id destroyed
  std::map<std::string, std::string> moved;        // id -> mailbox id
  // Answers a request before the fake does when it returns true (faults, counting).
  std::function<bool(const Request&)> intercept;
  // Called after each page (Email/query) is answered.
  std::function<void()> afterPage;

  int sessionGets = 0;
  int apiPosts = 0;
  int downloads = 0;

 private:
  bool authorized(const Request& request) const;
  void answer(const Request& request);
  nlohmann::json call(const nlohmann::json& method, nlohmann::json& results);
  void reply(int connection, int status, const std::string& type, const std::string& body);

  nlohmann::json changesSince(const std::string& state);
  std::vector<std::string> ids() const;

  http::test::ScriptedHttpServer& http_;
  std::map<std::string, std::vector<std::string>> idsAt_;  // queryState -> the ids it showed
};

}  // namespace popgate::jmap::test
