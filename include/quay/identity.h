// IdentityService: the facade of Quay's identity side - users,
// organizations, teams, robot accounts, repository permissions and
// visibility, default permissions (prototypes), app-specific and OAuth
// tokens, OAuth applications, stars, repository notifications and
// authentication - Quay's permission model (reference/quay-api.md section 3)
// as a library.
//
// The operations live in small interfaces, one header each; a host handler
// takes the one it needs:
//   accounts()       quay/accounts.h       users, authentication, entity search
//   organizations()  quay/organizations.h  orgs, teams, members
//   robots()         quay/robots.h         robot accounts
//   permissions()    quay/permissions.h    repositories, grants, prototypes, Access
//   tokens()         quay/tokens.h         app-specific and OAuth tokens
//   applications()   quay/oauth_apps.h     OAuth applications, codes, authorized apps
//   stars()          quay/stars.h          starred repositories
//   notifications()  quay/notifications.h  repository notifications
//   messages()       quay/messages.h       global (banner) messages
// Transition: IdentityService still inherits Accounts, Organizations,
// Robots, Permissions and Tokens, so existing `identity->CreateUser(...)`
// calls compile unchanged; new code should call through the accessors (the
// inheritance will go once host/ and the tests use them). The last four are
// reachable through their accessors only.
//
// Opening. The Registry works without it (embedders who want no auth keep
// Authorizer::AllowAll()). IdentityService::Open(options) opens the same
// SQLite file as a Registry opened with the same options (schema v3 holds both;
// separate processes and instances may share the file). An in-memory
// Registry has a private database: use Open(options, registry) to share it.
//
// What it gives:
// - authorizer(): the database-backed Authorizer (access.h) with Quay's rules;
// - audit(): the AuditLog (audit.h); every mutating call below writes its
//   row (Quay kind in parentheses) in the same transaction as the change, so a
//   failed audit write fails the mutation and changes nothing;
// - signing_keys(): the JWT signing-key store (signing_keys.h).
//
// Names. Users, organizations and robots share one namespace of account
// names ([a-z0-9]+(?:[._-][a-z0-9]+)*, 2-255 characters, Quay's grammar);
// robots are "<namespace>+<short name>". A repository's namespace is the first
// path component of its name ("alice/app" -> "alice").
//
// Secrets. Passwords are stored as argon2id hashes; robot, app-specific and
// OAuth tokens are random (CSPRNG, >= 256 bits), returned exactly once at
// creation and stored only as SHA-256 hashes, compared in constant time.
// Authentication failures all answer Unauthenticated("invalid credentials"),
// whatever was wrong (no account enumeration).
//
// Errors common to every call: InvalidArgument for a malformed name, role or
// empty required field; NotFound (Subject kNone, or kRepository for
// repositories) for an unknown account, team, token or repository; Conflict
// for a name already taken; Unavailable/Internal on database failure.
//
// Thread safety: safe to use from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quay/access.h"
#include "quay/accounts.h"
#include "quay/audit.h"
#include "quay/clock.h"
#include "quay/export.h"
#include "quay/identity_types.h"
#include "quay/messages.h"
#include "quay/notifications.h"
#include "quay/oauth_apps.h"
#include "quay/options.h"
#include "quay/organizations.h"
#include "quay/permissions.h"
#include "quay/registry.h"
#include "quay/robots.h"
#include "quay/signing_keys.h"
#include "quay/stars.h"
#include "quay/status.h"
#include "quay/tokens.h"

namespace quay {

class QUAY_EXPORT IdentityService : public Accounts,
                                    public Organizations,
                                    public Robots,
                                    public Permissions,
                                    public Tokens {
 public:
  // On the database derived from `options` (data_dir / database_path; an
  // in-memory database of its own when both are empty). Migrates the schema.
  static Result<std::unique_ptr<IdentityService>> Open(const Options& options);
  // On `registry`'s database (required to share an in-memory one). `options`
  // gives the identity settings, clock and logger. `registry` must come from
  // Registry::Open and outlive nothing: the service keeps the database alive.
  static Result<std::unique_ptr<IdentityService>> Open(const Options& options, Registry& registry);
  ~IdentityService() override = default;

  virtual std::shared_ptr<Authorizer> authorizer() = 0;
  virtual AuditLog& audit() = 0;
  virtual SigningKeyStore& signing_keys() = 0;

  // The services; each lives as long as this object.
  Accounts& accounts() { return *this; }
  Organizations& organizations() { return *this; }
  Robots& robots() { return *this; }
  Permissions& permissions() { return *this; }
  Tokens& tokens() { return *this; }
  virtual OAuthApplications& applications() = 0;
  virtual Stars& stars() = 0;
  virtual RepositoryNotifications& notifications() = 0;
  virtual GlobalMessages& messages() = 0;
};

// What DeleteNamespace removes besides the namespace's repositories.
enum class NamespaceDeletion : unsigned char {
  kRepositoriesOnly,
  kUser,          // and the user (user_delete: username)
  kOrganization,  // and the organization (org_delete: namespace)
};

// Deleting a namespace (DELETE /api/v1/user/, /organization/{org},
// /superuser/users/{u}, /superuser/organizations/{org}): every repository of
// namespace `name` - tags, manifests, labels, blob links, upload sessions,
// settings, grants, stars, notifications - and, per `what`, the user or
// organization itself with its robots, teams, tokens and prototypes, in ONE
// database transaction with the account's audit row. A crash at any instant
// leaves the old state or the new one: the upload areas of deleted sessions
// are removed after the commit, and areas a crash leaves without their rows
// are removed by the next Registry::Open. Blob bytes go with GC, as for
// Registry::DeleteRepository. `identity` must be on `registry`'s database
// (IdentityService::Open(options, registry), or both opened on one file).
// Errors: InvalidArgument for a malformed name, or a registry or identity
// service not opened by this library; NotFound(kNone) when `what` names an
// account that does not exist (as that kind); Unavailable/Internal (nothing
// deleted).
QUAY_EXPORT Status DeleteNamespace(Registry& registry, IdentityService& identity,
                                   const Actor& actor, std::string_view name,
                                   NamespaceDeletion what);

}  // namespace quay
