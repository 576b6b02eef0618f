// Quay's permission decision as a pure function of facts the caller has
// gathered (lib/api reads them from the database in one snapshot). Keeping
// it free of I/O lets one table-driven test cover every role x action x
// visibility x principal combination. Internal to the library.
//
// The rules (reference/quay-api.md section 3, auth/permissions.py):
// - A repository role comes from the strongest of: a direct grant to the
//   account, a grant to one of its teams, being the namespace's user (admin),
//   being in an admin team of the namespace org (admin).
// - OAuth scopes cap that role (repo:read/write/admin); they never add to it.
// - Superusers: kFullAccess is admin everywhere; kGlobalReadOnly reads
//   everything and gains no write. Both need the super:user scope on tokens;
//   robots are never superusers.
// - A public repository is readable by every authenticated principal, and by
//   anonymous ones when anonymous access is on.
// - Creating a repository needs an existing namespace and: the own user
//   namespace, or an org team role of creator or admin, with the repo:create
//   scope; or full-access superuser.
// - With CREATE_NAMESPACE_ON_PUSH, a push may also create a repository in a
//   namespace that does not exist yet (its organization is created for the
//   pusher): users and their tokens with repo:create only, and only when the
//   name is a valid account name. Namespace actions (DecideNamespace) still
//   need an existing namespace: only a push creates one.
#pragma once

#include "quay/access.h"
#include "quay/identity.h"

namespace quay::auth {

struct AccessFacts {
  bool anonymous = true;
  // The principal's account exists and is enabled (robots: their owner too).
  bool account_valid = false;
  ScopeSet scopes;
  SuperuserKind superuser = SuperuserKind::kNone;  // the effective flavour (see above)
  bool repository_exists = false;
  bool repository_public = false;
  RepositoryRole granted = RepositoryRole::kNone;  // direct or team grant
  bool namespace_exists = false;
  bool own_namespace = false;  // a user (or its token) in its own namespace
  int org_team_role = -1;      // strongest team role in the namespace org; -1 none
  // A valid user, or a token of one (not a robot).
  bool acts_as_user = false;
  // The namespace's name could be an account (organization) name.
  bool namespace_name_valid = false;
};

struct AccessPolicy {
  bool anonymous_access = true;
  bool public_catalog = false;
  bool create_namespace_on_push = false;
};

// The role after every rule above (kNone for an invalid account).
RepositoryRole EffectiveRole(const AccessFacts& facts, const AccessPolicy& policy);
bool MayCreateRepository(const AccessFacts& facts);
// A push may create the namespace (an organization) and then the repository.
bool MayCreateNamespaceOnPush(const AccessFacts& facts, const AccessPolicy& policy);
bool IsNamespaceAdmin(const AccessFacts& facts);

// OK, Unauthenticated (anonymous, or an account that no longer exists or is
// disabled) or Denied. See Authorizer::Check for the contract.
Status Decide(const AccessFacts& facts, const AccessPolicy& policy, Action action);
Status DecideNamespace(const AccessFacts& facts, NamespaceAction action);

}  // namespace quay::auth
