#include "backends/imap/ImapBackend.h"

#include "backends/imap/ImapMailbox.h"
#include "lib/config/TlsClientConfig.h"

namespace popgate::imap {

namespace {

constexpr std::uint64_t kMaxReadAheadBytes = 16 * 1024 * 1024;

class ImapBackend final : public backends::Backend {
 public:
  ImapBackend(uv_loop_t* loop, const ImapSettings& settings) : loop_(loop), settings_(settings) {}
  std::unique_ptr<backends::Mailbox> newMailbox() override {
    return std::make_unique<ImapMailbox>(loop_, settings_);
  }
  std::unique_ptr<backends::Mailbox> newMailboxAt(const std::string& host,
                                                  std::uint16_t port) override {
    // Everything else as configured (TLS mode and CA, timeouts, mailbox, uidl_format, ...);
    // the certificate must name the host that the lookup gave.
    ImapSettings elsewhere = settings_;
    elsewhere.host = host;
    elsewhere.port = port;
    elsewhere.tlsServerName = host;
    return std::make_unique<ImapMailbox>(loop_, std::move(elsewhere));
  }

 private:
  uv_loop_t* loop_;
  const ImapSettings& settings_;  // owned by the definition, which outlives every worker
};

class ImapBackendDefinition final : public backends::BackendDefinition {
 public:
  ImapBackendDefinition(std::string name, ImapSettings settings)
      : BackendDefinition(std::move(name), "imap"), settings_(std::move(settings)) {}
  std::unique_ptr<backends::Backend> instantiate(uv_loop_t* loop) const override {
    return std::make_unique<ImapBackend>(loop, settings_);
  }

 private:
  ImapSettings settings_;
};

void readTokenMechanism(config::ConfigReader& r, const YAML::Node& node, TokenMechanism& out) {
  std::string mechanism;
  if (!r.scalar(node, "token_mechanism", mechanism)) return;
  if (mechanism == "auto")
    out = TokenMechanism::Auto;
  else if (mechanism == "xoauth2")
    out = TokenMechanism::XOAuth2;
  else if (mechanism == "oauthbearer")
    out = TokenMechanism::OAuthBearer;
  else
    r.problem(node, "token_mechanism must be auto, xoauth2 or oauthbearer");
}

void readTlsMode(config::ConfigReader& r, const YAML::Node& node, ImapTls& out) {
  std::string mode;
  if (!r.scalar(node, "tls", mode)) return;
  if (mode == "none")
    out = ImapTls::None;
  else if (mode == "starttls")
    out = ImapTls::StartTls;
  else if (mode == "implicit")
    out = ImapTls::Implicit;
  else
    r.problem(node, "tls must be none, starttls or implicit");
}

}  // namespace

std::shared_ptr<const backends::BackendDefinition> parseImapBackend(config::ConfigReader& r,
                                                                    const YAML::Node& body,
                                                                    const std::string& name) {
  std::set<std::string> known = {backends::kBackendTypeKey,
                                 "host",
                                 "port",
                                 "mailbox",
                                 "connect_timeout_s",
                                 "command_timeout_s",
                                 "read_ahead_bytes",
                                 "uidl_format",
                                 "token_mechanism",
                                 "tls"};
  known.insert(config::tlsClientKeys().begin(), config::tlsClientKeys().end());
  r.mapping(body, "backend", known);

  ImapSettings settings;
  if (!body["host"])
    r.problem(body, "backend '" + name + "' needs a host");
  else
    r.scalar(body["host"], "backend host", settings.host);
  if (body["port"]) r.port(body["port"], "backend port", settings.port);
  if (body["mailbox"]) r.scalar(body["mailbox"], "backend mailbox", settings.mailbox);
  std::chrono::seconds connectTimeout{10};
  std::chrono::seconds commandTimeout{60};
  if (body["connect_timeout_s"])
    r.seconds(body["connect_timeout_s"], "connect_timeout_s", connectTimeout);
  if (body["command_timeout_s"])
    r.seconds(body["command_timeout_s"], "command_timeout_s", commandTimeout);
  settings.connectTimeout = connectTimeout;
  settings.commandTimeout = commandTimeout;
  if (body["read_ahead_bytes"] &&
      r.scalar(body["read_ahead_bytes"], "read_ahead_bytes", settings.readAheadBytes) &&
      settings.readAheadBytes > kMaxReadAheadBytes) {
    r.problem(body["read_ahead_bytes"], "read_ahead_bytes must be at most 16777216 (16 MiB)");
  }
  if (body["uidl_format"]) {
    std::string text;
    if (r.scalar(body["uidl_format"], "uidl_format", text)) {
      auto format = UidlFormat::parse(text);
      if (format)
        settings.uidlFormat = format.value();
      else
        r.problem(body["uidl_format"], format.error().detail);
    }
  }
  if (body["token_mechanism"])
    readTokenMechanism(r, body["token_mechanism"], settings.tokenMechanism);
  if (body["tls"]) readTlsMode(r, body["tls"], settings.tls);
  net::TlsClientSettings tlsClient;
  config::readTlsClient(r, body, settings.host, tlsClient);
  if (settings.tls != ImapTls::None) {
    settings.tlsContext =
        config::makeTlsClientContext(r, body, "backend '" + name + "'", tlsClient);
  }
  return std::make_shared<ImapBackendDefinition>(name, std::move(settings));
}

}  // namespace popgate::imap
