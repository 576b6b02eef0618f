// Quay's answers for the edge cases clients hit on /api/v1: conflicts and
// bad values are 400, unknown targets 404, disabled accounts and unknown
// tokens count for nothing, and Bearer credentials win over a cookie.
#include <doctest/doctest.h>

#include "api_fixture.h"

using namespace quayd::apitest;

TEST_CASE("api semantics: conflicts and invalid values are 400 invalid_request") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  auto status = [&](const char* method, const std::string& path, const std::string& body) {
    const Reply r = s.As(alice, method, path, body);
    INFO(method << " " << path << " " << body << " -> " << r);
    if (r.status == 400) CHECK(r.Str("error_type") == "invalid_request");
    return r.status;
  };
  CHECK(status("POST", "/api/v1/repository",
               R"({"namespace":"acme","repository":"app","visibility":"private"})") == 400);
  CHECK(status("POST", "/api/v1/repository",
               R"({"namespace":"acme","repository":"Bad Name","visibility":"private"})") == 400);
  CHECK(status("POST", "/api/v1/repository",
               R"({"namespace":"acme","repository":"x","visibility":"secret"})") == 400);
  CHECK(status("POST", "/api/v1/repository/acme/app/changevisibility",
               R"({"visibility":"sideways"})") == 400);
  CHECK(status("PUT", "/api/v1/organization/acme/team/ci", R"({"role":"overlord"})") == 400);
  CHECK(status("POST", "/api/v1/organization/", R"({"name":"acme"})") == 400);
  CHECK(status("POST", "/api/v1/organization/", R"({"name":"bob"})") == 400);
  CHECK(status("POST", "/api/v1/organization/acme/prototypes",
               R"({"role":"read","delegate":{"kind":"robot","name":"x"}})") == 400);
  CHECK(status("PUT", "/api/v1/organization/acme/robots/bot", "{}") == 400);
  CHECK(status("PUT", "/api/v1/repository/acme/app", R"({"description":7})") == 400);
}

TEST_CASE("api semantics: unknown targets are 404 (or Quay's 400 for unknown users)") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  auto status = [&](const char* method, const std::string& path, const std::string& body = "") {
    const Reply r = s.As(alice, method, path, body);
    INFO(method << " " << path << " -> " << r);
    return r.status;
  };
  CHECK(status("GET", "/api/v1/organization/nosuchorg") == 404);
  CHECK(status("GET", "/api/v1/organization/acme/team/nosuchteam/members") == 404);
  CHECK(status("DELETE", "/api/v1/organization/acme/team/nosuchteam") == 404);
  CHECK(status("DELETE", "/api/v1/organization/acme/prototypes/nosuchid") == 404);
  CHECK(status("DELETE", "/api/v1/organization/acme/robots/nosuchbot") == 404);
  CHECK(status("POST", "/api/v1/organization/acme/robots/nosuchbot/regenerate") == 404);
  CHECK(status("DELETE", "/api/v1/repository/acme/app/tag/nosuchtag") == 404);
  CHECK(status("DELETE", "/api/v1/repository/acme/app/permissions/user/bob") == 404);
  CHECK(status("DELETE", "/api/v1/user/apptoken/nosuchtoken") == 404);
  // Granting to or adding an account that does not exist: 400 in Quay
  // ("Invalid username"), 404 accepted.
  const int grant =
      status("PUT", "/api/v1/repository/acme/app/permissions/user/nobody", R"({"role":"read"})");
  CHECK((grant == 400 || grant == 404));
  const int add = status("PUT", "/api/v1/organization/acme/team/ci/members/nobody");
  CHECK((add == 400 || add == 404));
}

