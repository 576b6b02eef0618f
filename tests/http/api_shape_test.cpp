// The JSON shapes of /api/v1 answers: the field names and types Quay's
// clients (the UI, quay-api SDKs, Terraform providers) read. Each test reads
// one area through the API, as its owner, on the acme world.
#include <doctest/doctest.h>

#include <initializer_list>
#include <utility>

#include "api_fixture.h"

using namespace quayd::apitest;

namespace {

enum class T { kStr, kBool, kInt, kObj, kArr, kStrOrNull };

bool Is(const rapidjson::Value& v, T t) {
  switch (t) {
    case T::kStr:
      return v.IsString();
    case T::kBool:
      return v.IsBool();
    case T::kInt:
      return v.IsInt64() || v.IsUint64();
    case T::kObj:
      return v.IsObject();
    case T::kArr:
      return v.IsArray();
    case T::kStrOrNull:
      return v.IsString() || v.IsNull();
  }
  return false;
}

const char* Name(T t) {
  switch (t) {
    case T::kStr:
      return "string";
    case T::kBool:
      return "bool";
    case T::kInt:
      return "integer";
    case T::kObj:
      return "object";
    case T::kArr:
      return "array";
    case T::kStrOrNull:
      return "string or null";
  }
  return "?";
}

void Fields(const rapidjson::Value& v, std::initializer_list<std::pair<const char*, T>> fields,
            std::string_view where) {
  REQUIRE_MESSAGE(v.IsObject(), where << " is not an object");
  for (const auto& [name, type] : fields) {
    const auto it = v.FindMember(name);
    CHECK_MESSAGE(it != v.MemberEnd(), where << " lacks \"" << name << "\"");
    if (it != v.MemberEnd()) {
      CHECK_MESSAGE(Is(it->value, type), where << "." << name << " is not a " << Name(type));
    }
  }
}

void Avatar(const rapidjson::Value& v, std::string_view where) {
  REQUIRE(v.HasMember("avatar"));
  Fields(v["avatar"], {{"name", T::kStr}, {"hash", T::kStr}, {"color", T::kStr}, {"kind", T::kStr}},
         std::string(where) + ".avatar");
}

// Parses again (Reply holds a Document, which does not copy).
rapidjson::Document Json(const Reply& r, int status = 200) {
  INFO(r);
  REQUIRE(r.status == status);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  REQUIRE(!d.HasParseError());
  return d;
}

}  // namespace

TEST_CASE(
    "api shape: getRepo has namespace, name, description, is_public, can_write, can_admin, tags") {
  ApiServer s;
  s.PushTag("acme/app", "latest", "one");
  const auto d = Json(s.As(s.Token("wendy"), "GET", "/api/v1/repository/acme/app"));
  Fields(d,
         {{"namespace", T::kStr},
          {"name", T::kStr},
          {"description", T::kStr},
          {"is_public", T::kBool},
          {"can_write", T::kBool},
          {"can_admin", T::kBool},
          {"tags", T::kObj},
          {"kind", T::kStr},
          {"is_organization", T::kBool},
          {"is_starred", T::kBool},
          {"state", T::kStr}},
         "getRepo");
  CHECK(std::string(d["namespace"].GetString()) == "acme");
  CHECK(std::string(d["name"].GetString()) == "app");
  CHECK(std::string(d["description"].GetString()) == "the app");
  CHECK(d["is_public"].GetBool() == false);
  CHECK(d["can_write"].GetBool() == true);   // wendy writes
  CHECK(d["can_admin"].GetBool() == false);  // but does not administer
  CHECK(d["is_organization"].GetBool() == true);
  REQUIRE(d["tags"].HasMember("latest"));
  Fields(d["tags"]["latest"], {{"name", T::kStr}}, "getRepo.tags.latest");

  const auto admin = Json(s.As(s.Token("alice"), "GET", "/api/v1/repository/acme/app"));
  CHECK(admin["can_admin"].GetBool() == true);
  CHECK(s.As(s.Token("alice"), "GET", "/api/v1/repository/acme/nothing").status == 404);
}

