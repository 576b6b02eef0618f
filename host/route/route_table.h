// The route table type of quayd's Quay surfaces (/api/v1, /oauth, /csrf_token):
// one row per (method, path template) with everything the router, the auth
// middleware, GET /api/v1/discovery and the route-coverage test need. The
// rows themselves are data (host/api/api_routes.cpp); nothing else decides
// what is routable or what a route requires.
//
// /v2 keeps its own table (host/v2/routes.h): its paths resolve by keywords
// matched from the right in a few comparisons, which the pull path needs.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "quay/access.h"
#include "quay/status.h"

namespace quayd {

struct ApiExchange;

enum class HttpMethod : unsigned char { kGet, kHead, kPost, kPut, kPatch, kDelete, kOther };
inline constexpr int kHttpMethodCount = 7;
HttpMethod ParseHttpMethod(std::string_view method);
std::string_view HttpMethodName(HttpMethod method);

// What the caller must hold before the handler runs. Every decision is asked
// of the library's Authorizer (repository and namespace actions) or of the
// principal's superuser kind as the library computed it.
enum class Need : unsigned char {
  kNone,       // anyone, anonymous included (discovery, public lookups)
  kSignedIn,   // any authenticated principal
  kRepoRead,   // {repository}: read (public repositories pass for everyone)
  kRepoWrite,  // {repository}: write
  kRepoAdmin,  // {repository}: admin
  kUserRead,   // the signed-in user (scope user:read)
  kUserAdmin,  // the signed-in user (scope user:admin)
  kOrgMember,  // {orgname}: member of any team
  kOrgAdmin,   // {orgname}: admin team (scope org:admin)
  kSuperuser,  // a superuser (scope super:user): plain or full access
  // System-wide auditing (scope super:user): a full-access superuser
  // (FEATURE_SUPERUSERS_FULL_ACCESS) or, for reads, a global read-only
  // superuser; a plain superuser is refused (Quay's
  // allow_if_global_readonly_superuser() or allow_if_superuser_with_full_access()).
  kAuditingSuperuser,
};

// Which superusers pass a repository or organization check besides the
// grants (Quay's allow_for_superuser / allow_for_global_readonly_superuser).
enum SuperuserPass : unsigned char {
  kNoSuperuser = 0,
  kFullAccessSuperuser = 1,  // SU: only with FEATURE_SUPERUSERS_FULL_ACCESS
  kReadOnlySuperuser = 2,    // RO-SU: global read-only superusers (reads)
  kAnySuperuser = 4,         // any superuser kind (plain included)
};

// Feature flags that hide a route entirely (404, absent from discovery).
enum class Feature : unsigned char {
  kAlways,
  kUserCreation,       // FEATURE_USER_CREATION
  kUserInitialize,     // FEATURE_USER_INITIALIZE
  kDirectLogin,        // FEATURE_DIRECT_LOGIN
  kAppSpecificTokens,  // FEATURE_APP_SPECIFIC_TOKENS
  kSuperUsers,         // FEATURE_SUPER_USERS
  kAssignOAuthToken,   // FEATURE_ASSIGN_OAUTH_TOKEN
  kAggregatedLogs,     // FEATURE_AGGREGATED_LOG_COUNT_RETRIEVAL
  kImmutableTags,      // FEATURE_IMMUTABLE_TAGS
  kAutoPrune,          // FEATURE_AUTO_PRUNE
  kQuotaManagement,    // FEATURE_QUOTA_MANAGEMENT
};
inline constexpr int kFeatureCount = 11;

// Which error format a route's failures use.
enum class Surface : unsigned char { kApi, kOAuth };

using ApiHandler = quay::Status (*)(ApiExchange&);

struct ApiRoute {
  HttpMethod method;
  // "/api/v1/repository/{repository+}/tag/{tag}": {name} is one segment,
  // {name+} (only {repository+}) two or more.
  std::string_view path;
  std::string_view nickname;  // Quay's operationId, e.g. "listRepoTags"
  ApiHandler handler;
  Need need = Need::kNone;
  unsigned char superusers = kNoSuperuser;  // SuperuserPass bits
  // The OAuth scope Quay's discovery names for it (metadata, as in Quay:
  // scopes act by clamping the principal's roles in the Authorizer).
  std::string_view scope = {};
  Feature feature = Feature::kAlways;
  bool anonymous = false;    // anon_allowed: served without credentials
  bool readonly_ok = false;  // readonly_call_allowed: served in read-only mode
  bool internal = false;     // internal_only: hidden from discovery unless ?internal=true
  bool fresh_login = false;  // require_fresh_login (session logins only)
  Surface surface = Surface::kApi;
  std::string_view summary = {};
};

std::span<const ApiRoute> ApiRoutes();

// True for methods that change state (everything but GET and HEAD).
inline bool IsMutation(HttpMethod m) { return m != HttpMethod::kGet && m != HttpMethod::kHead; }

}  // namespace quayd
