// Tokens: a user's app-specific tokens and OAuth access tokens. Part of
// IdentityService (quay/identity.h): identity.tokens(). OAuth applications,
// authorization codes and per-application tokens are in quay/oauth_apps.h.
//
// Secrets are random, returned once (Issued::secret) and stored only as
// SHA-256 hashes.
//
// Thread safety: safe to use from many threads.
// Errors: InvalidArgument for an empty title or scope set; NotFound (kNone)
// for an unknown user, application or token; Unavailable/Internal on
// database failure. Every mutation writes its audit row (Quay kind in
// parentheses) in the same transaction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "quay/identity_types.h"

namespace quay {

// Names an OAuthApplication by its client id (an IssueOAuthToken overload).
struct OAuthClientId {
  std::string value;
};

// One keyset page of every user's app-specific tokens.
struct AppTokenPage {
  std::vector<AppToken> tokens;  // oldest first; no secrets
  bool more = false;
  std::string next_cursor;  // pass as `after_cursor`; empty when !more
};

class QUAY_EXPORT Tokens {
 public:
  virtual ~Tokens() = default;

  // ---- app-specific tokens ----
  // (create_app_specific_token: app_specific_token, app_specific_token_title)
  // Expires after IdentityOptions::app_token_lifetime.
  virtual Result<Issued<AppToken>> CreateAppToken(const Actor& actor, std::string_view user,
                                                  std::string_view title) = 0;
  virtual Result<std::vector<AppToken>> ListAppTokens(std::string_view user) = 0;
  // Every user's app-specific tokens, oldest first, at most `limit`
  // (1..1000) after `after_cursor` (GET /api/v1/superuser/apptokens). With
  // `only_expiring`, only live tokens that expire within a tenth of
  // IdentityOptions::app_token_lifetime (Quay's "expiring soon" window; none
  // when tokens never expire). One index range per page.
  virtual Result<AppTokenPage> ListAllAppTokens(bool only_expiring, size_t limit,
                                                std::string_view after_cursor) = 0;
  // (revoke_app_specific_token: same keys)
  virtual Status RevokeAppToken(const Actor& actor, std::string_view user,
                                std::string_view token_id) = 0;

  // ---- OAuth access tokens ----
  // (create_oauth_api_token: oauth_token_uuid, application_name, scope)
  // `scopes` must be non-empty. Expires after
  // IdentityOptions::oauth_token_lifetime. `application` is a free name; the
  // token belongs to no OAuthApplication (client_id empty).
  virtual Result<Issued<OAuthToken>> IssueOAuthToken(const Actor& actor, std::string_view user,
                                                     std::string_view application,
                                                     ScopeSet scopes) = 0;
  // The same for a registered application (quay/oauth_apps.h); the audit
  // row adds client_id. NotFound for an unknown client id.
  virtual Result<Issued<OAuthToken>> IssueOAuthToken(const Actor& actor, std::string_view user,
                                                     const OAuthClientId& client,
                                                     ScopeSet scopes) = 0;
  virtual Result<std::vector<OAuthToken>> ListOAuthTokens(std::string_view user) = 0;
  // (revoke_oauth_api_token: oauth_token_uuid, application_name[, client_id])
  virtual Status RevokeOAuthToken(const Actor& actor, std::string_view token_id) = 0;
};

}  // namespace quay
