// Functional tests of the rows that closed the core gaps of Quay's
// inventory: the fresh-login re-verification (signin/verify), repository and
// global search (find/repositories, find/all), outside collaborators, global
// messages, and the superuser panel's registry size and status, ownership,
// organization rename and app-token audit. Each asserts Quay's shape, who
// sees what, and the audit kind of mutations.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "api_fixture.h"

using namespace quayd::apitest;

namespace {

rapidjson::Document Body(const Reply& r, int status) {
  INFO(r);
  CHECK(r.status == status);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  return d;
}

std::string CookiePair(const std::string& set_cookie) {
  return set_cookie.substr(0, set_cookie.find(';'));
}

std::set<std::string> Names(const rapidjson::Value& results, const char* key = "name") {
  std::set<std::string> out;
  for (const auto& r : results.GetArray()) out.insert(r[key].GetString());
  return out;
}

}  // namespace

TEST_CASE("api signin/verify: the password renews a stale session; a wrong one is 403") {
  auto clock = std::make_shared<quay::ManualClock>();
  ServerSpec spec;
  spec.clock = clock;
  ApiServer s(spec);
  const Reply signin = s.Call("POST", "/api/v1/signin",
                              R"({"username":"bob","password":")" + std::string(kPassword) + "\"}");
  REQUIRE(signin.status == 200);
  const std::string cookie = CookiePair(signin.Header("Set-Cookie"));
  const std::string csrf = signin.Header("X-Next-CSRF-Token");
  const httplib::Headers session{{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
  clock->Advance(std::chrono::minutes(11));
  CHECK(s.Call("POST", "/api/v1/user/apptoken", R"({"title":"x"})", session).status == 401);

  const Reply wrong =
      s.Call("POST", "/api/v1/signin/verify", R"({"password":"not-the-password"})", session);
  INFO(wrong);
  CHECK(wrong.status == 403);
  CHECK(wrong.json["invalidCredentials"].IsTrue());
  CHECK(wrong.Header("Set-Cookie").empty());
  CHECK(s.Call("POST", "/api/v1/signin/verify", "{}", session).status == 400);
  // Without credentials: 401, as every user route.
  CHECK(s.Call("POST", "/api/v1/signin/verify", R"({"password":")" + std::string(kPassword) + "\"}")
            .status == 401);

  const Reply ok = s.Call("POST", "/api/v1/signin/verify",
                          R"({"password":")" + std::string(kPassword) + "\"}", session);
  INFO(ok);
  REQUIRE(ok.status == 200);
  CHECK(ok.json["success"].IsTrue());
  const std::string renewed = CookiePair(ok.Header("Set-Cookie"));
  REQUIRE(renewed.starts_with("quay_session="));
  const httplib::Headers fresh{{"Cookie", renewed},
                               {"X-CSRF-Token", ok.Header("X-Next-CSRF-Token")}};
  CHECK(s.Call("POST", "/api/v1/user/apptoken", R"({"title":"y"})", fresh).status == 200);
}

