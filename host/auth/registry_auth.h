// quayd's binding of the library's IdentityService to the OCI /v2 API:
// Docker token authentication (reference/quay-api.md 2.5-2.6).
//
// Token issuing (GET /v2/auth): Basic credentials (password, app-specific
// token, robot token, "$oauthtoken") or none become a Principal through
// IdentityService::AuthenticateBasic; each requested scope's actions are
// asked of the Authorizer one by one and the denied ones are dropped
// silently, as Quay does; a granted push on a missing repository creates it
// (IdentityService::EnsureRepository applies CREATE_PRIVATE_REPO_ON_PUSH and
// the org's prototypes). The token is a JWT (lib/auth/jwt.h) signed with
// TokenKeys' current key; its `context` claim carries the principal's kind
// and `entity_reference`, the account's uuid (Principal::account_uuid).
//
// Every other /v2 request: a Bearer token is verified (signature, issuer,
// audience = the service, time window; verified tokens are cached until
// they expire), the Principal is rebuilt from its claims, the library is
// asked whether it is still current (Accounts::CheckCurrent, on the cached
// path too: a deleted, re-created or disabled account, or a revoked app or
// OAuth token, is refused by the next request), and
// TokenAuthorizer grants a route's Action only when the token's access
// covers it AND the library's Authorizer allows it now (so a revoked
// permission or a disabled user stops working before the token expires).
// Without a token the request is anonymous and the Authorizer alone decides
// (anonymous pull of public repositories).
//
// Audit: pull_repo / push_repo rows go through the library's asynchronous
// AuditAppender (pull rows can be switched off for benchmarks).
//
// Thread safety: all methods may be called from many threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "host/auth/auth_parsing.h"
#include "host/auth/token_keys.h"
#include "quay/access.h"
#include "quay/audit.h"
#include "quay/clock.h"
#include "quay/identity.h"
#include "quay/logger.h"
#include "quay/login_throttle.h"
#include "quay/status.h"

namespace quayd {

struct RegistryAuthOptions {
  // SERVER_HOSTNAME: the token service name (the JWT audience) and the host
  // in the challenge's realm. Empty: the request's Host header serves as
  // both, which suits a single instance reached under one name. Set it for
  // several instances behind a load balancer. Default: "".
  std::string server_hostname;
  // PREFERRED_URL_SCHEME: scheme of the realm URL. Default: "http".
  std::string url_scheme = "http";
  // Key service/issuer, algorithm, rotation and token lifetime
  // (REGISTRY_JWT_TOKEN_LIFETIME). Defaults: see TokenKeysOptions.
  TokenKeysOptions keys;
  // Clock skew tolerated on a token's nbf/exp (Quay: 30 s). Default: 30 s.
  std::chrono::seconds leeway{30};
  // FEATURE_ANONYMOUS_ACCESS: /v2/auth issues tokens without credentials
  // (the Authorizer still decides what they grant). Default: true.
  bool anonymous_access = true;
  // Failed-login back-off of /v2/auth.
  quay::LoginThrottleOptions login_throttle;
  // Record pull_repo for manifest GETs. Default: true.
  bool pull_audit = true;
  // ACTION_LOG_AUDIT_LOGINS: record login_success for /v2/auth logins with
  // credentials. Default: true (Quay's default).
  bool login_audit = true;
  // ACTION_LOG_AUDIT_LOGIN_FAILURES: record login_failure. Default: false.
  bool login_failure_audit = false;
  // The asynchronous appender for pull_repo/push_repo rows.
  quay::AuditAppenderOptions audit_appender;
};

// A verified bearer token: who, and what its access claim grants.
struct VerifiedToken {
  quay::Principal principal;
  // Repository name -> granted action bits (ScopeAction).
  std::vector<std::pair<std::string, uint8_t>> grants;
  int64_t expires_at = 0;  // seconds since the epoch

  uint8_t GrantOn(std::string_view repository) const;
};

// The per-request Authorizer the dispatcher and handlers ask: the token's
// grants (when a token was presented) intersected with the library's
// Authorizer. A token that does not cover the action answers
// Unauthenticated, so the client is challenged for the scope it needs.
class TokenAuthorizer final : public quay::Authorizer {
 public:
  // `token` may be null (anonymous request: the inner Authorizer decides).
  TokenAuthorizer(const quay::Authorizer& inner, const VerifiedToken* token)
      : inner_(inner), token_(token) {}
  quay::Status Check(const quay::Principal& who, std::string_view repository,
                     quay::Action action) const override;
  quay::Status CheckNamespace(const quay::Principal& who, std::string_view namespace_name,
                              quay::NamespaceAction action) const override;

