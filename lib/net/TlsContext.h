#pragma once
// BoringSSL contexts built from configuration. A server context holds one SSL_CTX per
// certificate and picks one by SNI; a client context verifies the upstream's chain and name.
// Contexts are immutable and shared: a reload builds new ones, sessions keep the old.

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "lib/common/Result.h"

namespace popgate::net {

enum class TlsVersion { Tls10, Tls11, Tls12, Tls13 };

struct TlsCertificateFiles {
  std::string certFile;  // PEM chain, leaf first
  std::string keyFile;
  std::vector<std::string> serverNames;  // SNI names served by this certificate
};

struct TlsServerSettings {
  std::vector<TlsCertificateFiles> certificates;  // the first is the default
  TlsVersion minVersion = TlsVersion::Tls12;
  std::string ciphers;  // TLS 1.2 cipher list; empty: BoringSSL's defaults
};

class TlsServerContext {
 public:
  static Result<std::shared_ptr<const TlsServerContext>> create(const TlsServerSettings& settings);
  // The session's SNI callback refers to this context: keep the context alive while the
  // session may still handshake.
  bssl::UniquePtr<SSL> newSession() const;

 private:
  struct Entry {
    bssl::UniquePtr<SSL_CTX> ctx;
    std::vector<std::string> serverNames;
  };
  static int selectCertificate(SSL* ssl, int* alert, void* arg);

  std::vector<Entry> entries_;
};

struct TlsClientSettings {
  std::string caFile = "/etc/ssl/certs/ca-certificates.crt";
  bool verify = true;
  std::string serverName;  // checked against the certificate and sent as SNI
  std::string certFile;    // optional client certificate
  std::string keyFile;
};

class TlsClientContext {
 public:
  static Result<std::shared_ptr<const TlsClientContext>> create(const TlsClientSettings& settings);
  bssl::UniquePtr<SSL> newSession() const;
  // For a client that reaches more than one host with the same settings (HTTP, where the URL
  // names the host): `serverName` replaces settings.serverName for this session.
  bssl::UniquePtr<SSL> newSession(const std::string& serverName) const;

 private:
  bssl::UniquePtr<SSL_CTX> ctx_;
  TlsClientSettings settings_;
};

Result<TlsVersion> parseTlsVersion(const std::string& text);

}  // namespace popgate::net