TEST_CASE("api find/repositories: Quay's page shape, only what the caller may see") {
  ApiServer s;
  const quay::Actor alice = ApiServer::ActorFor("alice");
  // (the world's prototype would grant bob read on acme's new repositories)
  REQUIRE(s.id().DeletePrototype(alice, "acme", s.prototype_id()).ok());
  REQUIRE(
      s.id()
          .CreateRepository(alice, "acme/public-tool", quay::Visibility::kPublic, "a shared helper")
          .ok());
  REQUIRE(s.id().CreateRepository(alice, "acme/secret-tool", quay::Visibility::kPrivate, "").ok());
  REQUIRE(s.id()
              .CreateRepository(ApiServer::ActorFor("bob"), "bob/toolbox",
                                quay::Visibility::kPrivate, "bob's")
              .ok());

  // Anonymous: public ones only.
  auto anonymous = Body(s.As("", "GET", "/api/v1/find/repositories?query=tool"), 200);
  REQUIRE(anonymous["results"].IsArray());
  CHECK(Names(anonymous["results"]) == std::set<std::string>{"public-tool"});
  CHECK(anonymous["has_additional"].IsFalse());
  CHECK(anonymous["page"].GetInt() == 1);
  CHECK(anonymous["page_size"].GetInt() == 10);
  CHECK(anonymous["start_index"].GetInt() == 0);
  const auto& first = anonymous["results"][0];
  CHECK(std::string(first["kind"].GetString()) == "repository");
  CHECK(std::string(first["title"].GetString()) == "repo");
  CHECK(std::string(first["href"].GetString()) == "/repository/acme/public-tool");
  CHECK(first["is_public"].IsTrue());
  CHECK(first["score"].GetDouble() == 4.0);
  CHECK(std::string(first["namespace"]["kind"].GetString()) == "organization");
  CHECK(std::string(first["namespace"]["name"].GetString()) == "acme");
  CHECK(std::string(first["namespace"]["href"].GetString()) == "/organization/acme");

  // alice (org admin) sees acme's private one; not bob's.
  auto admin = Body(s.As(s.Token("alice"), "GET", "/api/v1/find/repositories?query=tool"), 200);
  CHECK(Names(admin["results"]) == std::set<std::string>{"public-tool", "secret-tool"});
  // bob sees his own and the public one; the description matches too.
  auto bob = Body(s.As(s.Token("bob"), "GET", "/api/v1/find/repositories?query=TOOL"), 200);
  CHECK(Names(bob["results"]) == std::set<std::string>{"public-tool", "toolbox"});
  CHECK(std::string(bob["results"][1]["namespace"]["kind"].GetString()) == "user");
  auto by_description =
      Body(s.As(s.Token("bob"), "GET", "/api/v1/find/repositories?query=shared"), 200);
  CHECK(Names(by_description["results"]) == std::set<std::string>{"public-tool"});
  // "namespace/text" narrows to the namespace; includeUsage adds stars.
  auto scoped = Body(
      s.As(s.Token("alice"), "GET", "/api/v1/find/repositories?query=acme/se&includeUsage=true"),
      200);
  CHECK(Names(scoped["results"]) == std::set<std::string>{"secret-tool"});
  CHECK(scoped["results"][0]["stars"].GetInt() == 0);
  CHECK(scoped["results"][0].HasMember("last_modified"));
  // A '%' is a character, not a wildcard.
  CHECK(Body(s.As("", "GET", "/api/v1/find/repositories?query=%25"), 200)["results"].Size() == 0);
}

TEST_CASE("api find/repositories: pages of ten by page number and by next_page") {
  ApiServer s;
  const quay::Actor alice = ApiServer::ActorFor("alice");
  for (int i = 0; i < 23; ++i) {
    const std::string name = "acme/many" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    REQUIRE(s.id().CreateRepository(alice, name, quay::Visibility::kPublic, "").ok());
  }
  const std::string bob = s.Token("bob");
  auto p1 = Body(s.As(bob, "GET", "/api/v1/find/repositories?query=many"), 200);
  CHECK(p1["results"].Size() == 10);
  CHECK(p1["has_additional"].IsTrue());
  CHECK(std::string(p1["results"][0]["name"].GetString()) == "many00");
  auto p3 = Body(s.As(bob, "GET", "/api/v1/find/repositories?query=many&page=3"), 200);
  CHECK(p3["results"].Size() == 3);
  CHECK(p3["has_additional"].IsFalse());
  CHECK(p3["page"].GetInt() == 3);
  CHECK(p3["start_index"].GetInt() == 20);
  CHECK(std::string(p3["results"][0]["name"].GetString()) == "many20");
  // Quay caps the page number at 10 and floors it at 1.
  CHECK(
      Body(s.As(bob, "GET", "/api/v1/find/repositories?query=many&page=0"), 200)["page"].GetInt() ==
      1);
  CHECK(Body(s.As(bob, "GET", "/api/v1/find/repositories?query=many&page=99"), 200)["page"]
            .GetInt() == 10);
  CHECK(s.As(bob, "GET", "/api/v1/find/repositories?query=many&page=x").status == 400);
  // next_page continues by keyset, bound to the caller and the query.
  REQUIRE(p1.HasMember("next_page"));
  const std::string token = p1["next_page"].GetString();
  auto p2 = Body(s.As(bob, "GET", "/api/v1/find/repositories?query=many&next_page=" + token), 200);
  CHECK(p2["page"].GetInt() == 2);
  CHECK(p2["results"].Size() == 10);
  CHECK(std::string(p2["results"][0]["name"].GetString()) == "many10");
  CHECK(s.As(s.Token("alice"), "GET", "/api/v1/find/repositories?query=many&next_page=" + token)
            .status == 400);
  CHECK(s.As(bob, "GET", "/api/v1/find/repositories?query=other&next_page=" + token).status == 400);
}

