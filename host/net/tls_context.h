// quayd's TLS server settings (OpenSSL): a certificate chain and its key
// read from PEM files, TLS 1.2 and 1.3 only, forward-secret AEAD ciphers
// (ECDHE with AES-GCM or ChaCha20-Poly1305 for 1.2; OpenSSL's 1.3 suites),
// no renegotiation, no compression, ALPN "http/1.1".
//
// Reload() reads the files again (SIGHUP): new connections get the new
// certificate; connections already open keep theirs (each SSL holds a
// reference to the context it started with), so nothing is dropped. A
// failed reload keeps serving the old certificate.
//
// Thread safety: NewConnection and Reload may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "quay/status.h"

struct ssl_ctx_st;
struct ssl_st;

namespace quayd {

class TlsContext {
 public:
  // InvalidArgument naming the file when a file cannot be read or the key
  // does not match the certificate.
  static quay::Result<std::shared_ptr<TlsContext>> Load(std::string cert_file,
                                                        std::string key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Reads the files again; on failure the current certificate stays.
  quay::Status Reload();
  // A server-side SSL for a new connection (null when OpenSSL fails).
  ssl_st* NewConnection();

  const std::string& cert_file() const { return cert_file_; }

 private:
  TlsContext(std::string cert_file, std::string key_file);
  static quay::Result<ssl_ctx_st*> Build(const std::string& cert_file, const std::string& key_file);

  const std::string cert_file_;
  const std::string key_file_;
  std::mutex mu_;
  ssl_ctx_st* ctx_ = nullptr;  // guarded by mu_; one reference owned
};

}  // namespace quayd
