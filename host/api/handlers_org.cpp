// Organizations, their teams and members, and default permissions.
#include <httplib.h>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/api/views.h"
#include "quay/quotas.h"

namespace quayd {
namespace {

using quay::Status;

std::string Org(const ApiExchange& ex) { return std::string(ex.Param("orgname")); }

bool Allowed(ApiExchange& ex, quay::NamespaceAction action) {
  return ex.svc.identity.authorizer()->CheckNamespace(ex.principal, Org(ex), action).ok();
}

void WriteTeam(Json& j, const quay::Team& team, size_t members, bool can_view) {
  j.Object().Field("name", team.name).Field("description", team.description);
  j.Field("role", quay::ToString(team.role)).Field("can_view", can_view);
  j.Field("repo_count", 0).Field("member_count", members).Field("is_synced", false);
  WriteAvatar(j, team.name, "team");
  j.End();
}

void WriteMember(Json& j, std::string_view name) {
  const bool robot = name.find('+') != std::string_view::npos;
  j.Object().Field("name", name).Field("kind", robot ? "robot" : "user");
  j.Field("is_robot", robot).Field("invited", false);
  WriteAvatar(j, name, robot ? "robot" : "user");
  j.End();
}

quay::Result<quay::Team> FindTeam(ApiExchange& ex, std::string_view name) {
  auto teams = ex.svc.identity.ListTeams(Org(ex));
  if (!teams.ok()) return teams.status();
  for (quay::Team& t : *teams) {
    if (t.name == name) return std::move(t);
  }
  return Status::NotFound(quay::Subject::kNone, "Not Found");
}

void WriteDelegate(Json& j, const quay::Grantee& g) {
  const char* kind = g.kind == quay::Grantee::Kind::kTeam ? "team" : "user";
  j.Object().Field("name", g.name).Field("kind", kind);
  j.Field("is_robot", g.kind == quay::Grantee::Kind::kRobot);
  WriteAvatar(j, g.name,
              g.kind == quay::Grantee::Kind::kTeam    ? "team"
              : g.kind == quay::Grantee::Kind::kRobot ? "robot"
                                                      : "user");
  j.End();
}

void WritePrototype(Json& j, const quay::Prototype& p) {
  j.Object().Field("id", p.id).Field("role", quay::ToString(p.role));
  if (p.activating_user) {
    j.Key("activating_user");
    WriteDelegate(j, quay::Grantee::User(*p.activating_user));
  }
  j.Key("delegate");
  WriteDelegate(j, p.delegate);
  j.End();
}

// How many of the org's admin-role teams have the caller as a member. Quay
// (data/model/team.py) refuses, with a DataModelException (400), to let the
// caller leave, demote or delete a team that would take their own admin
// role away; the library does not guard this.
quay::Result<size_t> CallerAdminTeams(ApiExchange& ex, bool* in_team, std::string_view team) {
  auto teams = ex.svc.identity.ListTeams(Org(ex));
  if (!teams.ok()) return teams.status();
  size_t count = 0;
  *in_team = false;
  for (const quay::Team& t : *teams) {
    if (t.role != quay::TeamRole::kAdmin) continue;
    auto members = ex.svc.identity.ListTeamMembers(Org(ex), t.name);
    if (!members.ok()) return members.status();
    for (const std::string& m : *members) {
      if (m == ex.UserName()) {
        ++count;
        if (t.name == team) *in_team = true;
        break;
      }
    }
  }
  return count;
}

}  // namespace

Status HandleCreateOrg(ApiExchange& ex) {
  auto name = RequireString(ex.body, "name");
  if (!name.ok()) return name.status();
  if (ex.svc.options.superusers_org_creation_only) {
    const quay::SuperuserKind su = ex.svc.identity.SuperuserOf(ex.UserName());
    if (su != quay::SuperuserKind::kPlain && su != quay::SuperuserKind::kFullAccess) {
      return Status::Denied("Unauthorized");
    }
  }
  auto org = ex.svc.identity.CreateOrganization(
      ex.actor(), *name, OptString(ex.body, "email").value_or(""), ex.UserName());
  if (!org.ok()) {
    if (org.status().code() == quay::Code::kConflict) {
      return Status::InvalidArgument(quay::Subject::kNone,
                                     "A user or organization with this name already exists");
    }
    return org.status();
  }
  ex.res.status = 201;
  ex.res.set_content("\"Created\"", "application/json");
  return Status::Ok();
}

// Everyone sees the name and avatar; members see the teams; admins see the
// email too (Quay's three views).
Status HandleGetOrg(ApiExchange& ex) {
  auto org = ex.svc.identity.GetOrganization(Org(ex));
  if (!org.ok()) return Status::NotFound(quay::Subject::kNone, "Not Found");
  const bool admin = Allowed(ex, quay::NamespaceAction::kAdmin);
  const bool view_admin = admin || Allowed(ex, quay::NamespaceAction::kViewAdmin);
  const bool member = view_admin || Allowed(ex, quay::NamespaceAction::kMember);
  Json j;
  j.Object().Field("name", org->name).Field("is_admin", admin).Field("is_member", member);
  WriteAvatar(j, org->name, "org");
  if (member) {
    // One query for every team with its member count (no query per team).
    auto teams = ex.svc.identity.ListTeamSummaries(org->name, ex.UserName());
    if (!teams.ok()) return teams.status();
    j.Key("teams").Object();
    for (const quay::TeamSummary& t : *teams) {
      j.Key(t.team.name);
      WriteTeam(j, t.team, t.member_count, view_admin || t.is_member);
    }
    j.End();
    j.Key("ordered_teams").Array();
    for (const quay::TeamSummary& t : *teams) j.Str(t.team.name);
    j.EndArray();
  }
  if (view_admin) j.Field("email", org->email).Field("invoice_email", false);
  if (member && ex.svc.options.features[static_cast<size_t>(Feature::kQuotaManagement)]) {
    // Quay's quota_report: usage is kept incrementally, never backfilled.
    auto quotas = quay::Quotas::Open(ex.svc.registry);
    if (!quotas.ok()) return quotas.status();
    auto report = (*quotas)->Report(org->name);
    if (!report.ok()) return report.status();
    j.Key("quota_report").Object();
    j.Field("quota_bytes", static_cast<int64_t>(report->used_bytes));
    if (report->quota) {
      j.Field("configured_quota", static_cast<int64_t>(report->quota->limit_bytes));
    } else {
      j.NullField("configured_quota");
    }
    j.Field("running_backfill", "complete").Field("backfill_status", "complete").End();
  }
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleDeleteOrg(ApiExchange& ex) {
  if (!ex.svc.identity.GetOrganization(Org(ex)).ok()) {
    return Status::NotFound(quay::Subject::kNone, "Not Found");
  }
  Status deleted = quay::DeleteNamespace(ex.svc.registry, ex.svc.identity, ex.actor(), Org(ex),
                                         quay::NamespaceDeletion::kOrganization);
  if (!deleted.ok()) return deleted;
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandlePutTeam(ApiExchange& ex) {
  auto role_text = RequireString(ex.body, "role");
  if (!role_text.ok()) return role_text.status();
  auto role = quay::ParseTeamRole(*role_text);
  if (!role.ok()) return role.status();
  const std::string team(ex.Param("teamname"));
  auto existing = FindTeam(ex, team);
  quay::Team result;
  if (existing.ok()) {
    if (existing->role == quay::TeamRole::kAdmin && *role != quay::TeamRole::kAdmin) {
      bool mine = false;
      auto count = CallerAdminTeams(ex, &mine, team);
      if (!count.ok()) return count.status();
      if (mine && *count <= 1) {
        return Status::InvalidArgument(
            quay::Subject::kNone, "Cannot remove admin from team '" + team +
                                      "' because calling user would no longer have admin on org '" +
                                      Org(ex) + "'");
      }
    }
    auto updated = ex.svc.identity.UpdateTeam(ex.actor(), Org(ex), team,
                                              OptString(ex.body, "description"), *role);
    if (!updated.ok()) return updated.status();
    result = *updated;
  } else if (existing.status().code() == quay::Code::kNotFound) {
    auto created = ex.svc.identity.CreateTeam(ex.actor(), Org(ex), team, *role,
                                              OptString(ex.body, "description").value_or(""));
    if (!created.ok()) return created.status();
    result = *created;
  } else {
    return existing.status();
  }
  auto members = ex.svc.identity.ListTeamMembers(Org(ex), team);
  Json j;
  WriteTeam(j, result, members.ok() ? members->size() : 0, true);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleDeleteTeam(ApiExchange& ex) {
  const std::string team(ex.Param("teamname"));
  auto existing = FindTeam(ex, team);
  if (!existing.ok()) return existing.status();
  if (existing->role == quay::TeamRole::kAdmin) {
    bool mine = false;
    auto count = CallerAdminTeams(ex, &mine, team);
    if (!count.ok()) return count.status();
    if (*count <= 1) {
      return Status::InvalidArgument(
          quay::Subject::kNone,
          "Deleting team '" + team + "' would remove admin ability for user '" +
              std::string(ex.UserName()) + "' in organization '" + Org(ex) + "'");
    }
  }
  Status deleted = ex.svc.identity.DeleteTeam(ex.actor(), Org(ex), ex.Param("teamname"));
  if (!deleted.ok()) return deleted;
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandleListTeamMembers(ApiExchange& ex) {
  auto members = ex.svc.identity.ListTeamMembers(Org(ex), ex.Param("teamname"));
  if (!members.ok()) return members.status();
  Json j;
  j.Object().Field("name", ex.Param("teamname")).Key("members").Array();
  for (const std::string& m : *members) WriteMember(j, m);
  j.EndArray().Field("can_edit", Allowed(ex, quay::NamespaceAction::kAdmin)).End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandlePutTeamMember(ApiExchange& ex) {
  Status added = ex.svc.identity.AddTeamMember(ex.actor(), Org(ex), ex.Param("teamname"),
                                               ex.Param("membername"));
  if (!added.ok()) return added;
  Json j;
  WriteMember(j, ex.Param("membername"));
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleDeleteTeamMember(ApiExchange& ex) {
  if (ex.Param("membername") == ex.UserName()) {
    bool mine = false;
    auto count = CallerAdminTeams(ex, &mine, ex.Param("teamname"));
    if (!count.ok()) return count.status();
    if (mine && *count <= 1) {
      return Status::InvalidArgument(quay::Subject::kNone,
                                     "User cannot remove themselves from their only admin team.");
    }
  }
  Status removed = ex.svc.identity.RemoveTeamMember(ex.actor(), Org(ex), ex.Param("teamname"),
                                                    ex.Param("membername"));
  if (!removed.ok()) return removed;
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandleListPrototypes(ApiExchange& ex) {
  auto prototypes = ex.svc.identity.ListPrototypes(Org(ex));
  if (!prototypes.ok()) return prototypes.status();
  Json j;
  j.Object().Key("prototypes").Array();
  for (const quay::Prototype& p : *prototypes) WritePrototype(j, p);
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleCreatePrototype(ApiExchange& ex) {
  auto role_text = RequireString(ex.body, "role");
  if (!role_text.ok()) return role_text.status();
  auto role = quay::ParseRepositoryRole(*role_text);
  if (!role.ok()) return role.status();
  auto delegate = ex.body.FindMember("delegate");
  if (delegate == ex.body.MemberEnd() || !delegate->value.IsObject()) {
    return Status::InvalidArgument(quay::Subject::kNone, "'delegate' is a required property");
  }
  auto kind = RequireString(delegate->value, "kind");
  if (!kind.ok()) return kind.status();
  auto name = RequireString(delegate->value, "name");
  if (!name.ok()) return name.status();
  quay::Grantee grantee = *kind == "team"                        ? quay::Grantee::Team(*name)
                          : name->find('+') != std::string::npos ? quay::Grantee::Robot(*name)
                                                                 : quay::Grantee::User(*name);
  if (*kind != "team" && *kind != "user") {
    return Status::InvalidArgument(quay::Subject::kNone, "delegate kind must be user or team");
  }
  std::optional<std::string> activating;
  if (auto a = ex.body.FindMember("activating_user");
      a != ex.body.MemberEnd() && a->value.IsObject()) {
    activating = OptString(a->value, "name");
  }
  auto created = ex.svc.identity.CreatePrototype(ex.actor(), Org(ex), activating, grantee, *role);
  if (!created.ok()) {
    // Quay: an unknown delegate is a bad request, not a missing resource.
    if (created.status().code() == quay::Code::kNotFound) {
      return Status::InvalidArgument(quay::Subject::kNone, "Unknown delegate: " + *name);
    }
    return created.status();
  }
  Json j;
  WritePrototype(j, *created);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleDeletePrototype(ApiExchange& ex) {
  Status deleted = ex.svc.identity.DeletePrototype(ex.actor(), Org(ex), ex.Param("prototypeid"));
  if (!deleted.ok()) return deleted;
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

}  // namespace quayd