TEST_CASE("api find/all: repositories, namespaces and own robots, best score first") {
  ApiServer s;
  REQUIRE(s.id()
              .CreateRepository(ApiServer::ActorFor("bob"), "bob/acmetool",
                                quay::Visibility::kPrivate, "")
              .ok());
  REQUIRE(s.id().CreateRobot(ApiServer::ActorFor("bob"), "bob", "acmebot", "").ok());
  auto empty = Body(s.As(s.Token("bob"), "GET", "/api/v1/find/all"), 200);
  CHECK(empty["results"].Size() == 0);

  auto found = Body(s.As(s.Token("bob"), "GET", "/api/v1/find/all?query=acme"), 200);
  REQUIRE(found["results"].IsArray());
  std::set<std::string> kinds;
  double previous = 1e9;
  for (const auto& r : found["results"].GetArray()) {
    kinds.insert(r["kind"].GetString());
    CHECK(r["score"].GetDouble() <= previous);
    previous = r["score"].GetDouble();
    CHECK(r.HasMember("href"));
  }
  CHECK(kinds == std::set<std::string>{"repository", "organization", "robot"});
  CHECK(std::string(found["results"][0]["kind"].GetString()) == "repository");
  // acme/app is private and bob has no grant: not found; the robot is his.
  const std::set<std::string> names = Names(found["results"]);
  CHECK(names.contains("acmetool"));
  CHECK(!names.contains("app"));
  CHECK(names.contains("bob+acmebot"));
  CHECK(names.contains("acme"));
  // Anonymous callers find public repositories and namespaces only.
  auto anonymous = Body(s.As("", "GET", "/api/v1/find/all?query=acme"), 200);
  CHECK(Names(anonymous["results"]) == std::set<std::string>{"acme"});
}

TEST_CASE("api collaborators: direct grants of non-members, one entry per user") {
  ApiServer s;
  const quay::Actor alice = ApiServer::ActorFor("alice");
  REQUIRE(s.id().CreateRepository(alice, "acme/lib", quay::Visibility::kPrivate, "").ok());
  REQUIRE(s.id()
              .SetPermission(alice, "acme/lib", quay::Grantee::User("rita"),
                             quay::RepositoryRole::kWrite)
              .ok());
  // mike is a member (team ci): a direct grant does not make him an outsider.
  REQUIRE(s.id()
              .SetPermission(alice, "acme/lib", quay::Grantee::User("mike"),
                             quay::RepositoryRole::kRead)
              .ok());
  auto list = Body(s.As(s.Token("alice"), "GET", "/api/v1/organization/acme/collaborators"), 200);
  REQUIRE(list["collaborators"].IsArray());
  // adam, rita, wendy hold grants on acme/app, bob on acme/lib (the world's
  // prototype); alice's creator grant is a member's; the robot acme+bot is
  // no collaborator.
  CHECK(Names(list["collaborators"]) == std::set<std::string>{"adam", "bob", "rita", "wendy"});
  for (const auto& c : list["collaborators"].GetArray()) {
    CHECK(std::string(c["kind"].GetString()) == "user");
    CHECK(c["avatar"].IsObject());
    if (std::string(c["name"].GetString()) == "rita") {
      REQUIRE(c["repositories"].Size() == 2);
      CHECK(std::string(c["repositories"][0].GetString()) == "app");
      CHECK(std::string(c["repositories"][1].GetString()) == "lib");
    }
  }
  CHECK(s.As(s.Token("mike"), "GET", "/api/v1/organization/acme/collaborators").status == 403);
  CHECK(s.As(s.Token("rosa"), "GET", "/api/v1/organization/acme/collaborators").status == 200);
}

