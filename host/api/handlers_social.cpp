// Stars, entity lookup, organization members and repository notifications.
#include <httplib.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/api/views.h"

namespace quayd {
namespace {

using quay::Status;

std::string Compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  v.Accept(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string ObjectField(const rapidjson::Value& body, const char* key) {
  if (!body.IsObject()) return "{}";
  auto it = body.FindMember(key);
  if (it == body.MemberEnd() || !it->value.IsObject()) return "{}";
  return Compact(it->value);
}

void WriteNotification(Json& j, const quay::RepositoryNotification& n) {
  j.Object().Field("uuid", n.uuid).Field("title", n.title).Field("event", n.event);
  j.Field("method", n.method).Key("config").Raw(n.config_json);
  j.Key("event_config").Raw(n.event_config_json);
  j.Field("number_of_failures", n.number_of_failures).End();
}

}  // namespace

Status HandleListStarred(ApiExchange& ex) {
  const std::string binding = std::string("starred\n").append(ex.UserName()).append("\n");
  auto cursor = PageCursor(ex, binding);
  if (!cursor.ok()) return cursor.status();
  const std::string after = *cursor;
  auto page = ex.svc.identity.stars().ListStarred(ex.UserName(), 100, after);
  if (!page.ok()) return page.status();
  Json j;
  j.Object().Key("repositories").Array();
  for (const std::string& name : page->names) {
    const size_t slash = name.find('/');
    j.Object().Field("namespace", name.substr(0, slash)).Field("name", name.substr(slash + 1));
    j.Field("kind", "image").End();
  }
  j.EndArray();
  if (page->more && !page->names.empty()) {
    j.Field("next_page", NextPage(ex, binding, page->names.back()));
  }
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// Body {namespace, repository}; the caller must be able to read it.
Status HandleCreateStar(ApiExchange& ex) {
  auto ns = RequireString(ex.body, "namespace");
  if (!ns.ok()) return ns.status();
  auto name = RequireString(ex.body, "repository");
  if (!name.ok()) return name.status();
  const std::string full = *ns + "/" + *name;
  if (Status may = ex.svc.identity.authorizer()->Check(ex.principal, full, quay::Action::kPull);
      !may.ok()) {
    return may;
  }
  if (Status s = ex.svc.identity.stars().Star(ex.UserName(), full); !s.ok()) return s;
  Json j;
  j.Object().Field("namespace", *ns).Field("repository", *name).End();
  Reply(ex.res, 201, j);
  return Status::Ok();
}

Status HandleDeleteStar(ApiExchange& ex) {
  if (Status s = ex.svc.identity.stars().Unstar(ex.UserName(), ex.Param("repository")); !s.ok()) {
    return s;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

// Autocomplete: users and orgs by prefix; robots of ?namespace= and its
// teams when the caller administers it (Quay shows those to admins only).
Status HandleEntities(ApiExchange& ex) {
  quay::EntityQuery query;
  query.prefix = std::string(ex.Param("prefix"));
  query.include_orgs = !ex.HasQuery("includeOrgs") || ex.QueryFlag("includeOrgs");
  query.include_teams = ex.QueryFlag("includeTeams");
  if (std::string ns = ex.Query("namespace"); !ns.empty()) {
    if (ex.svc.identity.authorizer()
            ->CheckNamespace(ex.principal, ns, quay::NamespaceAction::kMember)
            .ok()) {
      query.namespace_name = ns;
    }
  }
  auto matches = ex.svc.identity.SearchEntities(query);
  if (!matches.ok()) return matches.status();
  Json j;
  j.Object().Key("results").Array();
  for (const quay::EntityMatch& m : *matches) {
    const char* kind = m.kind == quay::EntityMatch::Kind::kUser    ? "user"
                       : m.kind == quay::EntityMatch::Kind::kRobot ? "robot"
                       : m.kind == quay::EntityMatch::Kind::kTeam  ? "team"
                                                                   : "org";
    j.Object();
    WriteEntity(j, m.name, kind);
    j.End();
  }
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleListOrgMembers(ApiExchange& ex) {
  auto members = ex.svc.identity.ListOrganizationMembers(ex.Param("orgname"));
  if (!members.ok()) return members.status();
  Json j;
  j.Object().Key("members").Array();
  for (const quay::OrganizationMember& m : *members) {
    j.Object();
    WriteEntity(j, m.name, "user");
    j.Key("teams").Array();
    for (const std::string& t : m.teams) {
      j.Object().Field("name", t);
      WriteAvatar(j, t, "team");
      j.End();
    }
    j.EndArray().Key("repositories").Array().EndArray().End();
  }
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// Quay's outside collaborators: users in none of the org's teams with direct
// grants on its repositories (one library query).
Status HandleListOrgCollaborators(ApiExchange& ex) {
  auto collaborators = ex.svc.identity.ListOutsideCollaborators(ex.Param("orgname"));
  if (!collaborators.ok()) return collaborators.status();
  Json j;
  j.Object().Key("collaborators").Array();
  for (const quay::OutsideCollaborator& c : *collaborators) {
    j.Object().Field("kind", "user").Field("name", c.name);
    WriteAvatar(j, c.name, "user");
    j.Key("repositories").Array();
    for (const std::string& r : c.repositories) j.Str(r);
    j.EndArray().End();
  }
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleGetOrgMember(ApiExchange& ex) {
  auto members = ex.svc.identity.ListOrganizationMembers(ex.Param("orgname"));
  if (!members.ok()) return members.status();
  for (const quay::OrganizationMember& m : *members) {
    if (m.name != ex.Param("membername")) continue;
    Json j;
    j.Object();
    WriteEntity(j, m.name, "user");
    j.Key("teams").Array();
    for (const std::string& t : m.teams) j.Object().Field("name", t).End();
    j.EndArray().Key("repositories").Array().EndArray().End();
    Reply(ex.res, 200, j);
    return Status::Ok();
  }
  return Status::NotFound(quay::Subject::kNone, "Not Found");
}

Status HandleRemoveOrgMember(ApiExchange& ex) {
  if (Status s = ex.svc.identity.RemoveOrganizationMember(ex.actor(), ex.Param("orgname"),
                                                          ex.Param("membername"));
      !s.ok()) {
    return s;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandleCreateNotification(ApiExchange& ex) {
  quay::NewRepositoryNotification spec;
  auto event = RequireString(ex.body, "event");
  if (!event.ok()) return event.status();
  auto method = RequireString(ex.body, "method");
  if (!method.ok()) return method.status();
  spec.event = *event;
  spec.method = *method;
  spec.config_json = ObjectField(ex.body, "config");
  spec.event_config_json = ObjectField(ex.body, "eventConfig");
  spec.title = OptString(ex.body, "title").value_or("");
  auto created =
      ex.svc.identity.notifications().CreateNotification(ex.actor(), ex.Param("repository"), spec);
  if (!created.ok()) return created.status();
  Json j;
  WriteNotification(j, *created);
  Reply(ex.res, 201, j);
  return Status::Ok();
}

Status HandleListNotifications(ApiExchange& ex) {
  auto list = ex.svc.identity.notifications().ListNotifications(ex.Param("repository"));
  if (!list.ok()) return list.status();
  Json j;
  j.Object().Key("notifications").Array();
  for (const auto& n : *list) WriteNotification(j, n);
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleGetNotification(ApiExchange& ex) {
  auto n =
      ex.svc.identity.notifications().GetNotification(ex.Param("repository"), ex.Param("uuid"));
  if (!n.ok()) return n.status();
  Json j;
  WriteNotification(j, *n);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleDeleteNotification(ApiExchange& ex) {
  if (Status s = ex.svc.identity.notifications().DeleteNotification(
          ex.actor(), ex.Param("repository"), ex.Param("uuid"));
      !s.ok()) {
    return s;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandleResetNotification(ApiExchange& ex) {
  if (Status s = ex.svc.identity.notifications().ResetNotificationFailures(
          ex.actor(), ex.Param("repository"), ex.Param("uuid"));
      !s.ok()) {
    return s;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

Status HandleTestNotification(ApiExchange& ex) {
  if (Status s = ex.svc.identity.notifications().TestNotification(ex.Param("repository"),
                                                                  ex.Param("uuid"));
      !s.ok()) {
    return s;
  }
  Json j;
  j.Object().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

}  // namespace quayd