TEST_CASE(
    "api shape: listRepos has repositories[] rows; namespace, starred or public is required") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  const auto d = Json(s.As(alice, "GET", "/api/v1/repository?namespace=acme"));
  REQUIRE(d.HasMember("repositories"));
  REQUIRE(d["repositories"].IsArray());
  REQUIRE(d["repositories"].Size() == 1);
  Fields(d["repositories"][0],
         {{"namespace", T::kStr},
          {"name", T::kStr},
          {"description", T::kStrOrNull},
          {"is_public", T::kBool},
          {"kind", T::kStr}},
         "listRepos.repositories[0]");
  CHECK(!d.HasMember("next_page"));  // one page only
  CHECK(s.As(alice, "GET", "/api/v1/repository").status == 400);
  // Anonymous callers see public repositories only (Quay: whenever anonymous
  // access is on; FEATURE_PUBLIC_CATALOG is about /v2/_catalog).
  const auto none = Json(s.As("", "GET", "/api/v1/repository?namespace=acme"));
  CHECK(none["repositories"].Size() == 0);
  REQUIRE(
      s.id()
          .CreateRepository(ApiServer::ActorFor("alice"), "acme/pub", quay::Visibility::kPublic, "")
          .ok());
  const auto anon = Json(s.As("", "GET", "/api/v1/repository?namespace=acme"));
  REQUIRE(anon["repositories"].Size() == 1);
  CHECK(std::string(anon["repositories"][0]["name"].GetString()) == "pub");
  const auto pub = Json(s.As("", "GET", "/api/v1/repository?public=true"));
  CHECK(pub["repositories"].Size() == 1);
}

TEST_CASE("api shape: robots (user and org), created with their token once") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  const auto list = Json(s.As(alice, "GET", "/api/v1/organization/acme/robots"));
  REQUIRE(list.HasMember("robots"));
  REQUIRE(list["robots"].IsArray());
  REQUIRE(list["robots"].Size() == 1);
  Fields(list["robots"][0],
         {{"name", T::kStr},
          {"description", T::kStr},
          {"created", T::kStr},
          {"last_accessed", T::kStrOrNull},
          {"unstructured_metadata", T::kObj}},
         "getOrgRobots.robots[0]");
  CHECK(std::string(list["robots"][0]["name"].GetString()) == "acme+bot");
  const auto one = Json(s.As(alice, "GET", "/api/v1/organization/acme/robots/bot"));
  CHECK(std::string(one["name"].GetString()) == "acme+bot");
  CHECK(!one.HasMember("token"));
  CHECK(s.As(alice, "GET", "/api/v1/organization/acme/robots/nobody").status == 404);

  const std::string bob = s.Token("bob");
  const auto made =
      Json(s.As(bob, "PUT", "/api/v1/user/robots/builder", R"({"description":"b"})"), 201);
  Fields(made, {{"name", T::kStr}, {"token", T::kStr}, {"description", T::kStr}},
         "createUserRobot");
  CHECK(std::string(made["name"].GetString()) == "bob+builder");
  const auto mine = Json(s.As(bob, "GET", "/api/v1/user/robots"));
  REQUIRE(mine["robots"].Size() == 1);
  CHECK(std::string(mine["robots"][0]["name"].GetString()) == "bob+builder");
  const auto got = Json(s.As(bob, "GET", "/api/v1/user/robots/builder"));
  CHECK(std::string(got["description"].GetString()) == "b");
  CHECK(!got.HasMember("token"));
  // Creating it again is a 400, as in Quay.
  CHECK(s.As(bob, "PUT", "/api/v1/user/robots/builder", "{}").status == 400);
}

TEST_CASE("api shape: organization views, teams and members") {
  ApiServer s;
  const auto admin = Json(s.As(s.Token("alice"), "GET", "/api/v1/organization/acme"));
  Fields(admin,
         {{"name", T::kStr},
          {"is_admin", T::kBool},
          {"is_member", T::kBool},
          {"teams", T::kObj},
          {"ordered_teams", T::kArr},
          {"email", T::kStr}},
         "getOrganization(admin)");
  Avatar(admin, "getOrganization");
  CHECK(admin["is_admin"].GetBool());
  REQUIRE(admin["teams"].HasMember("ci"));
  Fields(admin["teams"]["ci"],
         {{"name", T::kStr},
          {"role", T::kStr},
          {"member_count", T::kInt},
          {"can_view", T::kBool},
          {"description", T::kStr}},
         "getOrganization.teams.ci");
  CHECK(std::string(admin["teams"]["ci"]["role"].GetString()) == "member");

  const auto member = Json(s.As(s.Token("mike"), "GET", "/api/v1/organization/acme"));
  CHECK(!member["is_admin"].GetBool());
  CHECK(member["is_member"].GetBool());
  CHECK(!member.HasMember("email"));  // admins only
  const auto stranger = Json(s.As("", "GET", "/api/v1/organization/acme"));
  CHECK(!stranger.HasMember("teams"));
  CHECK(!stranger.HasMember("email"));

  const auto members =
      Json(s.As(s.Token("mike"), "GET", "/api/v1/organization/acme/team/ci/members"));
  Fields(members, {{"name", T::kStr}, {"members", T::kArr}, {"can_edit", T::kBool}},
         "getOrganizationTeamMembers");
  REQUIRE(members["members"].Size() == 1);
  Fields(members["members"][0],
         {{"name", T::kStr}, {"kind", T::kStr}, {"is_robot", T::kBool}, {"invited", T::kBool}},
         "getOrganizationTeamMembers.members[0]");
  CHECK(std::string(members["members"][0]["name"].GetString()) == "mike");
  CHECK(!members["can_edit"].GetBool());
}

