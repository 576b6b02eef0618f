// OAuth applications (Quay's OAuthApplication), the authorization-code grant,
// a user's authorized applications and an application's tokens. Part of
// IdentityService (quay/identity.h): identity.applications().
//
// An application belongs to an organization. Its client_id is 20 random
// characters, its client_secret 40 ([A-Za-z0-9], CSPRNG). Quay shows the
// secret to the org's admins again, so it is kept: sealed with the field
// cipher under the database secret (IdentityOptions::database_secret_key or
// the database_secret_key file), bound to the client id. VerifyClient
// compares in constant time (sodium_memcmp, over equal-length buffers).
//
// Authorization codes are random, stored as SHA-256 only, valid 10 minutes
// from issue (the Options clock) and usable once: ExchangeAuthorizationCode
// deletes the code row and reads it in one statement (DELETE ... RETURNING),
// so two concurrent exchanges of one code cannot both succeed.
//
// Error mapping for /oauth/access_token (RFC 6749 section 5.2):
//   Unauthenticated("invalid_client")  -> invalid_client (401): unknown client
//                                          id or wrong secret;
//   InvalidArgument(kNone, "invalid_grant: ...") -> invalid_grant (400):
//                                          unknown, used or expired code, a
//                                          code of another client, or a
//                                          redirect_uri other than the one
//                                          the code was issued with.
//   Messages starting "invalid_grant" are the only InvalidArgument answers
//   of ExchangeAuthorizationCode.
//
// Thread safety: safe to use from many threads.
// Errors otherwise: InvalidArgument for an empty name / scope set;
// NotFound (kNone) for an unknown org, application, user or token;
// Unavailable/Internal on database failure. Mutations write their audit row
// (Quay kind and metadata keys in parentheses) in the same transaction; the
// namespace of the row is the application's organization.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quay/identity_types.h"

namespace quay {

struct OAuthApplication {
  std::string client_id;
  std::string client_secret;  // filled for Get/List/Create/Reset (org admins see it)
  std::string organization;
  std::string name;
  std::string description;
  std::string application_uri;
  std::string redirect_uri;
  std::string avatar_email;
  Clock::TimePoint created_at{};
};

// What Create and Update set (Update: every field, as Quay's PUT).
struct OAuthApplicationSpec {
  std::string name;  // non-empty
  std::string description;
  std::string application_uri;
  std::string redirect_uri;
  std::string avatar_email;
};

// One application a user authorized: the union of its tokens' scopes.
struct AuthorizedApplication {
  std::string client_id;
  std::string name;
  std::string organization;
  std::string description;
  std::string application_uri;
  std::string avatar_email;
  ScopeSet scopes;
  std::vector<OAuthToken> tokens;
};

// FEATURE_ASSIGN_OAUTH_TOKEN: an org admin asked `user` to authorize an
// application with these scopes (Quay's OauthAssignedToken); the user sees
// it pending until accepted or deleted.
struct AssignedAuthorization {
  std::string uuid;
  OAuthApplication application;  // client_secret left empty
  ScopeSet scopes;
  std::string redirect_uri;
  std::string response_type;  // "code" or "token"
  std::string assigner;       // the admin who assigned it; empty once deleted
  Clock::TimePoint created_at{};
};

class QUAY_EXPORT OAuthApplications {
 public:
  virtual ~OAuthApplications() = default;

  // ---- applications ----
  // (create_application: application_name, client_id, plus the spec's fields)
  virtual Result<OAuthApplication> CreateApplication(const Actor& actor,
                                                     std::string_view organization,
                                                     const OAuthApplicationSpec& spec) = 0;
  virtual Result<OAuthApplication> GetApplication(std::string_view client_id) = 0;
  // In name order.
  virtual Result<std::vector<OAuthApplication>> ListApplications(std::string_view organization) = 0;
  // (update_application: as create)
  virtual Result<OAuthApplication> UpdateApplication(const Actor& actor, std::string_view client_id,
                                                     const OAuthApplicationSpec& spec) = 0;
  // (delete_application: application_name, client_id) Its codes and tokens
  // go with it.
  virtual Status DeleteApplication(const Actor& actor, std::string_view client_id) = 0;
  // (reset_application_client_secret: application_name, client_id) The old
  // secret stops working at once. Returns the application with the new one.
  virtual Result<OAuthApplication> ResetClientSecret(const Actor& actor,
                                                     std::string_view client_id) = 0;
  // OK if `client_secret` is the application's; Unauthenticated("invalid_client")
  // otherwise (also for an unknown client id, after the same comparison work).
  virtual Status VerifyClient(std::string_view client_id, std::string_view client_secret) = 0;

