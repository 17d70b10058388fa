#include "lib/net/TlsContext.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <strings.h>

#include <cstdio>
#include <cstring>

namespace popgate::net {

namespace {
std::string lastError(const std::string& what) {
  uint32_t code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what;
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return what + ": " + text;
}

uint16_t protocolVersion(TlsVersion version) {
  switch (version) {
    case TlsVersion::Tls10:
      return TLS1_VERSION;
    case TlsVersion::Tls11:
      return TLS1_1_VERSION;
    case TlsVersion::Tls12:
      return TLS1_2_VERSION;
    default:
      return TLS1_3_VERSION;
  }
}

bool readable(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return false;
  std::fclose(file);
  return true;
}

bool matchesName(const std::string& pattern, const char* name) {
  if (strcasecmp(pattern.c_str(), name) == 0) return true;
  // "*.example.org" covers exactly one label.
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    const char* dot = std::strchr(name, '.');
    return dot && strcasecmp(pattern.c_str() + 1, dot) == 0;
  }
  return false;
}
}  // namespace

Result<TlsVersion> parseTlsVersion(const std::string& text) {
  if (text == "tls1.0") return TlsVersion::Tls10;
  if (text == "tls1.1") return TlsVersion::Tls11;
  if (text == "tls1.2") return TlsVersion::Tls12;
  if (text == "tls1.3") return TlsVersion::Tls13;
  return Error{ErrorCode::Invalid, "TLS version must be tls1.0, tls1.1, tls1.2 or tls1.3"};
}

Result<std::shared_ptr<const TlsServerContext>> TlsServerContext::create(
    const TlsServerSettings& settings) {
  if (settings.certificates.empty())
    return Error{ErrorCode::Invalid, "no TLS certificate configured"};
  auto context = std::make_shared<TlsServerContext>();
  for (const TlsCertificateFiles& files : settings.certificates) {
    if (!readable(files.certFile))
      return Error{ErrorCode::Invalid, "cannot read certificate " + files.certFile};
    if (!readable(files.keyFile))
      return Error{ErrorCode::Invalid, "cannot read key " + files.keyFile};
    bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
    SSL_CTX_set_min_proto_version(ctx.get(), protocolVersion(settings.minVersion));
    SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.certFile.c_str()) != 1) {
      return Error{ErrorCode::Invalid, lastError("bad certificate " + files.certFile)};
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
      return Error{ErrorCode::Invalid, lastError("bad key " + files.keyFile)};
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
      return Error{ErrorCode::Invalid,
                   "key " + files.keyFile + " does not match " + files.certFile};
    }
    if (!settings.ciphers.empty() &&
        SSL_CTX_set_strict_cipher_list(ctx.get(), settings.ciphers.c_str()) != 1) {
      return Error{ErrorCode::Invalid, lastError("bad cipher list '" + settings.ciphers + "'")};
    }
    // Resumption: a server-side session cache plus tickets (BoringSSL's default keys).
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_SERVER);
    static const unsigned char kSessionContext[] = "popgate";
    SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof(kSessionContext) - 1);
    context->entries_.push_back({std::move(ctx), files.serverNames});
  }
  SSL_CTX* first = context->entries_.front().ctx.get();
  SSL_CTX_set_tlsext_servername_callback(first, &TlsServerContext::selectCertificate);
  SSL_CTX_set_tlsext_servername_arg(first, context.get());
  return std::shared_ptr<const TlsServerContext>(std::move(context));
}

int TlsServerContext::selectCertificate(SSL* ssl, int*, void* arg) {
  const auto* self = static_cast<const TlsServerContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;
  for (const Entry& entry : self->entries_) {
    for (const std::string& pattern : entry.serverNames) {
      if (matchesName(pattern, name)) {
        SSL_set_SSL_CTX(ssl, entry.ctx.get());
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  return SSL_TLSEXT_ERR_OK;  // unknown name: the default certificate
}

bssl::UniquePtr<SSL> TlsServerContext::newSession() const {
  return bssl::UniquePtr<SSL>(SSL_new(entries_.front().ctx.get()));
}

Result<std::shared_ptr<const TlsClientContext>> TlsClientContext::create(
    const TlsClientSettings& settings) {
  auto context = std::make_shared<TlsClientContext>();
  context->settings_ = settings;
  context->ctx_.reset(SSL_CTX_new(TLS_method()));
  SSL_CTX* ctx = context->ctx_.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (settings.verify) {
    if (!readable(settings.caFile))
      return Error{ErrorCode::Invalid, "cannot read CA file " + settings.caFile};
    if (SSL_CTX_load_verify_locations(ctx, settings.caFile.c_str(), nullptr) != 1) {
      return Error{ErrorCode::Invalid, lastError("bad CA file " + settings.caFile)};
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!settings.certFile.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, settings.certFile.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, settings.keyFile.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      return Error{ErrorCode::Invalid, lastError("bad client certificate " + settings.certFile)};
    }
  }
  return std::shared_ptr<const TlsClientContext>(std::move(context));
}

bssl::UniquePtr<SSL> TlsClientContext::newSession() const {
  return newSession(settings_.serverName);
}

bssl::UniquePtr<SSL> TlsClientContext::newSession(const std::string& name) const {
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx_.get()));
  bool isIp = false;
  if (!name.empty()) {
    unsigned char buf[16];
    isIp =
        inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
    if (!isIp) SSL_set_tlsext_host_name(ssl.get(), name.c_str());  // RFC 6066: no SNI for IPs
    if (settings_.verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
      if (isIp)
        X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
      else
        SSL_set1_host(ssl.get(), name.c_str());
    }
  }
  return ssl;
}

}  // namespace popgate::net
