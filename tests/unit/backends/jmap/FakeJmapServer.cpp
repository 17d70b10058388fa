#include "backends/jmap/FakeJmapServer.h"

#include "lib/common/Base64.h"

namespace popgate::jmap::test {

using nlohmann::json;

FakeJmapServer::FakeJmapServer(http::test::ScriptedHttpServer& http) : http_(http) {
  http_.setScript([this](const Request& request) { answer(request); });
}

bool FakeJmapServer::authorized(const Request& request) const {
  std::string auth = request.header("Authorization");
  return auth == "Basic " + encodeBase64("alice:" + password) || auth == "Bearer " + token;
}

void FakeJmapServer::reply(int connection, int status, const std::string& type,
                           const std::string& body) {
  http_.send(connection, "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + type +
                             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                             body);
}

void FakeJmapServer::answer(const Request& request) {
  if (intercept && intercept(request)) return;
  if (!authorized(request)) return reply(request.connection, 401, "text/html", "<h1>401</h1>");
  if (request.method == "GET" && request.target == "/jmap/") {
    ++sessionGets;
    json session = {{"capabilities",
                     {{"urn:ietf:params:jmap:core",
                       {{"maxObjectsInGet", maxObjectsInGet}, {"maxCallsInRequest", 16}}},
                      {"urn:ietf:params:jmap:mail", json::object()}}},
                    {"primaryAccounts", {{"urn:ietf:params:jmap:mail", "alice"}}},
                    {"apiUrl", "/jmap/api/"},
                    {"downloadUrl", "/jmap/download/{accountId}/{blobId}/{name}?accept={type}"},
                    {"state", sessionState}};
    return reply(request.connection, 200, "application/json", session.dump());
  }
  if (request.method == "GET" && request.target.starts_with("/jmap/download/alice/")) {
    ++downloads;
    std::string rest = request.target.substr(21);
    std::string blobId = rest.substr(0, rest.find('/'));
    for (const FakeEmail& email : emails) {
      if ("B" + email.id == blobId)
        return reply(request.connection, 200, "message/rfc822", email.blob);
    }
    return reply(request.connection, 404, "text/plain", "no such blob");
  }
  if (request.method == "POST" && request.target == "/jmap/api/") {
    ++apiPosts;
    json body = json::parse(request.body);
    json results = json::object();
    json responses = json::array();
    for (const json& method : body["methodCalls"]) {
      json answer = call(method, results);
      results[method[2].get<std::string>()] = answer;
      bool failed = answer.size() == 1 && answer.contains("type");  // RFC 8620 §3.6.2
      responses.push_back({failed ? json("error") : method[0], answer, method[2]});
    }
    json out = {{"methodResponses", responses}, {"sessionState", sessionState}};
    reply(request.connection, 200, "application/json", out.dump());
    if (afterPage && body["methodCalls"][0][0] == "Email/query") afterPage();
    return;
  }
  reply(request.connection, 404, "text/plain", "unknown");
}

json FakeJmapServer::call(const json& method, json& results) {
  const std::string name = method[0];
  const json& args = method[1];
  if (name == "Mailbox/query") {
    std::string role = args["filter"].value("role", "");
    if (role == "inbox") return {{"ids", {"Minbox"}}};
    if (role == "trash") return {{"ids", hasTrash ? json({"Mtrash"}) : json::array()}};
    return {{"ids", {"Mx", "Marchive"}}};
  }
  if (name == "Mailbox/get") {
    return {{"list",
             {{{"id", "Mx"}, {"name", "Archive"}, {"parentId", "Minbox"}},
              {{"id", "Marchive"}, {"name", "Archive"}, {"parentId", nullptr}}}}};
  }
  if (name == "Email/query") {
    std::uint64_t position = args["position"];
    std::uint64_t limit = args["limit"];
    json ids = json::array();
    for (std::uint64_t i = position; i < emails.size() && i < position + limit; ++i) {
      ids.push_back(emails[i].id);
    }
    idsAt_[queryState] = this->ids();
    return {
        {"ids", ids}, {"total", emails.size()}, {"queryState", queryState}, {"position", position}};
  }
  if (name == "Email/queryChanges") {
    ++queryChanges;
    std::string since = args["sinceQueryState"];
    if (refuseQueryChanges || !idsAt_.count(since)) return {{"type", "cannotCalculateChanges"}};
    return changesSince(since);
  }
  if (name == "Email/get") {
    const json& ref = args["#ids"];
    json list = json::array();
    json wanted = json::array();
    const json& result = results[ref["resultOf"].get<std::string>()];
    if (ref["path"] == "/added/*/id") {
      for (const json& item : result.value("added", json::array())) wanted.push_back(item["id"]);
    } else {
      wanted = result["ids"];
    }
    for (const json& id : wanted) {
      for (const FakeEmail& email : emails) {
        if (email.id == id) {
          list.push_back(
              {{"id", email.id}, {"blobId", "B" + email.id}, {"size", email.blob.size()}});
        }
      }
    }
    return {{"list", list}, {"notFound", json::array()}};
  }
  if (name == "Email/set") {
    json answer = json::object();
    if (args.contains("destroy")) {
      answer["destroyed"] = json::array();
      answer["notDestroyed"] = json::object();
      for (const json& id : args["destroy"]) {
        if (std::find(refuseDestroy.begin(), refuseDestroy.end(), id) != refuseDestroy.end()) {
          answer["notDestroyed"][id.get<std::string>()] = {{"type", "forbidden"}};
        } else {
          answer["destroyed"].push_back(id);
          destroyed.push_back(id);
        }
      }
    } else {
      answer["updated"] = json::object();
      for (const auto& [id, patch] : args["update"].items()) {
        answer["updated"][id] = nullptr;
        moved[id] = patch["mailboxIds"].begin().key();
      }
    }
    return answer;
  }
  return {{"type", "unknownMethod"}};
}

std::vector<std::string> FakeJmapServer::ids() const {
  std::vector<std::string> out;
  for (const FakeEmail& email : emails) out.push_back(email.id);
  return out;
}

// RFC 8620 §5.6, the simple way the fake can: every id gone is removed, every id new is added
// at its index (the fake's order is insertion order, so nothing else moves).
json FakeJmapServer::changesSince(const std::string& state) {
  const std::vector<std::string>& old = idsAt_[state];
  std::vector<std::string> now = ids();
  json removed = json::array();
  json added = json::array();
  for (const std::string& id : old) {
    if (std::find(now.begin(), now.end(), id) == now.end()) removed.push_back(id);
  }
  for (std::size_t i = 0; i < now.size(); ++i) {
    if (std::find(old.begin(), old.end(), now[i]) == old.end()) {
      added.push_back({{"id", now[i]}, {"index", i}});
    }
  }
  idsAt_[queryState] = now;
  return {{"oldQueryState", state},
          {"newQueryState", queryState},
          {"removed", removed},
          {"added", added},
          {"total", queryChangesTotal.value_or(now.size())}};
}

}  // namespace popgate::jmap::test