TEST_CASE("api messages: anyone reads, superusers post and delete") {
  ApiServer s;
  const std::string sue = s.Token("sue");
  CHECK(Body(s.As("", "GET", "/api/v1/messages"), 200)["messages"].Size() == 0);
  const std::string message =
      R"({"message":{"content":"maintenance at noon","media_type":"text/markdown","severity":"warning"}})";
  const Reply created = s.As(sue, "POST", "/api/v1/messages", message);
  INFO(created);
  CHECK(created.status == 201);
  CHECK(created.body.empty());
  CHECK(s.As(s.Token("bob"), "POST", "/api/v1/messages", message).status == 403);
  CHECK(s.As(s.Token("rosa"), "POST", "/api/v1/messages", message).status == 403);
  CHECK(s.As("", "POST", "/api/v1/messages", message).status == 401);
  CHECK(s.As(sue, "POST", "/api/v1/messages",
             R"({"message":{"content":"x","media_type":"text/html","severity":"info"}})")
            .status == 400);
  CHECK(s.As(sue, "POST", "/api/v1/messages",
             R"({"message":{"content":"x","media_type":"text/plain","severity":"fatal"}})")
            .status == 400);
  CHECK(s.As(sue, "POST", "/api/v1/messages", R"({"content":"x"})").status == 400);

  auto list = Body(s.As("", "GET", "/api/v1/messages"), 200);
  REQUIRE(list["messages"].Size() == 1);
  const auto& m = list["messages"][0];
  CHECK(std::string(m["content"].GetString()) == "maintenance at noon");
  CHECK(std::string(m["media_type"].GetString()) == "text/markdown");
  CHECK(std::string(m["severity"].GetString()) == "warning");
  const std::string uuid = m["uuid"].GetString();
  CHECK(s.As(s.Token("bob"), "DELETE", "/api/v1/message/" + uuid).status == 403);
  CHECK(s.As(sue, "DELETE", "/api/v1/message/" + uuid).status == 204);
  CHECK(Body(s.As("", "GET", "/api/v1/messages"), 200)["messages"].Size() == 0);
  // Deleting what is gone is 204, as Quay.
  CHECK(s.As(sue, "DELETE", "/api/v1/message/" + uuid).status == 204);
}

TEST_CASE("api superuser: registry size and status, queueing the size") {
  ApiServer s;
  s.PushTag("acme/app", "v1", "sized");
  const std::string sue = s.Token("sue");
  auto size = Body(s.As(sue, "GET", "/api/v1/superuser/registrysize/"), 200);
  CHECK(size["size_bytes"].GetInt64() > 0);
  CHECK(size["running"].IsFalse());
  CHECK(size["queued"].IsFalse());
  CHECK(size["last_ran"].IsInt64());
  CHECK(s.As(s.Token("rosa"), "GET", "/api/v1/superuser/registrysize/").status == 200);
  CHECK(s.As(s.Token("bob"), "GET", "/api/v1/superuser/registrysize/").status == 403);
  CHECK(s.As(sue, "POST", "/api/v1/superuser/registrysize/").status == 201);
  CHECK(s.As(s.Token("rosa"), "POST", "/api/v1/superuser/registrysize/").status == 403);
  auto status = Body(s.As("", "GET", "/api/v1/superuser/registrystatus"), 200);
  CHECK(std::string(status["status"].GetString()) == "ready");
  CHECK(std::string(status["provider_id"].GetString()) == "file");
}

TEST_CASE("api superuser: take ownership of an organization and of a user") {
  ApiServer s;
  const std::string sue = s.Token("sue");
  const Reply org = s.As(sue, "POST", "/api/v1/superuser/takeownership/acme");
  INFO(org);
  CHECK(org.status == 200);
  CHECK(org.Str("namespace") == "acme");
  CHECK(s.As(sue, "GET", "/api/v1/organization/acme/members/sue").status == 200);
  const std::vector<quay::AuditEvent> rows = s.AuditRows("take_ownership");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].performer == "sue");
  CHECK(rows[0].metadata.find("\"was_user\":false") != std::string::npos);
  CHECK(rows[0].metadata.find("\"namespace\":\"acme\"") != std::string::npos);

  // A user becomes an organization with sue in its owners team; its password
  // and tokens stop working.
  const std::string eve = s.Token("eve");
  REQUIRE(
      s.id()
          .CreateRepository(ApiServer::ActorFor("eve"), "eve/notes", quay::Visibility::kPrivate, "")
          .ok());
  CHECK(s.As(sue, "POST", "/api/v1/superuser/takeownership/eve").status == 200);
  CHECK(s.id().GetOrganization("eve").ok());
  CHECK(!s.id().AuthenticateUser("eve", kPassword).ok());
  CHECK(s.As(eve, "GET", "/api/v1/user/").status == 401);
  CHECK(s.As(sue, "GET", "/api/v1/repository/eve/notes").status == 200);
  CHECK(s.AuditRows("take_ownership").front().metadata.find("\"was_user\":true") !=
        std::string::npos);

  CHECK(s.As(sue, "POST", "/api/v1/superuser/takeownership/nobody").status == 404);
  CHECK(s.As(sue, "POST", "/api/v1/superuser/takeownership/rosa").status == 400);  // a superuser
  CHECK(s.As(s.Token("alice"), "POST", "/api/v1/superuser/takeownership/acme").status == 403);
}