TEST_CASE("api semantics: disabled users, unknown tokens, and Bearer over a cookie") {
  ApiServer s;
  const std::string bob = s.Token("bob");
  CHECK(s.As(bob, "GET", "/api/v1/user/robots").status == 200);
  const Reply signin = s.Call("POST", "/api/v1/signin",
                              R"({"username":"bob","password":")" + std::string(kPassword) + "\"}");
  REQUIRE(signin.status == 200);
  const std::string cookie =
      signin.Header("Set-Cookie").substr(0, signin.Header("Set-Cookie").find(';'));

  // Bearer wins over the cookie (and needs no CSRF token).
  const Reply both = s.Call("PUT", "/api/v1/user/robots/both", "{}",
                            {{"Cookie", cookie}, {"Authorization", "Bearer " + s.Token("eve")}});
  CHECK(both.status == 201);
  CHECK(s.id().GetRobot("eve+both").ok());

  REQUIRE(s.id().SetUserEnabled(ApiServer::ActorFor("sue"), "bob", false).ok());
  CHECK(s.As(bob, "GET", "/api/v1/user/robots").status == 401);
  CHECK(s.Call("GET", "/api/v1/user/robots", "", {{"Cookie", cookie}}).status == 401);
  const Reply again = s.Call("POST", "/api/v1/signin",
                             R"({"username":"bob","password":")" + std::string(kPassword) + "\"}");
  CHECK(again.status == 403);
  CHECK(again.Header("Set-Cookie").empty());

  // Basic credentials are not read by the REST API, even a valid password.
  const Reply basic = s.Call("GET", "/api/v1/user/robots", "",
                             {{"Authorization", "Basic YWxpY2U6UzNjcmV0LVBhNTV3b3JkIQ=="}});
  CHECK(basic.status == 401);
}

// Quay refuses team changes that would take the caller's own admin role
// away (data/model/team.py, DataModelException -> 400): leaving, demoting or
// deleting the caller's only admin team. Another admin may do it.
TEST_CASE("api semantics: an admin cannot drop their own only admin team") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  auto status = [&](const char* method, const std::string& path, const std::string& body = "") {
    const Reply r = s.As(alice, method, path, body);
    INFO(method << " " << path << " -> " << r);
    return r.status;
  };
  CHECK(status("DELETE", "/api/v1/organization/acme/team/owners/members/alice") == 400);
  CHECK(status("PUT", "/api/v1/organization/acme/team/owners", R"({"role":"member"})") == 400);
  CHECK(status("DELETE", "/api/v1/organization/acme/team/owners") == 400);
  // Still the admin.
  CHECK(status("GET", "/api/v1/organization/acme/prototypes") == 200);
  // With a second admin team, alice may leave or demote the first one.
  CHECK(status("PUT", "/api/v1/organization/acme/team/admins2", R"({"role":"admin"})") == 200);
  CHECK(status("PUT", "/api/v1/organization/acme/team/admins2/members/alice") == 200);
  CHECK(status("PUT", "/api/v1/organization/acme/team/admins2/members/bob") == 200);
  CHECK(status("DELETE", "/api/v1/organization/acme/team/owners/members/alice") == 204);
  CHECK(status("PUT", "/api/v1/organization/acme/team/owners", R"({"role":"creator"})") == 200);
  CHECK(status("GET", "/api/v1/organization/acme/prototypes") == 200);
  // Another admin may remove alice from her last admin team.
  CHECK(s.As(s.Token("bob"), "DELETE", "/api/v1/organization/acme/team/admins2/members/alice")
            .status == 204);
  CHECK(status("GET", "/api/v1/organization/acme/prototypes") == 403);
}

TEST_CASE("api semantics: starred=true lists starred repositories only") {
  ApiServer s;
  const Reply r = s.As(s.Token("alice"), "GET", "/api/v1/repository?starred=true");
  INFO(r);
  REQUIRE(r.status == 200);
  CHECK(r.json["repositories"].Size() == 0);  // nothing is starred
  CHECK(s.As("", "GET", "/api/v1/repository?starred=true").status == 401);
}

TEST_CASE("api semantics: a deleted repository takes its grants and tags with it") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  const std::string eve = s.Token("eve");
  REQUIRE(s.As(alice, "POST", "/api/v1/repository",
               R"({"namespace":"acme","repository":"tmp","visibility":"private"})")
              .status == 201);
  REQUIRE(
      s.As(alice, "PUT", "/api/v1/repository/acme/tmp/permissions/user/eve", R"({"role":"write"})")
          .status == 200);
  s.PushTag("acme/tmp", "v1", "tmp");
  CHECK(s.As(eve, "GET", "/api/v1/repository/acme/tmp").status == 200);
  REQUIRE(s.As(alice, "DELETE", "/api/v1/repository/acme/tmp").status == 204);
  CHECK(s.As(alice, "GET", "/api/v1/repository/acme/tmp").status == 404);
  CHECK(s.As(eve, "GET", "/api/v1/repository/acme/tmp").status != 200);
  REQUIRE(s.As(alice, "POST", "/api/v1/repository",
               R"({"namespace":"acme","repository":"tmp","visibility":"private"})")
              .status == 201);
  const Reply perms = s.As(alice, "GET", "/api/v1/repository/acme/tmp/permissions/user/");
  INFO(perms);
  REQUIRE(perms.status == 200);
  CHECK(!perms.json["permissions"].HasMember("eve"));
  // The org's prototype (bob: read) applies to the new repository.
  REQUIRE(perms.json["permissions"].HasMember("bob"));
  CHECK(std::string(perms.json["permissions"]["bob"]["role"].GetString()) == "read");
  const Reply repo = s.As(alice, "GET", "/api/v1/repository/acme/tmp");
  CHECK(repo.json["tags"].MemberCount() == 0);
  CHECK(s.As(eve, "GET", "/api/v1/repository/acme/tmp").status == 403);
}