  // ---- authorization-code grant ----
  // A code for `user` to hand to the client (no audit row; Quay writes none
  // for codes). `scopes` non-empty; `redirect_uri` is what the exchange must
  // present again.
  virtual Result<std::string> IssueAuthorizationCode(const Actor& actor, std::string_view client_id,
                                                     std::string_view user, ScopeSet scopes,
                                                     std::string_view redirect_uri) = 0;
  // The token for a code (create_oauth_api_token: oauth_token_uuid,
  // application_name, client_id, scope, auth_method "authorization_code";
  // performer: the code's user). Errors: see the mapping above.
  virtual Result<Issued<OAuthToken>> ExchangeAuthorizationCode(std::string_view client_id,
                                                               std::string_view client_secret,
                                                               std::string_view code,
                                                               std::string_view redirect_uri) = 0;

  // ---- a user's authorized applications ----
  // One entry per application the user has live tokens for, in client id
  // order. Tokens issued by name only (no application) are not included.
  virtual Result<std::vector<AuthorizedApplication>> ListAuthorizedApplications(
      std::string_view user) = 0;
  // (revoke_oauth_api_token, one row per token) Deletes every token of that
  // application for that user. NotFound if there is none.
  virtual Status RevokeAuthorizedApplication(const Actor& actor, std::string_view user,
                                             std::string_view client_id) = 0;
  // Whether the user's live tokens for the application together carry every
  // scope of `scopes` (lets /oauth/authorize skip the consent page).
  virtual Result<bool> HasGrantedScopes(std::string_view user, std::string_view client_id,
                                        ScopeSet scopes) = 0;

  // ---- assigned authorizations (FEATURE_ASSIGN_OAUTH_TOKEN) ----
  // (oauth_token_assigned: assigning_user, assigned_user, application,
  // client_id) Assigns the application to `user` (an enabled user) with
  // `scopes` (non-empty); the assigner is the actor's user. Whether the
  // actor administers the application's organization is the caller's check.
  // `response_type` "code" or "token" (InvalidArgument otherwise). Also
  // leaves the user an "assigned_authorization" notification.
  virtual Result<AssignedAuthorization> AssignAuthorization(const Actor& actor,
                                                            std::string_view client_id,
                                                            std::string_view user, ScopeSet scopes,
                                                            std::string_view redirect_uri,
                                                            std::string_view response_type) = 0;
  // The user's pending assignments, oldest first. One query; clears the
  // user's "assigned_authorization" notifications (AssignAuthorization
  // writes one), as Quay does on listing.
  virtual Result<std::vector<AssignedAuthorization>> ListAssignedAuthorizations(
      std::string_view user) = 0;
  // Deletes one of the user's assignments; NotFound for another user's or an
  // unknown uuid. Quay logs no row for it, and neither does this.
  virtual Status DeleteAssignedAuthorization(std::string_view user, std::string_view uuid) = 0;

  // ---- an application's tokens (/organization/{org}/applications/{id}/tokens) ----
  // Tokens issued for the application, by issue order (their uuid is the
  // cursor: `after` is the last uuid seen, empty for the first page).
  virtual Result<Page<OAuthToken>> ListApplicationTokens(std::string_view client_id, size_t limit,
                                                         std::string_view after) = 0;
  // (create_oauth_api_token: ..., auth_method "api") A token for the acting
  // user (actor.principal.name).
  virtual Result<Issued<OAuthToken>> CreateApplicationToken(const Actor& actor,
                                                            std::string_view client_id,
                                                            ScopeSet scopes) = 0;
  // (revoke_oauth_api_token: oauth_token_uuid, application_name, client_id)
  // NotFound unless the token was issued for that application.
  virtual Status RevokeApplicationToken(const Actor& actor, std::string_view client_id,
                                        std::string_view token_id) = 0;
};

}  // namespace quay
