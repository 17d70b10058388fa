#pragma once
// A configured store, as the rest of popgate sees it. A backend kind (backends/<kind>) parses its
// own YAML section into a BackendDefinition (immutable, shared by every worker thread); each
// worker instantiates it once on its own loop (where a kind keeps per-loop state, such as a
// connection pool), and every login gets a fresh Mailbox from it.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "backends/mailbox/Mailbox.h"

namespace popgate::backends {

class Backend {
 public:
  virtual ~Backend() = default;
  // A mailbox for one POP3 session, not yet opened.
  virtual std::unique_ptr<Mailbox> newMailbox() = 0;
  // A mailbox with the same settings on another server of this kind, for a login lookup that
  // names the server (auth_http's Auth-Server and Auth-Port); the TLS name checked is `host`.
  // Null: this kind cannot be pointed at another server.
  virtual std::unique_ptr<Mailbox> newMailboxAt(const std::string& /*host*/,
                                                std::uint16_t /*port*/) {
    return nullptr;
  }
};

class BackendDefinition {
 public:
  virtual ~BackendDefinition() = default;
  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }
  // Called once per worker, on that worker's thread.
  virtual std::unique_ptr<Backend> instantiate(uv_loop_t* loop) const = 0;

 protected:
  BackendDefinition(std::string name, std::string type)
      : name_(std::move(name)), type_(std::move(type)) {}

 private:
  std::string name_;
  std::string type_;
};

}  // namespace popgate::backends
