// What clients send for Docker token authentication, parsed strictly:
// the Authorization header (Basic credentials for /v2/auth, a Bearer token
// for every other /v2 route), Docker scope strings
// ("repository:ns/app:pull,push", "registry:catalog:*"), and the challenge
// quayd answers a 401 with. Pure functions, no I/O; every malformed input is
// an InvalidArgument naming what was wrong (never echoing a secret).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quay/access.h"
#include "quay/status.h"

namespace quayd {

struct Credentials {
  enum class Kind : unsigned char {
    kNone,    // no Authorization header
    kBasic,   // username + password
    kBearer,  // token
    kOther,   // another scheme (ignored, as Quay ignores it on /v2)
  };
  Kind kind = Kind::kNone;
  std::string username;  // kBasic
  std::string secret;    // kBasic: the password; kBearer: the token
};

// Parses an Authorization header value ("" = none). The scheme is
// case-insensitive. InvalidArgument for a Basic value that is not base64 of
// "user:password" (or holds NUL/CR/LF) and for an empty or malformed Bearer
// token.
quay::Result<Credentials> ParseAuthorization(std::string_view header);

// Docker's action names, as bits (a token's grant on one repository).
enum ScopeAction : uint8_t {
  kScopePull = 1,
  kScopePush = 2,
  kScopeDelete = 4,
  kScopeAll = 8,  // "*"
};

// "pull" / "push" / "delete" / "*" -> bit; 0 for anything else.
uint8_t ParseScopeAction(std::string_view action);
std::string_view ScopeActionName(uint8_t bit);

// Whether a grant (bits) covers an Action the route table asks for: pull
// needs pull or *; push needs push or *; delete needs delete, push (Quay:
// deleting needs write) or *; admin needs *. kCatalog is not granted by
// repository scopes (see RequestedScope::kRegistry).
bool GrantCovers(uint8_t grant, quay::Action action);

struct RequestedScope {
  enum class Type : unsigned char { kRepository, kRegistry };
  Type type = Type::kRepository;
  std::string name;              // as requested ("host:5000/ns/app"); echoed in the token
  std::string repository;        // the repository name, server hostname prefix removed
  std::vector<uint8_t> actions;  // request order, no duplicates
};

// Parses the values of every `scope` query parameter (each may hold several
// space-separated scopes). `server_hostname` (may be empty) is the prefix
// clients may put before a repository name. Accepted: "repository:<name>:<a,b>"
// with actions pull, push, delete, *; and "registry:catalog:*".
// InvalidArgument (400) for anything else, including an invalid repository
// name and more than `max_scopes` scopes.
quay::Result<std::vector<RequestedScope>> ParseScopes(const std::vector<std::string>& values,
                                                      std::string_view server_hostname,
                                                      size_t max_scopes = 64);

// True when `host` is safe to echo in a header: 1-255 chars of
// [A-Za-z0-9.-_:[]] (a hostname, IPv4 or [IPv6], optional port).
bool IsSaneHost(std::string_view host);

// `Bearer realm="<realm>",service="<service>"[,scope="<scope>"][,error="<error>"]`.
// Callers pass sane values (IsSaneHost, validated names): no escaping here.
std::string BearerChallenge(std::string_view realm, std::string_view service,
                            std::string_view scope, std::string_view error = {});

// "repository:<name>:pull" / ":pull,push" / ":*" for the action a route needs;
// "registry:catalog:*" for kCatalog with an empty name.
std::string ChallengeScope(std::string_view repository, quay::Action action);

}  // namespace quayd