TEST_CASE("api superuser: changeOrganization renames the org, its robots and repositories") {
  ApiServer s;
  const std::string sue = s.Token("sue");
  s.PushTag("acme/app", "v1", "renamed");
  const Reply renamed =
      s.As(sue, "PUT", "/api/v1/superuser/organizations/acme", R"({"name":"acmecorp"})");
  INFO(renamed);
  REQUIRE(renamed.status == 200);
  CHECK(renamed.Str("name") == "acmecorp");
  CHECK(renamed.Str("email") == "acme@example.com");
  CHECK(renamed.json["avatar"].IsObject());
  const std::vector<quay::AuditEvent> rows = s.AuditRows("org_change_name");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].metadata.find("\"old_name\":\"acme\"") != std::string::npos);
  CHECK(rows[0].metadata.find("\"new_name\":\"acmecorp\"") != std::string::npos);
  CHECK(rows[0].metadata.find("\"superuser\":\"sue\"") != std::string::npos);

  CHECK(!s.id().GetOrganization("acme").ok());
  const std::string alice = s.Token("alice");
  auto repo = Body(s.As(alice, "GET", "/api/v1/repository/acmecorp/app"), 200);
  CHECK(repo["tags"].HasMember("v1"));
  // The old name is gone (a repository nobody may read: 403, as Quay).
  CHECK(s.As(alice, "GET", "/api/v1/repository/acme/app").status == 403);
  // Grants followed: rita still reads; the robot is acmecorp+bot.
  CHECK(s.As(s.Token("rita"), "GET", "/api/v1/repository/acmecorp/app").status == 200);
  CHECK(s.id().GetRobot("acmecorp+bot").ok());
  CHECK(s.registry().GetManifest("acmecorp/app", "v1").ok());

  CHECK(s.As(sue, "PUT", "/api/v1/superuser/organizations/acmecorp", R"({"name":"bob"})").status ==
        400);  // taken
  CHECK(s.As(sue, "PUT", "/api/v1/superuser/organizations/acmecorp", R"({"name":"Bad Name"})")
            .status == 400);
  CHECK(s.As(sue, "PUT", "/api/v1/superuser/organizations/nosuch", R"({"name":"x1"})").status ==
        404);
  auto email = Body(s.As(sue, "PUT", "/api/v1/superuser/organizations/acmecorp",
                         R"({"email":"ops@example.com"})"),
                    200);
  CHECK(std::string(email["email"].GetString()) == "ops@example.com");
  CHECK(
      s.As(alice, "PUT", "/api/v1/superuser/organizations/acmecorp", R"({"name":"mine"})").status ==
      403);
}

TEST_CASE("api superuser: every app token, no secrets, for auditing superusers only") {
  ServerSpec spec;
  spec.superusers_full_access = true;
  ApiServer s(spec);
  const Reply created =
      s.As(s.Token("bob"), "POST", "/api/v1/user/apptoken", R"({"title":"laptop"})");
  REQUIRE(created.status == 200);
  const std::string secret = created.json["token"]["token_code"].GetString();
  auto list = Body(s.As(s.Token("sue"), "GET", "/api/v1/superuser/apptokens"), 200);
  REQUIRE(list["tokens"].Size() == 1);
  const auto& t = list["tokens"][0];
  CHECK(std::string(t["title"].GetString()) == "laptop");
  CHECK(t.HasMember("uuid"));
  CHECK(t.HasMember("created"));
  CHECK(t["expiration"].IsNull());
  CHECK(!t.HasMember("token_code"));
  CHECK(list["only_expiring"].IsNull());
  CHECK(list.HasMember("next_page") == false);
  auto text = s.As(s.Token("rosa"), "GET", "/api/v1/superuser/apptokens");
  CHECK(text.status == 200);
  CHECK(text.body.find(secret) == std::string::npos);
  // Tokens never expire here, so none is expiring soon.
  auto expiring =
      Body(s.As(s.Token("sue"), "GET", "/api/v1/superuser/apptokens?expiring=true"), 200);
  CHECK(expiring["tokens"].Size() == 0);
  CHECK(expiring["only_expiring"].IsTrue());
  CHECK(s.As(s.Token("bob"), "GET", "/api/v1/superuser/apptokens").status == 403);
}

