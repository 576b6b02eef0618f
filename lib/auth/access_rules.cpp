#include "auth/access_rules.h"

#include <algorithm>

namespace quay::auth {
namespace {

RepositoryRole ScopeCap(ScopeSet scopes) {
  if (scopes.Has(Scope::kRepoAdmin)) return RepositoryRole::kAdmin;
  if (scopes.Has(Scope::kRepoWrite)) return RepositoryRole::kWrite;
  if (scopes.Has(Scope::kRepoRead)) return RepositoryRole::kRead;
  return RepositoryRole::kNone;
}

Status Refuse(const AccessFacts& facts, const char* what) {
  if (facts.anonymous)
    return Status::Unauthenticated(std::string("authentication required to ") + what);
  return Status::Denied(std::string("not allowed to ") + what);
}

constexpr int kTeamCreator = 1;
constexpr int kTeamAdmin = 2;

}  // namespace

RepositoryRole EffectiveRole(const AccessFacts& f, const AccessPolicy& policy) {
  if (f.anonymous) {
    return f.repository_public && policy.anonymous_access ? RepositoryRole::kRead
                                                          : RepositoryRole::kNone;
  }
  if (!f.account_valid) return RepositoryRole::kNone;
  RepositoryRole role = f.granted;
  if (f.own_namespace || f.org_team_role == kTeamAdmin) role = RepositoryRole::kAdmin;
  role = std::min(role, ScopeCap(f.scopes));
  if (f.superuser == SuperuserKind::kFullAccess) role = RepositoryRole::kAdmin;
  if (f.superuser == SuperuserKind::kGlobalReadOnly || f.repository_public) {
    role = std::max(role, RepositoryRole::kRead);
  }
  return role;
}

bool MayCreateRepository(const AccessFacts& f) {
  if (f.anonymous || !f.account_valid || !f.namespace_exists) return false;
  if (f.superuser == SuperuserKind::kFullAccess) return true;
  const bool namespace_allows = f.own_namespace || f.org_team_role >= kTeamCreator;
  return namespace_allows && f.scopes.Has(Scope::kRepoCreate);
}

bool MayCreateNamespaceOnPush(const AccessFacts& f, const AccessPolicy& policy) {
  return policy.create_namespace_on_push && !f.anonymous && f.account_valid && f.acts_as_user &&
         !f.namespace_exists && f.namespace_name_valid && f.scopes.Has(Scope::kRepoCreate);
}

bool IsNamespaceAdmin(const AccessFacts& f) {
  if (f.anonymous || !f.account_valid || !f.namespace_exists) return false;
  if (f.superuser == SuperuserKind::kFullAccess) return true;
  if (f.own_namespace) return f.scopes.Has(Scope::kUserAdmin);
  return f.org_team_role == kTeamAdmin && f.scopes.Has(Scope::kOrgAdmin);
}

Status Decide(const AccessFacts& f, const AccessPolicy& policy, Action action) {
  if (!f.anonymous && !f.account_valid) {
    return Status::Unauthenticated("the account is unknown or disabled");
  }
  if (action == Action::kCatalog) {
    if (!f.anonymous || (policy.anonymous_access && policy.public_catalog)) return Status::Ok();
    return Refuse(f, "list repositories");
  }
  const RepositoryRole role = EffectiveRole(f, policy);
  switch (action) {
    case Action::kPull:
      return role >= RepositoryRole::kRead ? Status::Ok() : Refuse(f, "pull");
    case Action::kPush:
      if (!f.repository_exists) {
        return MayCreateRepository(f) || MayCreateNamespaceOnPush(f, policy)
                   ? Status::Ok()
                   : Refuse(f, "create the repository");
      }
      return role >= RepositoryRole::kWrite ? Status::Ok() : Refuse(f, "push");
    case Action::kDelete:
      // Quay: deleting tags and manifests needs write, not admin.
      return role >= RepositoryRole::kWrite ? Status::Ok() : Refuse(f, "delete");
    case Action::kAdmin:
      return role >= RepositoryRole::kAdmin ? Status::Ok() : Refuse(f, "administer");
    case Action::kCatalog:
      break;
  }
  return Refuse(f, "do that");
}

Status DecideNamespace(const AccessFacts& f, NamespaceAction action) {
  if (!f.anonymous && !f.account_valid) {
    return Status::Unauthenticated("the account is unknown or disabled");
  }
  switch (action) {
    case NamespaceAction::kCreateRepository:
      return MayCreateRepository(f) ? Status::Ok() : Refuse(f, "create repositories here");
    case NamespaceAction::kAdmin:
      return IsNamespaceAdmin(f) ? Status::Ok() : Refuse(f, "administer the namespace");
    case NamespaceAction::kMember:
      if (f.anonymous || !f.account_valid || !f.namespace_exists) break;
      if (f.superuser == SuperuserKind::kFullAccess || f.own_namespace || f.org_team_role >= 0) {
        return Status::Ok();
      }
      break;
    case NamespaceAction::kViewAdmin:
      if (f.superuser == SuperuserKind::kGlobalReadOnly && f.account_valid) return Status::Ok();
      return IsNamespaceAdmin(f) ? Status::Ok() : Refuse(f, "administer the namespace");
  }
  return Refuse(f, "do that");
}

}  // namespace quay::auth