TEST_CASE("api semantics: superusers see what their kind allows") {
  ApiServer s;
  // Global read-only superuser: lists and reads every repository, writes nothing.
  const std::string rosa = s.Token("rosa");
  const Reply list = s.As(rosa, "GET", "/api/v1/repository?namespace=acme");
  INFO(list);
  REQUIRE(list.status == 200);
  CHECK(list.json["repositories"].Size() == 1);
  const Reply repo = s.As(rosa, "GET", "/api/v1/repository/acme/app");
  REQUIRE(repo.status == 200);
  CHECK(!repo.json["can_write"].GetBool());
  CHECK(!repo.json["can_admin"].GetBool());
  // Plain superuser: the panel only, no repository content.
  const Reply plain = s.As(s.Token("sue"), "GET", "/api/v1/repository?namespace=acme");
  REQUIRE(plain.status == 200);
  CHECK(plain.json["repositories"].Size() == 0);

  ServerSpec full_spec;
  full_spec.superusers_full_access = true;
  ApiServer full(full_spec);
  const Reply fr = full.As(full.Token("sue"), "GET", "/api/v1/repository/acme/app");
  REQUIRE(fr.status == 200);
  CHECK(fr.json["can_admin"].GetBool());
  const Reply fl = full.As(full.Token("sue"), "GET", "/api/v1/repository?namespace=acme");
  CHECK(fl.json["repositories"].Size() == 1);
}

TEST_CASE("api semantics: team members, prototypes and bodies are validated") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  REQUIRE(s.id().CreateRobot(ApiServer::ActorFor("bob"), "bob", "mine", "").ok());
  auto status = [&](const char* method, const std::string& path, const std::string& body = "") {
    const Reply r = s.As(alice, method, path, body);
    INFO(method << " " << path << " " << body << " -> " << r);
    return r.status;
  };
  // A robot of another namespace cannot join an org team (Quay: 400).
  CHECK(status("PUT", "/api/v1/organization/acme/team/ci/members/bob+mine") == 400);
  // The org's own robot can.
  CHECK(status("PUT", "/api/v1/organization/acme/team/ci/members/acme+bot") == 200);
  // A prototype for an account that does not exist.
  CHECK(status("POST", "/api/v1/organization/acme/prototypes",
               R"({"role":"read","delegate":{"kind":"user","name":"nobody"}})") == 400);
  CHECK(status("POST", "/api/v1/organization/acme/prototypes",
               R"({"role":"read","delegate":{"kind":"team","name":"noteam"}})") == 400);
  CHECK(status("POST", "/api/v1/user/apptoken", "{}") == 400);
  // An oversized body: 413 as a problem document.
  const Reply big = s.As(alice, "PUT", "/api/v1/repository/acme/app",
                         R"({"description":")" + std::string(2 << 20, 'x') + "\"}");
  CHECK(big.status == 413);
  CHECK(big.Header("Content-Type").starts_with("application/problem+json"));
}

TEST_CASE("api semantics: a public repository is readable anonymously") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  CHECK(s.As("", "GET", "/api/v1/repository/acme/app").status == 401);
  REQUIRE(s.As(alice, "POST", "/api/v1/repository/acme/app/changevisibility",
               R"({"visibility":"public"})")
              .status == 200);
  const Reply anon = s.As("", "GET", "/api/v1/repository/acme/app");
  INFO(anon);
  REQUIRE(anon.status == 200);
  CHECK(anon.json["is_public"].GetBool());
  CHECK(!anon.json["can_write"].GetBool());
  CHECK(s.As(s.Token("eve"), "GET", "/api/v1/repository/acme/app").status == 200);
  // Still admin-only below.
  CHECK(s.As("", "GET", "/api/v1/repository/acme/app/permissions/user/").status == 401);
  CHECK(
      s.As(s.Token("eve"), "PUT", "/api/v1/repository/acme/app", R"({"description":"x"})").status ==
      403);
}

