#include "api/access_facts.h"

#include <algorithm>

namespace quay::api {
namespace {

bool Listed(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool ActsAsUser(const Principal& who) {
  return who.kind == Principal::Kind::kUser || who.kind == Principal::Kind::kToken;
}

}  // namespace

SuperuserKind ConfiguredSuperuser(const IdentityOptions& options, std::string_view username) {
  if (username.empty()) return SuperuserKind::kNone;
  if (Listed(options.global_readonly_super_users, username)) return SuperuserKind::kGlobalReadOnly;
  if (Listed(options.super_users, username)) {
    return options.superusers_full_access ? SuperuserKind::kFullAccess : SuperuserKind::kPlain;
  }
  return SuperuserKind::kNone;
}

auth::AccessPolicy PolicyOf(const IdentityOptions& options) {
  return {options.anonymous_access, options.public_catalog, options.create_namespace_on_push};
}

Result<auth::AccessFacts> GatherFacts(ServiceState& state, const Principal& who,
                                      std::string_view repository,
                                      std::string_view namespace_name) {
  auth::AccessFacts f;
  f.anonymous = who.kind == Principal::Kind::kAnonymous || who.name.empty();
  f.scopes = who.scopes;
  auto row = state.identity.AccessFacts(f.anonymous ? std::string_view() : who.name, repository,
                                        namespace_name);
  if (!row.ok()) return row.status();

  if (!f.anonymous && row->account) {
    const auto& account = *row->account;
    if (ActsAsUser(who)) {
      f.account_valid = account.kind == db::AccountKind::kUser && account.enabled;
    } else if (who.kind == Principal::Kind::kRobot) {
      // A robot lives only as long as its namespace is usable.
      f.account_valid = account.kind == db::AccountKind::kRobot && account.enabled &&
                        row->robot_owner && row->robot_owner->enabled;
    }
  }
  if (f.account_valid && ActsAsUser(who) && who.scopes.Has(Scope::kSuperUser)) {
    f.superuser = ConfiguredSuperuser(state.options.identity, who.name);
  }
  f.repository_exists = row->repository_exists;
  f.repository_public = row->repository_public;
  f.granted = static_cast<RepositoryRole>(std::clamp(row->granted_role, 0, 3));
  f.namespace_exists = row->namespace_kind.has_value();
  f.own_namespace = f.account_valid && ActsAsUser(who) &&
                    row->namespace_kind == db::AccountKind::kUser && namespace_name == who.name;
  f.org_team_role = row->org_team_role;
  f.acts_as_user = f.account_valid && ActsAsUser(who);
  f.namespace_name_valid = !namespace_name.empty() && ValidateAccountName(namespace_name).ok();
  return f;
}

}  // namespace quay::api
