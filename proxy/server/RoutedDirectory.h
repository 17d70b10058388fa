#pragma once
// MailboxDirectory for the configured backends: SDPS routing, then a mailbox of the backend's
// kind. The only place that knows which backend kinds exist.

#include <uv.h>

#include <map>
#include <string>

#include "proxy/config/Config.h"
#include "proxy/pop3/MailboxDirectory.h"
#include "proxy/route/SdpsRouter.h"

namespace popgate::server {

class RoutedDirectory final : public pop3::MailboxDirectory {
 public:
  RoutedDirectory(uv_loop_t* loop, const config::Config& config);
  Result<Entry> resolve(std::string_view login) override;

 private:
  uv_loop_t* loop_;
  route::SdpsRouter router_;
  std::map<std::string, config::BackendConfig> backends_;
  std::map<std::string, std::shared_ptr<const net::TlsClientContext>> tlsContexts_;
};

}  // namespace popgate::server