TEST_CASE("api shape: prototypes list delegate, role, id") {
  ApiServer s;
  const auto d = Json(s.As(s.Token("alice"), "GET", "/api/v1/organization/acme/prototypes"));
  REQUIRE(d.HasMember("prototypes"));
  REQUIRE(d["prototypes"].Size() == 1);
  const auto& p = d["prototypes"][0];
  Fields(p, {{"id", T::kStr}, {"role", T::kStr}, {"delegate", T::kObj}}, "prototypes[0]");
  Fields(p["delegate"], {{"name", T::kStr}, {"kind", T::kStr}, {"is_robot", T::kBool}},
         "prototypes[0].delegate");
  CHECK(std::string(p["id"].GetString()) == s.prototype_id());
  CHECK(std::string(p["delegate"]["name"].GetString()) == "bob");
  CHECK(std::string(p["role"].GetString()) == "read");
}

TEST_CASE("api shape: repository permissions of users, robots and teams") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  REQUIRE(
      s.As(alice, "PUT", "/api/v1/repository/acme/app/permissions/team/ci", R"({"role":"write"})")
          .status == 200);
  const auto users = Json(s.As(alice, "GET", "/api/v1/repository/acme/app/permissions/user/"));
  REQUIRE(users.HasMember("permissions"));
  REQUIRE(users["permissions"].IsObject());
  for (const char* name : {"rita", "wendy", "adam", "acme+bot"}) {
    REQUIRE_MESSAGE(users["permissions"].HasMember(name), name);
    Fields(users["permissions"][name],
           {{"role", T::kStr}, {"name", T::kStr}, {"is_robot", T::kBool}},
           std::string("permissions.") + name);
    Avatar(users["permissions"][name], name);
  }
  CHECK(users["permissions"]["acme+bot"]["is_robot"].GetBool());
  CHECK(std::string(users["permissions"]["wendy"]["role"].GetString()) == "write");
  CHECK(!users["permissions"].HasMember("ci"));

  const auto teams = Json(s.As(alice, "GET", "/api/v1/repository/acme/app/permissions/team/"));
  REQUIRE(teams["permissions"].HasMember("ci"));
  CHECK(std::string(teams["permissions"]["ci"]["role"].GetString()) == "write");

  const auto one = Json(s.As(alice, "GET", "/api/v1/repository/acme/app/permissions/user/rita"));
  Fields(one, {{"role", T::kStr}, {"name", T::kStr}}, "getUserPermissions");
  CHECK(std::string(one["role"].GetString()) == "read");
  const auto team = Json(s.As(alice, "GET", "/api/v1/repository/acme/app/permissions/team/ci"));
  CHECK(std::string(team["role"].GetString()) == "write");
  CHECK(s.As(alice, "GET", "/api/v1/repository/acme/app/permissions/user/bob").status == 404);
  CHECK(
      s.As(alice, "PUT", "/api/v1/repository/acme/app/permissions/user/bob", R"({"role":"owner"})")
          .status == 400);
}

