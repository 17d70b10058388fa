#pragma once
// The one asynchronous interface between a POP3 session and a mail store. The session never
// learns which kind of store it talks to.
//
// Contract for every implementation:
// - callbacks never fire from inside the call that started the operation;
// - at most one operation runs at a time (POP3 is strictly sequential per session), but the
//   next one may be started from inside the callback that ends the previous one (pipelining);
// - destroying the Mailbox cancels whatever runs: no callback fires afterwards. Before commit()
//   nothing is deleted; during commit() the outcome upstream is unknown (the deletion may
//   already be on its way), which is why the session only says +OK after commit's callback;
// - an implementation may be destroyed from inside one of its own callbacks only through the
//   owner's deferred release (the session retires it and frees it later).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "backends/mailbox/MessageList.h"
#include "lib/common/Result.h"

namespace popgate::backends {

// How popgate logs in upstream for a user; the login step (proxy/login) decides which. Secrets
// are never logged.
struct PasswordCredential {
  std::string password;  // the user's own (passthrough)
};
struct MasterCredential {  // a master user acting on behalf of the user (SASL PLAIN authzid)
  std::string masterUser;
  std::string masterPassword;
};
struct TokenCredential {  // an OAuth2 bearer token for the user
  std::string token;
};

struct Credentials {
  std::string user;  // upstream login name (after routing): the mailbox owner
  std::variant<PasswordCredential, MasterCredential, TokenCredential> secret;

  // The password when this is a password login, else null.
  const std::string* password() const {
    const auto* p = std::get_if<PasswordCredential>(&secret);
    return p ? &p->password : nullptr;
  }
};

// Receives a message's bytes. onBodyStart comes once the upstream has found the message;
// onBodyEnd ends every retrieval (with an error and no onBodyStart when the message is gone).
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual void onBodyStart() = 0;
  virtual void onBodyData(std::string_view bytes) = 0;
  virtual void onBodyEnd(Status status) = 0;
};

class Mailbox {
 public:
  using SnapshotDone = std::function<void(Result<MessageList>)>;
  using Done = std::function<void(Status)>;

  virtual ~Mailbox() = default;

  // Logs in and lists the messages (number -> id, UIDL, exact size). The list is the session's
  // for its whole life, hence packed (MessageList); a store's listing is taken in as it
  // arrives, never as one buffered response (a mailbox may hold 100,000 messages).
  virtual void open(const Credentials& credentials, SnapshotDone done) = 0;

  // Streams a message. With bodyLines set (TOP), sends the header, the blank line and at most
  // that many lines of the body.
  virtual void retrieve(const MessageRef& message, std::optional<std::uint32_t> bodyLines,
                        BodySink& sink) = 0;
  // Back-pressure for retrieve(): stop and restart reading from the upstream.
  virtual void pauseBody() = 0;
  virtual void resumeBody() = 0;

  // Removes exactly these messages upstream, then logs out. Success means the upstream
  // confirmed the removal.
  virtual void commit(const std::vector<MessageRef>& toDelete, Done done) = 0;
};

}  // namespace popgate::backends
