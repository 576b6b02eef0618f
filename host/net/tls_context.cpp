#include "host/net/tls_context.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>

namespace quayd {
namespace {

quay::Status Bad(std::string message) {
  return quay::Status::InvalidArgument(quay::Subject::kNone, std::move(message));
}

// ALPN: only HTTP/1.1 (a client offering only h2 gets no ALPN answer and
// speaks HTTP/1.1 anyway, or gives up).
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

TlsContext::TlsContext(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

quay::Result<ssl_ctx_st*> TlsContext::Build(const std::string& cert_file,
                                            const std::string& key_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return quay::Status::Internal("TLS: cannot create a context");
  auto fail = [&](quay::Status status) -> quay::Result<ssl_ctx_st*> {
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return status;
  };
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(ctx,
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1) {
    return fail(quay::Status::Internal("TLS: cipher list refused"));
  }
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return fail(
        Bad(fmt::format("tls_cert_file {}: not a readable PEM certificate chain", cert_file)));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fail(Bad(fmt::format("tls_key_file {}: not a readable PEM private key", key_file)));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return fail(Bad("tls_key_file: the key does not match the certificate"));
  }
  return ctx;
}

quay::Result<std::shared_ptr<TlsContext>> TlsContext::Load(std::string cert_file,
                                                           std::string key_file) {
  std::shared_ptr<TlsContext> tls(new TlsContext(std::move(cert_file), std::move(key_file)));
  if (quay::Status loaded = tls->Reload(); !loaded.ok()) return loaded;
  return tls;
}

quay::Status TlsContext::Reload() {
  quay::Result<ssl_ctx_st*> built = Build(cert_file_, key_file_);
  if (!built.ok()) return built.status();
  std::lock_guard lock(mu_);
  SSL_CTX_free(ctx_);  // connections that started with it keep a reference
  ctx_ = *built;
  return quay::Status::Ok();
}

ssl_st* TlsContext::NewConnection() {
  std::lock_guard lock(mu_);
  return ctx_ != nullptr ? SSL_new(ctx_) : nullptr;
}

}  // namespace quayd