TEST_CASE("api shape: log rows have kind, metadata, datetime, performer; aggregates count kinds") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  REQUIRE(s.As(alice, "PUT", "/api/v1/repository/acme/app", R"({"description":"logged"})").status ==
          200);
  auto check_logs = [&](const std::string& path, const std::string& token) {
    const auto d = Json(s.As(token, "GET", path));
    Fields(d, {{"logs", T::kArr}, {"start_time", T::kStr}, {"end_time", T::kStr}}, path);
    bool found = false;
    for (const auto& row : d["logs"].GetArray()) {
      Fields(row, {{"kind", T::kStr}, {"metadata", T::kObj}, {"datetime", T::kStr}}, path + " row");
      if (std::string(row["kind"].GetString()) == "set_repo_description") {
        found = true;
        REQUIRE(row.HasMember("performer"));
        Fields(row["performer"], {{"name", T::kStr}, {"kind", T::kStr}, {"is_robot", T::kBool}},
               path + " performer");
        CHECK(std::string(row["performer"]["name"].GetString()) == "alice");
        CHECK(std::string(row["metadata"]["description"].GetString()) == "logged");
        REQUIRE(row.HasMember("namespace"));
        Fields(row["namespace"], {{"name", T::kStr}, {"kind", T::kStr}}, path + " namespace");
        CHECK(std::string(row["namespace"]["name"].GetString()) == "acme");
        CHECK(std::string(row["namespace"]["kind"].GetString()) == "org");
      }
    }
    CHECK_MESSAGE(found, path << " lacks the set_repo_description row");
  };
  check_logs("/api/v1/repository/acme/app/logs", alice);
  check_logs("/api/v1/organization/acme/logs", alice);
  check_logs("/api/v1/superuser/logs", s.Token("sue"));

  auto check_aggregate = [&](const std::string& path, const std::string& token) {
    const auto d = Json(s.As(token, "GET", path));
    REQUIRE_MESSAGE(d.HasMember("aggregated"), path);
    bool found = false;
    for (const auto& row : d["aggregated"].GetArray()) {
      Fields(row, {{"kind", T::kStr}, {"count", T::kInt}, {"datetime", T::kStr}}, path + " row");
      if (std::string(row["kind"].GetString()) == "set_repo_description") {
        found = true;
        CHECK(row["count"].GetInt64() == 1);
      }
    }
    CHECK_MESSAGE(found, path);
  };
  check_aggregate("/api/v1/repository/acme/app/aggregatelogs", alice);
  check_aggregate("/api/v1/organization/acme/aggregatelogs", alice);
  check_aggregate("/api/v1/superuser/aggregatelogs", s.Token("sue"));

  // A user's own namespace: bob creates a robot in it.
  const std::string bob = s.Token("bob");
  REQUIRE(s.As(bob, "PUT", "/api/v1/user/robots/r1", "{}").status == 201);
  const auto user_logs = Json(s.As(bob, "GET", "/api/v1/user/logs"));
  bool robot_row = false;
  for (const auto& row : user_logs["logs"].GetArray()) {
    robot_row = robot_row || std::string(row["kind"].GetString()) == "create_robot";
  }
  CHECK(robot_row);
  const auto user_agg = Json(s.As(bob, "GET", "/api/v1/user/aggregatelogs"));
  CHECK(user_agg["aggregated"].Size() >= 1);
  CHECK(s.As(bob, "GET", "/api/v1/user/logs?starttime=garbage").status == 400);
}

TEST_CASE("api shape: superuser users list, one user, changes") {
  ApiServer s;
  const std::string sue = s.Token("sue");
  const auto d = Json(s.As(sue, "GET", "/api/v1/superuser/users/"));
  REQUIRE(d.HasMember("users"));
  REQUIRE(d["users"].IsArray());
  CHECK(d["users"].Size() == 10);
  bool saw_sue = false, saw_rosa = false;
  for (const auto& u : d["users"].GetArray()) {
    Fields(u,
           {{"username", T::kStr},
            {"email", T::kStr},
            {"kind", T::kStr},
            {"enabled", T::kBool},
            {"super_user", T::kBool},
            {"verified", T::kBool}},
           "listAllUsers.users[]");
    const std::string name = u["username"].GetString();
    if (name == "sue") saw_sue = u["super_user"].GetBool();
    if (name == "rosa") saw_rosa = u["global_readonly_super_user"].GetBool();
  }
  CHECK(saw_sue);
  CHECK(saw_rosa);
  const auto bob = Json(s.As(sue, "GET", "/api/v1/superuser/users/bob"));
  CHECK(std::string(bob["username"].GetString()) == "bob");
  CHECK(bob["enabled"].GetBool());
  const auto disabled =
      Json(s.As(sue, "PUT", "/api/v1/superuser/users/bob", R"({"enabled":false})"));
  CHECK(!disabled["enabled"].GetBool());
  const auto only_disabled = Json(s.As(sue, "GET", "/api/v1/superuser/users/?disabled=true"));
  REQUIRE(only_disabled["users"].Size() == 1);
  CHECK(std::string(only_disabled["users"][0]["username"].GetString()) == "bob");
  // A superuser cannot be changed or deleted through the panel by another one.
  CHECK(s.As(sue, "DELETE", "/api/v1/superuser/users/rosa").status == 403);
  CHECK(s.As(sue, "GET", "/api/v1/superuser/users/nobody").status == 404);
}

