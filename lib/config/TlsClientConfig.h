#pragma once
// The upstream TLS keys every client of a remote service shares (IMAP stores now; HTTP stores,
// the login lookup and OAuth2 next): ca_file, verify, server_name, client_cert, client_key.

#include <memory>
#include <set>
#include <string>

#include "lib/config/ConfigReader.h"
#include "lib/net/TlsContext.h"

namespace popgate::config {

// The keys readTlsClient() reads, for a section's list of known keys.
const std::set<std::string>& tlsClientKeys();

// Fills `out` from the keys present in `section` (server_name defaults to `host`).
void readTlsClient(ConfigReader& reader, const YAML::Node& section, const std::string& host,
                   net::TlsClientSettings& out);

// Builds the context now, so that --check-config reports unreadable files; null on a problem.
std::shared_ptr<const net::TlsClientContext> makeTlsClientContext(
    ConfigReader& reader, const YAML::Node& section, const std::string& where,
    const net::TlsClientSettings& settings);

}  // namespace popgate::config
