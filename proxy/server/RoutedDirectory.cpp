#include "proxy/server/RoutedDirectory.h"

#include <spdlog/spdlog.h>

#include "backends/imap/ImapMailbox.h"

namespace popgate::server {

RoutedDirectory::RoutedDirectory(uv_loop_t* loop, const config::Config& config)
    : loop_(loop), router_(config.routing), backends_(config.backends) {
  for (const auto& [name, backend] : backends_) {
    if (backend.tls == config::TlsMode::None) continue;
    auto context = net::TlsClientContext::create(backend.tlsClient);
    if (context)
      tlsContexts_[name] = context.value();
    else
      spdlog::error("backend {}: {}", name, context.error().detail);
  }
}

Result<pop3::MailboxDirectory::Entry> RoutedDirectory::resolve(std::string_view login) {
  auto route = router_.route(login);
  if (!route) return route.error();
  auto backend = backends_.find(route.value().backend);
  if (backend == backends_.end()) return Error{ErrorCode::Auth, "unknown backend"};
  const config::BackendConfig& settings = backend->second;
  imap::ImapSettings imap;
  if (settings.tls != config::TlsMode::None) {
    auto context = tlsContexts_.find(settings.name);
    if (context == tlsContexts_.end())
      return Error{ErrorCode::Temporary, "backend TLS unavailable"};
    imap.tlsContext = context->second;
    imap.tls = settings.tls == config::TlsMode::Implicit ? imap::ImapTls::Implicit
                                                         : imap::ImapTls::StartTls;
  }
  imap.host = settings.host;
  imap.port = settings.port;
  imap.mailbox = settings.mailbox;
  imap.connectTimeout = settings.connectTimeout;
  imap.commandTimeout = settings.commandTimeout;
  imap.readAheadBytes = settings.readAheadBytes;
  Entry entry;
  entry.mailbox = std::make_unique<imap::ImapMailbox>(loop_, std::move(imap));
  entry.lockKey = settings.name + '\0' + route.value().upstreamUser;
  entry.upstreamUser = std::move(route.value().upstreamUser);
  return entry;
}

}  // namespace popgate::server