 private:
  const quay::Authorizer& inner_;
  const VerifiedToken* token_;
};

struct IssuedToken {
  std::string token;
  int64_t expires_in = 0;  // seconds
  std::string issued_at;   // RFC 3339, UTC
};

class RegistryAuth {
 public:
  // Opens (or creates) the signing keys. The IdentityService must outlive
  // the RegistryAuth. A null clock is the system clock.
  static quay::Result<std::unique_ptr<RegistryAuth>> Open(quay::IdentityService& identity,
                                                          RegistryAuthOptions options,
                                                          std::shared_ptr<quay::Clock> clock,
                                                          std::shared_ptr<quay::Logger> logger);
  ~RegistryAuth();  // flushes queued audit rows
  RegistryAuth(const RegistryAuth&) = delete;
  RegistryAuth& operator=(const RegistryAuth&) = delete;

  quay::IdentityService& identity() { return identity_; }
  const quay::Authorizer& authorizer() const { return *authorizer_; }
  std::shared_ptr<quay::Authorizer> shared_authorizer() const { return authorizer_; }
  TokenKeys& keys() { return *keys_; }
  // The failed-login back-off, shared with /api/v1/signin.
  quay::LoginThrottle& throttle() { return *throttle_; }
  const RegistryAuthOptions& options() const { return options_; }

  // The service name for a request: SERVER_HOSTNAME, else the Host header
  // when it is sane, else "localhost".
  std::string Service(std::string_view host_header) const;
  // "<scheme>://<SERVER_HOSTNAME or Host>/v2/auth".
  std::string Realm(std::string_view host_header) const;
  // The WWW-Authenticate value of a 401 for a route needing `action` on
  // `repository` (empty: no scope, as for the API root).
  std::string Challenge(std::string_view host_header, std::string_view repository,
                        quay::Action action) const;

  // Verifies a bearer token for a request to `service`, and that its
  // principal is still current (Accounts::CheckCurrent; a token without
  // entity_reference is not). Unauthenticated on any failure;
  // Unavailable/Internal when the database cannot answer.
  quay::Result<std::shared_ptr<const VerifiedToken>> VerifyBearer(std::string_view token,
                                                                  std::string_view service);

  // The /v2/auth answer for `who` asking `scopes` (see the header comment).
  // Errors: Unavailable/Internal from the database or the signer.
  quay::Result<IssuedToken> Issue(const quay::Actor& actor,
                                  const std::vector<RequestedScope>& scopes,
                                  std::string_view service);

  // Queues an audit row (pull_repo only when pull audit is on). Never blocks.
  // Whether pulls are recorded (--no-pull-audit turns them off).
  bool pull_audit() const { return options_.pull_audit && appender_ != nullptr; }
  // The rows are the library's ManifestAuditEvent (kinds and metadata as
  // Quay writes them); these only pick the appender and the pull switch.
  void RecordPull(const quay::ManifestAuditEvent& event);
  void RecordPush(const quay::ManifestAuditEvent& event);
  // login_success (actor = who logged in) or login_failure (actor anonymous;
  // `username` is what was tried), metadata {"type":"v2auth","useragent",...}.
  void RecordLogin(const quay::Actor& actor, bool success, std::string_view username,
                   std::string_view user_agent);

  // Writes queued audit rows (tests).
  quay::Status FlushAudit();
  // Audit bytes accepted and not yet indexed (0 without an appender).
  uint64_t audit_backlog_bytes() const { return appender_ ? appender_->backlog_bytes() : 0; }

 private:
  RegistryAuth(quay::IdentityService& identity, RegistryAuthOptions options,
               std::shared_ptr<quay::Clock> clock, std::shared_ptr<quay::Logger> logger);

  // Action bits of `wanted` the principal may have on `repository`.
  quay::Result<std::vector<std::string>> GrantActions(const quay::Actor& actor,
                                                      const RequestedScope& scope);
  quay::Result<bool> Allowed(const quay::Principal& who, std::string_view repository,
                             quay::Action action) const;
  quay::Result<std::shared_ptr<const VerifiedToken>> Verify(std::string_view token,
                                                            std::string_view service);

  quay::IdentityService& identity_;
  const RegistryAuthOptions options_;
  std::shared_ptr<quay::Clock> clock_;
  std::shared_ptr<quay::Logger> logger_;
  std::shared_ptr<quay::Authorizer> authorizer_;
  std::unique_ptr<TokenKeys> keys_;
  std::unique_ptr<quay::LoginThrottle> throttle_;
  std::unique_ptr<quay::AuditAppender> appender_;

  // Verified tokens by (service, token), until they expire.
  std::mutex cache_mu_;
  std::unordered_map<std::string, std::shared_ptr<const VerifiedToken>> cache_;
};

}  // namespace quayd
