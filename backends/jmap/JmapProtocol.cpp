#include "backends/jmap/JmapProtocol.h"

#include <openssl/sha.h>

#include <map>

namespace popgate::jmap {

namespace {

using nlohmann::json;

Error bad(std::string detail) {
  return Error{ErrorCode::Temporary, "JMAP: " + std::move(detail)};
}

json envelope(json calls) {
  return json{{"using", {kCoreCapability, kMailCapability}}, {"methodCalls", std::move(calls)}};
}

json backReference(const char* callId, const char* name, const char* path) {
  return json{{"resultOf", callId}, {"name", name}, {"path", path}};
}

// The arguments of the method response with this call id; a JMAP method error becomes an Error
// naming its type (RFC 8620 §3.6.2).
Result<const json*> response(const json& root, std::string_view callId, std::string_view name) {
  const json& responses = root.at("methodResponses");
  for (const json& entry : responses) {
    if (!entry.is_array() || entry.size() != 3 || entry[2] != callId) continue;
    if (entry[0] == "error") {
      std::string type = entry[1].value("type", std::string("unknown"));
      return bad(std::string(name) + " failed: " + type);
    }
    if (entry[0] != name) continue;
    return &entry[1];
  }
  return bad("no answer to " + std::string(name));
}

// Parses `body` and runs `read` on it; a JSON that is not what RFC 8620 promises is an error,
// never an exception escaping into the loop.
template <class T, class Read>
Result<T> parseWith(std::string_view body, Read read) {
  json root = json::parse(body, nullptr, false);
  if (root.is_discarded() || !root.is_object()) return bad("the answer is not a JSON object");
  try {
    return read(root);
  } catch (const json::exception& e) {
    return bad(std::string("unexpected answer: ") + e.what());
  }
}

std::string stateOf(const json& root) {
  return root.value("sessionState", std::string());
}

}  // namespace

Result<JmapSession> parseSession(std::string_view body) {
  return parseWith<JmapSession>(body, [](const json& root) -> Result<JmapSession> {
    JmapSession session;
    session.apiUrl = root.at("apiUrl").get<std::string>();
    session.downloadUrl = root.at("downloadUrl").get<std::string>();
    session.state = root.value("state", std::string());
    const json& primary = root.value("primaryAccounts", json::object());
    if (!primary.contains(kMailCapability)) {
      return bad("the session names no primary account for mail");
    }
    session.accountId = primary.at(kMailCapability).get<std::string>();
    const json& capabilities = root.at("capabilities");
    if (!capabilities.contains(kMailCapability)) return bad("the server does not offer mail");
    const json& core = capabilities.at(kCoreCapability);
    session.maxObjectsInGet = core.value("maxObjectsInGet", std::uint64_t{500});
    session.maxCallsInRequest = core.value("maxCallsInRequest", std::uint64_t{16});
    if (session.maxObjectsInGet == 0) session.maxObjectsInGet = 1;
    return session;
  });
}

std::string mailboxRequest(const JmapSession& session, const MailboxChoice& choice) {
  json calls = json::array();
  const std::string& account = session.accountId;
  if (choice.name.empty()) {
    calls.push_back(
        {"Mailbox/query", {{"accountId", account}, {"filter", {{"role", "inbox"}}}}, "m"});
  } else {
    calls.push_back(
        {"Mailbox/query", {{"accountId", account}, {"filter", {{"name", choice.name}}}}, "m"});
    calls.push_back({"Mailbox/get",
                     {{"accountId", account},
                      {"#ids", backReference("m", "Mailbox/query", "/ids")},
                      {"properties", {"id", "name", "parentId"}}},
                     "n"});
  }
  if (choice.wantTrash) {
    calls.push_back(
        {"Mailbox/query", {{"accountId", account}, {"filter", {{"role", "trash"}}}}, "t"});
  }
  return envelope(std::move(calls)).dump();
}

Result<MailboxIds> parseMailboxes(std::string_view body, const MailboxChoice& choice,
                                  std::string* sessionState) {
  return parseWith<MailboxIds>(body, [&](const json& root) -> Result<MailboxIds> {
    if (sessionState) *sessionState = stateOf(root);
    MailboxIds ids;
    if (choice.name.empty()) {
      auto query = response(root, "m", "Mailbox/query");
      if (!query) return query.error();
      const json& found = query.value()->at("ids");
      if (found.empty()) return Error{ErrorCode::Permanent, "JMAP: no mailbox with role inbox"};
      ids.mailboxId = found[0].get<std::string>();
    } else {
      auto got = response(root, "n", "Mailbox/get");
      if (!got) return got.error();
      for (const json& mailbox : got.value()->at("list")) {
        if (mailbox.value("name", std::string()) == choice.name &&
            mailbox.value("parentId", json()).is_null()) {
          ids.mailboxId = mailbox.at("id").get<std::string>();
        }
      }
      if (ids.mailboxId.empty()) {
        return Error{ErrorCode::Permanent, "JMAP: no top-level mailbox named " + choice.name};
      }
    }
    if (choice.wantTrash) {
      auto trash = response(root, "t", "Mailbox/query");
      if (!trash) return trash.error();
      const json& found = trash.value()->at("ids");
      if (found.empty()) return Error{ErrorCode::Permanent, "JMAP: no mailbox with role trash"};
      ids.trashId = found[0].get<std::string>();
    }
    return ids;
  });
}

namespace {

// The query every snapshot reads (and its changes follow): the mailbox in receivedAt order.
json mailboxQuery(const JmapSession& session, const std::string& mailboxId) {
  return {{"accountId", session.accountId},
          {"filter", {{"inMailbox", mailboxId}}},
          {"sort", {{{"property", "receivedAt"}, {"isAscending", true}}}},
          {"calculateTotal", true}};
}

// Email/get of what a snapshot keeps, of the ids a back-reference names.
json snapshotGet(const JmapSession& session, json ids) {
  return {"Email/get",
          {{"accountId", session.accountId},
           {"#ids", std::move(ids)},
           {"properties", {"id", "blobId", "size"}}},
          "g"};
}

}  // namespace

std::string emailPageRequest(const JmapSession& session, const std::string& mailboxId,
                             std::uint64_t position, std::uint64_t limit) {
  json query = mailboxQuery(session, mailboxId);
  query["position"] = position;
  query["limit"] = limit;
  json calls = json::array();
  calls.push_back({"Email/query", std::move(query), "q"});
  calls.push_back(snapshotGet(session, backReference("q", "Email/query", "/ids")));
  return envelope(std::move(calls)).dump();
}

Result<EmailPage> parseEmailPage(std::string_view body) {
  return parseWith<EmailPage>(body, [](const json& root) -> Result<EmailPage> {
    EmailPage page;
    page.sessionState = stateOf(root);
    auto query = response(root, "q", "Email/query");
    if (!query) return query.error();
    auto got = response(root, "g", "Email/get");
    if (!got) return got.error();
    const json& ids = query.value()->at("ids");
    page.idsReturned = ids.size();
    page.total = query.value()->value("total", std::uint64_t{0});
    page.queryState = query.value()->value("queryState", std::string());
    // Email/get's list need not follow the order of its ids: the query's order is the one.
    std::map<std::string, const json*> byId;
    for (const json& email : got.value()->at("list"))
      byId[email.at("id").get<std::string>()] = &email;
    for (const json& id : ids) {
      auto it = byId.find(id.get<std::string>());
      if (it == byId.end()) continue;  // destroyed between the query and the get
      const json& email = *it->second;
      std::string emailId = email.at("id").get<std::string>();
      page.messages.push_back({emailId, uidlForId(emailId), email.at("size").get<std::uint64_t>()});
      page.blobIds.push_back(email.at("blobId").get<std::string>());
    }
    return page;
  });
}

std::string emailChangesRequest(const JmapSession& session, const std::string& mailboxId,
                                const std::string& sinceQueryState) {
  json query = mailboxQuery(session, mailboxId);
  query["sinceQueryState"] = sinceQueryState;
  json calls = json::array();
  calls.push_back({"Email/queryChanges", std::move(query), "c"});
  calls.push_back(snapshotGet(session, backReference("c", "Email/queryChanges", "/added/*/id")));
  return envelope(std::move(calls)).dump();
}

Result<EmailChanges> parseEmailChanges(std::string_view body) {
  return parseWith<EmailChanges>(body, [](const json& root) -> Result<EmailChanges> {
    EmailChanges changes;
    changes.sessionState = stateOf(root);
    auto query = response(root, "c", "Email/queryChanges");
    if (!query) return query.error();
    auto got = response(root, "g", "Email/get");
    if (!got) return got.error();
    const json& args = *query.value();
    changes.oldQueryState = args.at("oldQueryState").get<std::string>();
    changes.newQueryState = args.at("newQueryState").get<std::string>();
    for (const json& id : args.at("removed")) changes.removed.push_back(id.get<std::string>());
    for (const json& item : args.at("added")) {
      changes.added.push_back(
          {item.at("index").get<std::uint64_t>(), item.at("id").get<std::string>()});
    }
    if (args.contains("total") && !args["total"].is_null()) {
      changes.total = args["total"].get<std::uint64_t>();
    }
    for (const json& email : got.value()->at("list")) {
      changes.got[email.at("id").get<std::string>()] = {email.at("blobId").get<std::string>(),
                                                        email.at("size").get<std::uint64_t>()};
    }
    return changes;
  });
}

std::string destroyRequest(const JmapSession& session, const std::vector<std::string>& ids) {
  json calls = json::array();
  calls.push_back({"Email/set", {{"accountId", session.accountId}, {"destroy", ids}}, "d"});
  return envelope(std::move(calls)).dump();
}

std::string moveToTrashRequest(const JmapSession& session, const std::vector<std::string>& ids,
                               const std::string& trashId) {
  json update = json::object();
  for (const std::string& id : ids) update[id] = {{"mailboxIds", {{trashId, true}}}};
  json calls = json::array();
  calls.push_back({"Email/set", {{"accountId", session.accountId}, {"update", update}}, "d"});
  return envelope(std::move(calls)).dump();
}

Result<SetAnswer> parseSet(std::string_view body, bool destroy) {
  return parseWith<SetAnswer>(body, [destroy](const json& root) -> Result<SetAnswer> {
    SetAnswer answer;
    answer.sessionState = stateOf(root);
    auto set = response(root, "d", "Email/set");
    if (!set) return set.error();
    const json& args = *set.value();
    if (destroy) {
      for (const json& id : args.value("destroyed", json::array())) {
        answer.done.push_back(id.get<std::string>());
      }
    } else {
      const json& updated = args.value("updated", json::object());
      if (updated.is_object()) {
        for (const auto& [id, value] : updated.items()) answer.done.push_back(id);
      }
    }
    const json& failed = args.value(destroy ? "notDestroyed" : "notUpdated", json::object());
    if (failed.is_object()) {
      for (const auto& [id, error] : failed.items()) {
        answer.notDone.push_back(id + ": " + error.value("type", std::string("unknown")));
      }
    }
    return answer;
  });
}

std::string uidlForId(const std::string& id) {
  bool fits = !id.empty() && id.size() <= 70;
  for (char c : id) fits = fits && c >= 0x21 && c <= 0x7e;
  if (fits) return id;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(id.data()), id.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out = "j";  // 1 + 64 characters: within RFC 1939's 70
  for (unsigned char b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace popgate::jmap
