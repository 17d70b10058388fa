#pragma once
// Upstream metrics per backend (docs/design.md, "Metrics"): a Backend decorator whose mailboxes
// count every open, retrieve and commit by result, time it, and count the message bytes relayed
// and the messages deleted. Wired around each worker's backends in LoginServices, so neither the
// stores nor the session know of metrics. It also names the backend in the session's log context
// (lib/common/LogContext.h) when a mailbox is opened.

#include <memory>
#include <string>

#include "backends/mailbox/Backend.h"
#include "proxy/server/ServerMetrics.h"

namespace popgate::server {

class MeteredBackend final : public backends::Backend {
 public:
  // `metrics` outlives this backend and every mailbox it made.
  MeteredBackend(std::unique_ptr<backends::Backend> inner, std::string name,
                 ServerMetrics& metrics);

  std::unique_ptr<backends::Mailbox> newMailbox() override;
  std::unique_ptr<backends::Mailbox> newMailboxAt(const std::string& host,
                                                  std::uint16_t port) override;

  // This backend's series, looked up once per worker.
  struct Meters;

 private:
  std::unique_ptr<backends::Mailbox> wrap(std::unique_ptr<backends::Mailbox> inner);

  std::unique_ptr<backends::Backend> inner_;
  std::shared_ptr<const Meters> meters_;
};

}  // namespace popgate::server
