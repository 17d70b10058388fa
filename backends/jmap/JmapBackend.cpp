#include "backends/jmap/JmapBackend.h"

#include <algorithm>
#include <string>

#include "backends/jmap/JmapMailbox.h"
#include "lib/common/Decimal.h"
#include "lib/config/TlsClientConfig.h"

namespace popgate::jmap {

namespace {

class JmapBackend final : public backends::Backend {
 public:
  JmapBackend(uv_loop_t* loop, const JmapSettings& settings)
      : context_{loop, settings, http::HttpClient(loop, clientSettings(settings)), {}, {}} {}
  std::unique_ptr<backends::Mailbox> newMailbox() override {
    return std::make_unique<JmapMailbox>(context_);
  }

 private:
  static http::HttpClientSettings clientSettings(const JmapSettings& settings) {
    http::HttpClientSettings out;
    out.tls = settings.tls;
    out.proxy = settings.proxy;
    out.maxConnectionsPerOrigin = settings.maxConnections;
    out.maxIdlePerOrigin = settings.maxConnections;
    return out;
  }
  JmapContext context_;
};

class JmapBackendDefinition final : public backends::BackendDefinition {
 public:
  JmapBackendDefinition(std::string name, JmapSettings settings)
      : BackendDefinition(std::move(name), "jmap"), settings_(std::move(settings)) {}
  std::unique_ptr<backends::Backend> instantiate(uv_loop_t* loop) const override {
    return std::make_unique<JmapBackend>(loop, settings_);
  }

 private:
  JmapSettings settings_;
};

// "https://host/jmap/" as it is; a bare host or a URL without a path: its /.well-known/jmap.
std::optional<http::HttpUrl> sessionUrl(std::string text) {
  if (text.find("://") == std::string::npos) text = "https://" + text;
  auto url = http::parseHttpUrl(text);
  if (!url) return std::nullopt;
  std::size_t slash = text.find('/', text.find("://") + 3);
  if (slash == std::string::npos || url.value().target == "/") {
    url.value().target = "/.well-known/jmap";
  }
  return url.value();
}

}  // namespace

std::shared_ptr<const backends::BackendDefinition> parseJmapBackend(config::ConfigReader& r,
                                                                    const YAML::Node& body,
                                                                    const std::string& name) {
  std::set<std::string> known = {backends::kBackendTypeKey,
                                 "url",
                                 "mailbox",
                                 "delete",
                                 "proxy",
                                 "connect_timeout_s",
                                 "command_timeout_s",
                                 "retry_budget_s",
                                 "max_json_bytes",
                                 "max_connections",
                                 "read_ahead_messages",
                                 "read_ahead_bytes",
                                 "read_ahead_max_in_flight",
                                 "snapshot_cache_messages"};
  for (const std::string& key : config::tlsClientKeys()) {
    if (key != "server_name") known.insert(key);  // the host in each URL is the name checked
  }
  r.mapping(body, "backend", known);

  JmapSettings settings;
  std::string url;
  if (!body["url"]) {
    r.problem(body, "backend '" + name + "' needs a url");
  } else if (r.scalar(body["url"], "backend url", url)) {
    if (auto parsed = sessionUrl(url))
      settings.sessionUrl = *parsed;
    else
      r.problem(body["url"], "backend url must be an http:// or https:// URL or a host name");
  }
  if (body["mailbox"]) r.scalar(body["mailbox"], "backend mailbox", settings.mailbox);
  if (body["delete"]) {
    std::string mode;
    if (r.scalar(body["delete"], "delete", mode)) {
      if (mode == "destroy")
        settings.deleteMode = DeleteMode::Destroy;
      else if (mode == "trash")
        settings.deleteMode = DeleteMode::Trash;
      else
        r.problem(body["delete"], "delete must be destroy or trash");
    }
  }
  if (body["proxy"]) {
    std::string proxy;
    if (r.scalar(body["proxy"], "proxy", proxy)) {
      auto parsed = http::parseHttpUrl(proxy);
      if (!parsed || parsed.value().https)
        r.problem(body["proxy"], "proxy must be an http://host:port URL");
      else
        settings.proxy = parsed.value();
    }
  }
  if (body["connect_timeout_s"])
    r.seconds(body["connect_timeout_s"], "connect_timeout_s", settings.connectTimeout);
  if (body["command_timeout_s"])
    r.seconds(body["command_timeout_s"], "command_timeout_s", settings.commandTimeout);
  if (body["retry_budget_s"])
    r.seconds(body["retry_budget_s"], "retry_budget_s", settings.retryBudget, 0);
  if (body["max_json_bytes"] &&
      r.scalar(body["max_json_bytes"], "max_json_bytes", settings.maxJsonBytes) &&
      (settings.maxJsonBytes < 4096 || settings.maxJsonBytes > 1024 * 1024 * 1024)) {
    r.problem(body["max_json_bytes"], "max_json_bytes must be between 4096 and 1073741824");
  }
  if (body["max_connections"] &&
      r.scalar(body["max_connections"], "max_connections", settings.maxConnections) &&
      (settings.maxConnections < 1 || settings.maxConnections > 1024)) {
    r.problem(body["max_connections"], "max_connections must be between 1 and 1024");
  }
  if (body["read_ahead_messages"] &&
      r.scalar(body["read_ahead_messages"], "read_ahead_messages", settings.readAhead.messages) &&
      settings.readAhead.messages > 64) {
    r.problem(body["read_ahead_messages"], "read_ahead_messages must be at most 64");
  }
  if (body["read_ahead_bytes"] &&
      r.scalar(body["read_ahead_bytes"], "read_ahead_bytes", settings.readAhead.bytes) &&
      settings.readAhead.bytes > 16 * 1024 * 1024) {
    r.problem(body["read_ahead_bytes"], "read_ahead_bytes must be at most 16777216 (16 MiB)");
  }
  // A download ahead holds its connection until its RETR comes: as many of them as there are
  // connections would leave none for the RETRs they wait behind.
  if (body["read_ahead_max_in_flight"]) {
    if (r.scalar(body["read_ahead_max_in_flight"], "read_ahead_max_in_flight",
                 settings.readAhead.inFlight) &&
        settings.readAhead.inFlight > settings.maxConnections) {
      r.problem(body["read_ahead_max_in_flight"],
                "read_ahead_max_in_flight must be at most max_connections (" +
                    std::to_string(settings.maxConnections) + ")");
    }
  } else {
    settings.readAhead.inFlight = std::min(settings.readAhead.inFlight, settings.maxConnections);
  }
  if (body["snapshot_cache_messages"] &&
      r.scalar(body["snapshot_cache_messages"], "snapshot_cache_messages",
               settings.snapshotCacheMessages) &&
      settings.snapshotCacheMessages > 100000000) {
    r.problem(body["snapshot_cache_messages"], "snapshot_cache_messages must be at most 100000000");
  }
  // The session's apiUrl and downloadUrl may be https even when the session URL is not.
  net::TlsClientSettings tlsClient;
  config::readTlsClient(r, body, settings.sessionUrl.host, tlsClient);
  settings.tls = config::makeTlsClientContext(r, body, "backend '" + name + "'", tlsClient);
  return std::make_shared<JmapBackendDefinition>(name, std::move(settings));
}

}  // namespace popgate::jmap