TEST_CASE("api superuser: a plain superuser may not audit app tokens without full access") {
  ApiServer s;
  CHECK(s.As(s.Token("sue"), "GET", "/api/v1/superuser/apptokens").status == 403);
  CHECK(s.As(s.Token("rosa"), "GET", "/api/v1/superuser/apptokens").status == 200);
}

TEST_CASE(
    "api assigned authorizations and user notifications: pending per user, listed, dismissed, "
    "deleted") {
  ApiServer s;
  quay::OAuthApplicationSpec spec;
  spec.name = "deployer";
  spec.description = "deploys things";
  spec.application_uri = "https://deployer.example.com";
  spec.redirect_uri = "https://deployer.example.com/cb";
  auto app = s.id().applications().CreateApplication(ApiServer::ActorFor("alice"), "acme", spec);
  REQUIRE(app.ok());
  auto assigned = s.id().applications().AssignAuthorization(
      ApiServer::ActorFor("alice"), app->client_id, "bob", quay::ScopeSet{quay::Scope::kRepoRead},
      spec.redirect_uri, "token");
  REQUIRE(assigned.ok());
  CHECK(s.AuditRows("oauth_token_assigned").size() == 1);

  const std::string bob = s.Token("bob");
  const std::string eve = s.Token("eve");
  // The assignment left bob a notification; listing the assignments clears it.
  auto notes = Body(s.As(bob, "GET", "/api/v1/user/notifications"), 200);
  REQUIRE(notes["notifications"].Size() == 1);
  CHECK(notes["additional"].IsFalse());
  const auto& note = notes["notifications"][0];
  CHECK(std::string(note["kind"].GetString()) == "assigned_authorization");
  CHECK(note["organization"].IsNull());
  CHECK(note["metadata"].IsObject());
  CHECK(note["dismissed"].IsFalse());
  CHECK(note.HasMember("created"));
  const std::string note_id = note["id"].GetString();
  CHECK(s.As(bob, "GET", "/api/v1/user/notifications/" + note_id).status == 200);
  CHECK(s.As(eve, "GET", "/api/v1/user/notifications/" + note_id).status == 404);
  auto dismissed =
      Body(s.As(bob, "PUT", "/api/v1/user/notifications/" + note_id, R"({"dismissed":true})"), 200);
  CHECK(dismissed["dismissed"].IsTrue());
  CHECK(s.As(eve, "PUT", "/api/v1/user/notifications/" + note_id, R"({"dismissed":true})").status ==
        404);
  CHECK(s.As(bob, "GET", "/api/v1/user/notifications?page=2").status == 400);

  auto list = Body(s.As(bob, "GET", "/api/v1/user/assignedauthorization"), 200);
  CHECK(Body(s.As(bob, "GET", "/api/v1/user/notifications"), 200)["notifications"].Size() == 0);
  REQUIRE(list["authorizations"].Size() == 1);
  const auto& a = list["authorizations"][0];
  CHECK(std::string(a["uuid"].GetString()) == assigned->uuid);
  CHECK(std::string(a["responseType"].GetString()) == "token");
  CHECK(std::string(a["redirectUri"].GetString()) == spec.redirect_uri);
  CHECK(std::string(a["scopes"].GetString()) == "repo:read");
  CHECK(std::string(a["application"]["clientId"].GetString()) == app->client_id);
  CHECK(std::string(a["application"]["organization"]["name"].GetString()) == "acme");
  CHECK(!a["application"].HasMember("clientSecret"));
  CHECK(list.HasMember("authorizations"));
  // Nobody else sees or deletes it.
  CHECK(
      Body(s.As(eve, "GET", "/api/v1/user/assignedauthorization"), 200)["authorizations"].Size() ==
      0);
  CHECK(s.As(eve, "DELETE", "/api/v1/user/assignedauthorization/" + assigned->uuid).status == 404);
  CHECK(s.As(bob, "DELETE", "/api/v1/user/assignedauthorization/" + assigned->uuid).status == 204);
  CHECK(
      Body(s.As(bob, "GET", "/api/v1/user/assignedauthorization"), 200)["authorizations"].Size() ==
      0);
  CHECK(s.As(bob, "DELETE", "/api/v1/user/assignedauthorization/" + assigned->uuid).status == 404);
}