// Deleting an account takes its grants: a namesake created later inherits
// nothing (Quay deletes the namespace's permissions with it).
TEST_CASE("api semantics: deleted orgs and users leave nothing to a namesake") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  REQUIRE(s.As(alice, "DELETE", "/api/v1/organization/acme").status == 204);
  CHECK(s.As(alice, "GET", "/api/v1/repository/acme/app").status != 200);
  CHECK(s.As(alice, "GET", "/api/v1/organization/acme").status == 404);
  const std::string bob = s.Token("bob");
  REQUIRE(s.As(bob, "POST", "/api/v1/organization/", R"({"name":"acme"})").status == 201);
  const Reply old_repo = s.As(bob, "GET", "/api/v1/repository/acme/app");
  INFO(old_repo);
  CHECK(old_repo.status == 404);
  const Reply teams = s.As(bob, "GET", "/api/v1/organization/acme");
  REQUIRE(teams.status == 200);
  CHECK(!teams.json["teams"].HasMember("ci"));
  CHECK(s.As(bob, "GET", "/api/v1/organization/acme/robots/bot").status == 404);
  CHECK(s.As(bob, "GET", "/api/v1/organization/acme/prototypes").status == 200);
  const Reply protos = s.As(bob, "GET", "/api/v1/organization/acme/prototypes");
  CHECK(protos.json["prototypes"].Size() == 0);

  // A user deleted by a superuser, then signed up again.
  ApiServer t;
  REQUIRE(t.As(t.Token("rita"), "POST", "/api/v1/repository",
               R"({"namespace":"rita","repository":"own","visibility":"private"})")
              .status == 201);
  REQUIRE(t.As(t.Token("sue"), "POST", "/api/v1/organization/", R"({"name":"gone"})").status ==
          201);
  REQUIRE(t.As(t.Token("sue"), "POST", "/api/v1/repository",
               R"({"namespace":"gone","repository":"app","visibility":"private"})")
              .status == 201);
  REQUIRE(t.As(t.Token("sue"), "DELETE", "/api/v1/superuser/organizations/gone").status == 204);
  auto gone = t.registry().RepositoryExists("gone/app");
  CHECK((!gone.ok() || !*gone));
  CHECK(t.As(t.Token("sue"), "DELETE", "/api/v1/superuser/organizations/gone").status == 404);
  REQUIRE(t.As(t.Token("sue"), "DELETE", "/api/v1/superuser/users/rita").status == 204);
  REQUIRE(t.Call("POST", "/api/v1/user/",
                 R"({"username":"rita","password":")" + std::string(kPassword) + "\"}")
              .status == 200);
  CHECK(t.As(t.Token("rita"), "GET", "/api/v1/repository/rita/own").status == 404);
  const Reply rita = t.As(t.Token("rita"), "GET", "/api/v1/repository/acme/app");
  INFO(rita);
  CHECK(rita.status == 403);
  const Reply perms =
      t.As(t.Token("alice"), "GET", "/api/v1/repository/acme/app/permissions/user/");
  CHECK(!perms.json["permissions"].HasMember("rita"));
}

TEST_CASE("api semantics: FEATURE_SUPERUSERS_ORG_CREATION_ONLY, and superuser-made users sign in") {
  ServerSpec spec;
  spec.api.superusers_org_creation_only = true;
  ApiServer s(spec);
  CHECK(s.As(s.Token("bob"), "POST", "/api/v1/organization/", R"({"name":"bobs"})").status == 403);
  CHECK(s.As(s.Token("rosa"), "POST", "/api/v1/organization/", R"({"name":"rosas"})").status ==
        403);
  CHECK(s.As(s.Token("sue"), "POST", "/api/v1/organization/", R"({"name":"sues"})").status == 201);

  const Reply made = s.As(s.Token("sue"), "POST", "/api/v1/superuser/users/",
                          R"({"username":"fresh","email":"fresh@example.com"})");
  INFO(made);
  REQUIRE(made.status == 200);
  const std::string password = made.Str("password");
  REQUIRE(!password.empty());
  CHECK(s.Call("POST", "/api/v1/signin", R"({"username":"fresh","password":")" + password + "\"}")
            .status == 200);
  CHECK(
      s.As(s.Token("sue"), "POST", "/api/v1/superuser/users/", R"({"username":"fresh"})").status ==
      400);
}