TEST_CASE("api shape: the signed-in user, public user information, capabilities") {
  ApiServer s;
  const auto me = Json(s.As(s.Token("bob"), "GET", "/api/v1/user/"));
  Fields(me,
         {{"anonymous", T::kBool},
          {"username", T::kStr},
          {"email", T::kStr},
          {"verified", T::kBool},
          {"super_user", T::kBool},
          {"organizations", T::kArr},
          {"can_create_repo", T::kBool}},
         "getLoggedInUser");
  CHECK(std::string(me["username"].GetString()) == "bob");
  CHECK(!me["super_user"].GetBool());
  const auto anon = Json(s.As("", "GET", "/api/v1/user/"));
  CHECK(anon["anonymous"].GetBool());
  const auto su = Json(s.As(s.Token("sue"), "GET", "/api/v1/user/"));
  CHECK(su["super_user"].GetBool());

  const auto info = Json(s.As("", "GET", "/api/v1/users/bob"));
  Fields(info, {{"username", T::kStr}, {"kind", T::kStr}, {"is_robot", T::kBool}},
         "getUserInformation");
  Avatar(info, "getUserInformation");
  CHECK(!info.HasMember("email"));  // public view
  CHECK(s.As("", "GET", "/api/v1/users/nobody").status == 404);

  const auto caps = Json(s.As("", "GET", "/api/v1/registry/capabilities"));
  REQUIRE(caps.HasMember("sparse_manifests"));
  Fields(caps["sparse_manifests"], {{"supported", T::kBool}}, "capabilities.sparse_manifests");
}

TEST_CASE("api shape: app-specific tokens show token_code only when created") {
  ApiServer s;
  const std::string bob = s.Token("bob");
  const auto made = Json(s.As(bob, "POST", "/api/v1/user/apptoken", R"({"title":"ci"})"));
  REQUIRE(made.HasMember("token"));
  Fields(made["token"],
         {{"uuid", T::kStr},
          {"title", T::kStr},
          {"created", T::kStr},
          {"token_code", T::kStr},
          {"expiration", T::kStrOrNull},
          {"last_accessed", T::kStrOrNull}},
         "createAppToken.token");
  const std::string uuid = made["token"]["uuid"].GetString();
  const auto list = Json(s.As(bob, "GET", "/api/v1/user/apptoken"));
  REQUIRE(list["tokens"].Size() == 1);
  CHECK(!list["tokens"][0].HasMember("token_code"));
  const auto one = Json(s.As(bob, "GET", "/api/v1/user/apptoken/" + uuid));
  CHECK(std::string(one["token"]["title"].GetString()) == "ci");
  // Another user's token is not found for them.
  CHECK(s.As(s.Token("eve"), "GET", "/api/v1/user/apptoken/" + uuid).status == 404);
  CHECK(s.As(bob, "DELETE", "/api/v1/user/apptoken/" + uuid).status == 204);
  CHECK(s.As(bob, "GET", "/api/v1/user/apptoken/" + uuid).status == 404);
}

TEST_CASE("api shape: createInitialUser bootstraps an empty registry only") {
  ServerSpec spec;
  spec.world = false;
  ApiServer s(spec);
  const auto d = Json(s.As("", "POST", "/api/v1/user/initialize",
                           R"({"username":"first","password":"S3cret-Pa55word!",)"
                           R"("email":"first@example.com","access_token":true})"));
  Fields(d, {{"username", T::kStr}, {"email", T::kStr}, {"access_token", T::kStr}},
         "createInitialUser");
  // The token works on the API.
  const auto me = Json(s.As(d["access_token"].GetString(), "GET", "/api/v1/user/"));
  CHECK(std::string(me["username"].GetString()) == "first");
  CHECK(s.As("", "POST", "/api/v1/user/initialize",
             R"({"username":"second","password":"S3cret-Pa55word!"})")
            .status == 400);
}
