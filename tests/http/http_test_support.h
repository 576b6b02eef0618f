// Shared fixtures for the HTTP tests: the real quayd server started
// in-process on an ephemeral 127.0.0.1 port (memory or on-disk registry), a
// log capture, httplib clients, a raw-socket client for malformed requests,
// and small push helpers.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "host/auth/registry_auth.h"
#include "host/cmd/server.h"
#include "quay/clock.h"
#include "quay/digest.h"
#include "quay/identity.h"
#include "quay/registry.h"

namespace quayd::testing {

// Collects every log line the server writes (debug level, logfmt).
class LogCapture {
 public:
  std::shared_ptr<quay::Logger> logger();
  std::vector<std::string> lines() const;
  // Lines containing every one of `needles`.
  std::vector<std::string> Find(std::initializer_list<std::string_view> needles) const;
  // Find(), retried for up to `timeout_ms` until something matches: the
  // access line is written after the response has been sent.
  std::vector<std::string> WaitFind(std::initializer_list<std::string_view> needles,
                                    int timeout_ms = 3000) const;
  std::string all() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// A temporary folder removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ServerOptions {
  bool on_disk = false;  // temp data dir instead of memory
  std::string data_dir;  // reuse this dir (restart tests); implies on_disk
  size_t threads = 64;
  std::chrono::seconds io_timeout{60};         // ServerConfig::io_timeout
  std::chrono::seconds keep_alive_timeout{5};  // ServerConfig::keep_alive_timeout
  // ServerConfig::next_request_wait, max_connections_per_address,
  // idle_thread_timeout (their defaults here as in quayd).
  std::chrono::milliseconds next_request_wait = quayd::HttpServerOptions{}.next_request_wait;
  size_t max_connections_per_address = quayd::HttpServerOptions{}.max_connections_per_address;
  std::chrono::milliseconds idle_thread_timeout = quayd::HttpServerOptions{}.idle_thread_timeout;
  std::shared_ptr<quay::Authorizer> authorizer;  // default AllowAll
  quayd::HostLimits limits;

  // Docker token auth: an IdentityService on the registry's database and a
  // RegistryAuth (users, tokens, audit). `identity` and `auth` configure
  // them (the password hash cost defaults to the minimum here, for speed).
  bool token_auth = false;
  quay::IdentityOptions identity = [] {
    quay::IdentityOptions o;
    o.password_hash_cost = quay::PasswordHashCost::kMinimum;
    return o;
  }();
  quayd::RegistryAuthOptions auth;
  // Time source for the registry, identities and tokens (null: system).
  std::shared_ptr<quay::Clock> clock;
  // Quay's REST API (/api/v1; served only with token_auth): feature flags,
  // read-only mode, ... and the key that signs session cookies and page
  // cursors (empty: random per server).
  quayd::ApiOptions api;
  std::string session_key;
  // Options::blob_store (null: derived; e.g. a FaultInjectingBlobStore), and
  // the health routes' settings (ServerConfig; probes are not reused here).
  std::shared_ptr<quay::BlobStore> blob_store;
  uint64_t health_min_free_bytes = quayd::HealthProbes{}.min_free_bytes;
  // Options::tag_policies. FEATURE_IMMUTABLE_TAGS and FEATURE_AUTO_PRUNE
  // follow `api`'s flags unless set here.
  std::optional<quay::TagPolicyOptions> tag_policies;
};

// A running quayd (Server + Registry) for one test.
class TestServer {
 public:
  explicit TestServer(ServerOptions options = {});
  ~TestServer();

  int port() const { return port_; }
  quayd::Server& server() { return *server_; }
  quay::Registry& registry() { return *registry_; }
  // With ServerOptions::token_auth only.
  quay::IdentityService& identity() { return *identity_; }
  quayd::RegistryAuth& auth() { return *auth_; }
  LogCapture& logs() { return logs_; }
  const std::string& data_dir() const { return data_dir_; }

  // A keep-alive client to this server.
  std::unique_ptr<httplib::Client> Client() const;

  // Stops the HTTP server and closes the registry (for restart tests).
  void Shutdown();

 private:
  std::unique_ptr<TempDir> temp_;
  std::string data_dir_;
  LogCapture logs_;
  std::unique_ptr<quay::Registry> registry_;
  std::unique_ptr<quay::IdentityService> identity_;
  std::shared_ptr<quayd::RegistryAuth> auth_;
  std::unique_ptr<quayd::Server> server_;
  int port_ = 0;
};

// GET /v2/ on a fresh connection answers 200 (the server survived whatever
// the test just sent).
bool StillServes(int port);

// POST /v2/<repo>/blobs/uploads/ (asserted 202): the session's Location.
std::string StartUpload(TestServer& server, const std::string& repo);
// GET on an upload's Location (asserted 204): its Range header.
std::string UploadRange(TestServer& server, const std::string& location);

// ---- OCI helpers ----

std::string DigestOf(std::string_view data);  // "sha256:..."

// The first OCI error code of an error body ("" when there is none).
std::string ErrorCode(const std::string& body);

// Monolithic POST ?digest=; returns the HTTP status.
int PushBlob(httplib::Client& client, std::string_view repo, const std::string& data);

constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";

struct BlobRef {
  std::string digest;
  uint64_t size;
};

// An OCI image manifest over a config and layers; with `subject`, an OCI 1.1
// manifest referring to another manifest.
std::string ImageManifest(const BlobRef& config, const std::vector<BlobRef>& layers,
                          std::optional<BlobRef> subject = std::nullopt);

// An OCI 1.1 artifact manifest: artifactType set, the empty config, one layer
// `layer` (pushed by the caller), `subject` as its subject, and annotations.
// The empty config blob "{}" must be in the repository (PushBlob(.., "{}")).
std::string ArtifactManifest(
    std::string_view artifact_type, const BlobRef& layer, const BlobRef& subject,
    const std::vector<std::pair<std::string, std::string>>& annotations = {});

// Pushes a config and one layer blob to `repo` and returns a manifest over them.
std::string PushImageBlobs(httplib::Client& client, std::string_view repo,
                           std::string_view seed = "seed");

// ---- raw sockets (for requests httplib::Client will not send) ----

struct RawResponse {
  int status = 0;    // 0: no response (connection closed / timed out)
  std::string head;  // status line and headers
  std::string body;
  std::string Header(std::string_view name) const;  // case-insensitive; "" if absent
};

class RawConnection {
 public:
  // `source`: the local IPv4 address to connect from (any of 127.0.0.0/8
  // stands for another client address); null: the kernel's choice.
  explicit RawConnection(int port, const char* source = nullptr);
  ~RawConnection();
  bool ok() const { return fd_ >= 0; }
  bool Send(std::string_view bytes);
  void ShutdownWrite();
  // Reads one response (Content-Length framed). status 0 on EOF/timeout.
  RawResponse Read(int timeout_ms = 5000);
  // True when the server has closed the connection (EOF within timeout).
  bool ClosedByPeer(int timeout_ms = 2000);
  // True when the server has sent something (or closed) within the timeout.
  bool Readable(int timeout_ms);

 private:
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace quayd::testing
