#include "lib/config/TlsClientConfig.h"

namespace popgate::config {

const std::set<std::string>& tlsClientKeys() {
  static const std::set<std::string> keys = {"ca_file", "verify", "server_name", "client_cert",
                                             "client_key"};
  return keys;
}

void readTlsClient(ConfigReader& reader, const YAML::Node& section, const std::string& host,
                   net::TlsClientSettings& out) {
  if (section["ca_file"]) reader.scalar(section["ca_file"], "ca_file", out.caFile);
  if (section["verify"]) reader.scalar(section["verify"], "verify", out.verify);
  out.serverName = host;
  if (section["server_name"]) reader.scalar(section["server_name"], "server_name", out.serverName);
  if (section["client_cert"]) reader.scalar(section["client_cert"], "client_cert", out.certFile);
  if (section["client_key"]) reader.scalar(section["client_key"], "client_key", out.keyFile);
  if (out.certFile.empty() != out.keyFile.empty()) {
    reader.problem(section, "client_cert and client_key go together");
  }
}

std::shared_ptr<const net::TlsClientContext> makeTlsClientContext(
    ConfigReader& reader, const YAML::Node& section, const std::string& where,
    const net::TlsClientSettings& settings) {
  auto context = net::TlsClientContext::create(settings);
  if (!context) {
    reader.problem(section, where + ": " + context.error().detail);
    return nullptr;
  }
  return context.value();
}

}  // namespace popgate::config
