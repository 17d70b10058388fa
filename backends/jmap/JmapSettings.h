#pragma once
// A jmap backend's settings, read once from its YAML section and shared by every worker.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "backends/jmap/JmapReadAhead.h"
#include "lib/http/HttpUrl.h"
#include "lib/net/TlsContext.h"

namespace popgate::jmap {

enum class DeleteMode { Destroy, Trash };

struct JmapSettings {
  http::HttpUrl sessionUrl;
  std::string mailbox;  // empty: role inbox
  DeleteMode deleteMode = DeleteMode::Destroy;
  std::optional<http::HttpUrl> proxy;
  std::chrono::seconds connectTimeout{10};
  std::chrono::seconds commandTimeout{60};
  std::chrono::seconds retryBudget{10};
  std::size_t maxJsonBytes = 16 * 1024 * 1024;
  std::size_t maxConnections = 64;
  ReadAheadLimits readAhead;
  std::size_t snapshotCacheMessages = 100000;        // per worker; 0: every login lists the mailbox
  std::shared_ptr<const net::TlsClientContext> tls;  // null when nothing is https
};

}  // namespace popgate::jmap
