// Audit rows of the /api/v1 mutations: each successful mutation leaves a row
// of Quay's LogEntryKind (reference/quay-api.md Appendix B) in
// IdentityService::audit(), performed by the caller. The steps run in one
// world in order; every mutating row of the route table must have a step
// (or a stated reason why it writes no row), so a new mutation route fails
// here until its audit row is tested.
#include <doctest/doctest.h>

#include "api_fixture.h"

using namespace quayd::apitest;

namespace {

struct Step {
  std::string nickname;  // the route the step exercises
  std::string user;      // bearer token owner
  std::string method;
  std::string path;
  std::string body;
  std::string kind;        // expected audit kind; empty: none expected
  std::string repository;  // the audit row's repository, when about one

  Step(std::string n, std::string u, std::string m, std::string p, std::string b, std::string k,
       std::string r = "")
      : nickname(std::move(n)),
        user(std::move(u)),
        method(std::move(m)),
        path(std::move(p)),
        body(std::move(b)),
        kind(std::move(k)),
        repository(std::move(r)) {}
};

}  // namespace

TEST_CASE("api audit: every mutation leaves its Quay audit row") {
  ApiServer s;
  std::map<std::string, std::string> tokens;
  auto token = [&](const std::string& user) {
    auto it = tokens.find(user);
    if (it != tokens.end()) return it->second;
    return tokens[user] = s.Token(user);
  };
  std::string svc_first_digest;
  std::string prototype_id;
  std::string app_token_uuid;
  std::vector<Step> steps = {
      {"createRepo", "alice", "POST", "/api/v1/repository",
       R"({"namespace":"acme","repository":"svc","visibility":"private","description":"d"})",
       "create_repo", "acme/svc"},
      {"updateRepo", "alice", "PUT", "/api/v1/repository/acme/svc", R"({"description":"new"})",
       "set_repo_description", "acme/svc"},
      {"changeRepoVisibility", "alice", "POST", "/api/v1/repository/acme/svc/changevisibility",
       R"({"visibility":"public"})", "change_repo_visibility", "acme/svc"},
      {"changeUserPermissions", "alice", "PUT", "/api/v1/repository/acme/svc/permissions/user/bob",
       R"({"role":"write"})", "change_repo_permission", "acme/svc"},
      {"deleteUserPermissions", "alice", "DELETE",
       "/api/v1/repository/acme/svc/permissions/user/bob", "", "delete_repo_permission",
       "acme/svc"},
      {"changeTeamPermissions", "alice", "PUT", "/api/v1/repository/acme/svc/permissions/team/ci",
       R"({"role":"read"})", "change_repo_permission", "acme/svc"},
      {"deleteTeamPermissions", "alice", "DELETE",
       "/api/v1/repository/acme/svc/permissions/team/ci", "", "delete_repo_permission", "acme/svc"},
      {"deleteFullTag", "alice", "DELETE", "/api/v1/repository/acme/svc/tag/v1", "", "delete_tag",
       "acme/svc"},
      {"restoreTag", "alice", "POST", "/api/v1/repository/acme/svc/tag/v2/restore", "<late>",
       "revert_tag", "acme/svc"},
      {"deleteRepository", "alice", "DELETE", "/api/v1/repository/acme/svc", "", "delete_repo",
       "acme/svc"},
      {"createOrganization", "bob", "POST", "/api/v1/organization/",
       R"({"name":"neworg","email":"neworg@example.com"})", "org_create"},
      {"updateOrganizationTeam", "alice", "PUT", "/api/v1/organization/acme/team/qa",
       R"({"role":"member","description":"QA"})", "org_create_team"},
      {"updateOrganizationTeam", "alice", "PUT", "/api/v1/organization/acme/team/qa",
       R"({"role":"creator"})", "org_set_team_role"},
      {"updateOrganizationTeamMember", "alice", "PUT",
       "/api/v1/organization/acme/team/qa/members/bob", "", "org_add_team_member"},
      {"deleteOrganizationTeamMember", "alice", "DELETE",
       "/api/v1/organization/acme/team/qa/members/bob", "", "org_remove_team_member"},
      {"deleteOrganizationTeam", "alice", "DELETE", "/api/v1/organization/acme/team/qa", "",
       "org_delete_team"},
      {"createOrganizationPrototypePermission", "alice", "POST",
       "/api/v1/organization/acme/prototypes",
       R"({"role":"write","delegate":{"kind":"team","name":"ci"}})", "create_prototype_permission"},
      {"deleteOrganizationPrototypePermission", "alice", "DELETE", "<late>", "",
       "delete_prototype_permission"},
      {"createOrgRobot", "alice", "PUT", "/api/v1/organization/acme/robots/deployer",
       R"({"description":"deploys"})", "create_robot"},
      {"regenerateOrgRobotToken", "alice", "POST",
       "/api/v1/organization/acme/robots/deployer/regenerate", "", "regenerate_robot_token"},
      {"deleteOrgRobot", "alice", "DELETE", "/api/v1/organization/acme/robots/deployer", "",
       "delete_robot"},
      {"createUserRobot", "bob", "PUT", "/api/v1/user/robots/helper", R"({"description":"h"})",
       "create_robot"},
      {"regenerateUserRobotToken", "bob", "POST", "/api/v1/user/robots/helper/regenerate", "",
       "regenerate_robot_token"},
      {"deleteUserRobot", "bob", "DELETE", "/api/v1/user/robots/helper", "", "delete_robot"},
      {"createAppToken", "bob", "POST", "/api/v1/user/apptoken", R"({"title":"laptop"})",
       "create_app_specific_token"},
      {"revokeAppToken", "bob", "DELETE", "<late>", "", "revoke_app_specific_token"},
      {"deleteAdminedOrganization", "bob", "DELETE", "/api/v1/organization/neworg", "",
       "org_delete"},
      {"createInstallUser", "sue", "POST", "/api/v1/superuser/users/",
       R"({"username":"made","email":"made@example.com"})", "user_create"},
      {"changeInstallUser", "sue", "PUT", "/api/v1/superuser/users/made",
       R"({"password":"An0ther-Pa55word!"})", "user_change_password"},
      {"deleteInstallUser", "sue", "DELETE", "/api/v1/superuser/users/made", "", "user_delete"},
      {"deleteOrganization", "sue", "DELETE", "/api/v1/superuser/organizations/doomed", "",
       "org_delete"},
      {"changeOrganization", "sue", "PUT", "/api/v1/superuser/organizations/renameme",
       R"({"name":"renamed"})", "org_change_name"},
      {"takeOwnership", "sue", "POST", "/api/v1/superuser/takeownership/acme", "",
       "take_ownership"},
      {"createNewUser", "", "POST", "/api/v1/user/",
       R"({"username":"selfmade","password":"S3cret-Pa55word!","email":"self@example.com"})",
       "user_create"},
  };
  // Mutating rows that write no audit row of their own, and why.
  const std::map<std::string, std::string> no_row = {
      {"signinUser", "a session login (tested in api_session_test)"},
      {"logout", "clears the cookie only"},
      {"verifyUser", "renews the session's login time; Quay logs nothing (api_more_test)"},
      {"createGlobalMessage", "Quay has no audit kind for messages (api_more_test)"},
      {"deleteGlobalMessage", "Quay has no audit kind for messages (api_more_test)"},
      {"queueRegistrySizeCalculation", "nothing to queue: the size is computed when read"},
      {"deleteAssignedAuthorization", "Quay logs nothing for it (api_search_admin_test)"},
      {"updateUserNotification", "dismissing logs nothing in Quay (api_search_admin_test)"},
      {"createInitialUser", "bootstrap of an empty registry (tested in api_shape_test)"},
      // Rows added after this test's steps: their audit kinds are asserted
      // in api_more_test.cpp, or they write none in Quay either.
      {"changeTag", "create_tag / move_tag: api_more_test"},
      {"addManifestLabel", "manifest_label_add: api_more_test"},
      {"deleteManifestLabel", "manifest_label_delete: api_more_test"},
      {"createOrganizationApplication", "create_application: api_more_test"},
      {"updateOrganizationApplication", "update_application (library test)"},
      {"deleteOrganizationApplication", "delete_application: api_more_test"},
      {"resetOrganizationApplicationClientSecret",
       "reset_application_client_secret (library test)"},
      {"createOrganizationApplicationToken", "create_oauth_api_token (library test)"},
      {"deleteOrganizationApplicationToken", "revoke_oauth_api_token (library test)"},
      {"deleteUserAuthorization", "revoke_oauth_api_token (library test)"},
      {"oauthAuthorizeApp", "codes write no row (Quay neither); the exchange does"},
      {"oauthDenyApp", "a refusal changes nothing"},
      {"oauthAccessToken", "create_oauth_api_token (library test)"},
      {"createStar", "stars write no audit row in Quay"},
      {"deleteStar", "stars write no audit row in Quay"},
      {"removeOrganizationMember", "org_remove_team_member: api_more_test"},
      {"createRepoNotification", "add_repo_notification: api_more_test"},
      {"deleteRepoNotification", "delete_repo_notification: api_more_test"},
      {"resetRepositoryNotificationFailures", "reset_repo_notification: api_more_test"},
      {"testRepoNotification", "a test delivery writes no row in Quay"},
      {"changeUserDetails", "user_change_email / user_change_password: api_more_test"},
      {"deleteCurrentUser", "user_delete: api_more_test"},
      {"changeOrganizationDetails", "org_change_email: api_more_test"},
      {"updateOrganizationPrototypePermission", "modify_prototype_permission: api_more_test"},
      // Tag policies and quotas (issue 13): their kinds are asserted where
      // they are exercised.
      {"createOrgImmutabilityPolicy", "create_immutability_policy: api_policy_test"},
      {"updateOrgImmutabilityPolicy", "update_immutability_policy: api_policy_test"},
      {"deleteOrgImmutabilityPolicy", "delete_immutability_policy: api_policy_test"},
      {"createRepositoryImmutabilityPolicy", "create_immutability_policy: api_policy_test"},
      {"updateRepositoryImmutabilityPolicy", "update_immutability_policy: api_policy_test"},
      {"deleteRepositoryImmutabilityPolicy", "delete_immutability_policy: api_policy_test"},
      {"createOrganizationAutoPrunePolicy", "create_namespace_autoprune_policy: api_policy_test"},
      {"updateOrganizationAutoPrunePolicy", "update_namespace_autoprune_policy: api_policy_test"},
      {"deleteOrganizationAutoPrunePolicy", "delete_namespace_autoprune_policy: api_policy_test"},
      {"createUserAutoPrunePolicy", "create_namespace_autoprune_policy: api_policy_test"},
      {"updateUserAutoPrunePolicy", "update_namespace_autoprune_policy: api_policy_test"},
      {"deleteUserAutoPrunePolicy", "delete_namespace_autoprune_policy: api_policy_test"},
      {"createRepositoryAutoPrunePolicy", "create_repository_autoprune_policy: api_policy_test"},
      {"updateRepositoryAutoPrunePolicy", "update_repository_autoprune_policy: api_policy_test"},
      {"deleteRepositoryAutoPrunePolicy", "delete_repository_autoprune_policy: api_policy_test"},
      {"createOrganizationQuota", "org_create_quota: api_quota_test"},
      {"changeOrganizationQuota", "org_change_quota: api_quota_test"},
      {"deleteOrganizationQuota", "org_delete_quota: api_quota_test"},
      {"createOrganizationQuotaLimit", "org_create_quota_limit: api_quota_test"},
      {"changeOrganizationQuotaLimit", "org_change_quota_limit: api_quota_test"},
      {"deleteOrganizationQuotaLimit", "org_delete_quota_limit: api_quota_test"},
      {"createUserQuotaSuperUser", "org_create_quota: api_quota_test"},
      {"changeUserQuotaSuperUser", "org_change_quota: api_quota_test"},
      {"deleteUserQuotaSuperUser", "org_delete_quota: api_quota_test"},
      {"createOrganizationQuotaSuperUser", "org_create_quota: api_quota_test"},
      {"changeOrganizationQuotaSuperUser", "org_change_quota: api_quota_test"},
      {"deleteOrganizationQuotaSuperUser", "org_delete_quota: api_quota_test"},
  };

  // Fixtures the steps need.
  REQUIRE(s.id().CreateOrganization(ApiServer::ActorFor("sue"), "doomed", "", "sue").ok());
  REQUIRE(s.id().CreateOrganization(ApiServer::ActorFor("sue"), "renameme", "", "sue").ok());

  for (Step& step : steps) {
    if (step.nickname == "deleteFullTag") s.PushTag("acme/svc", "v1", "v1");
    if (step.nickname == "restoreTag") {
      svc_first_digest = s.PushTag("acme/svc", "v2", "first");
      s.PushTag("acme/svc", "v2", "second");
      step.body = R"({"manifest_digest":")" + svc_first_digest + "\"}";
    }
    if (step.nickname == "deleteOrganizationPrototypePermission") {
      step.path = "/api/v1/organization/acme/prototypes/" + prototype_id;
    }
    if (step.nickname == "revokeAppToken") step.path = "/api/v1/user/apptoken/" + app_token_uuid;

    const size_t before = step.kind.empty() ? 0 : s.AuditRows(step.kind, step.repository).size();
    const Reply r =
        s.As(step.user.empty() ? "" : token(step.user), step.method, step.path, step.body);
    INFO(step.method << " " << step.path << " (" << step.nickname << ") -> " << r);
    REQUIRE(r.status >= 200);
    REQUIRE(r.status < 300);
    if (step.nickname == "createOrganizationPrototypePermission") prototype_id = r.Str("id");
    if (step.nickname == "createAppToken") {
      REQUIRE(r.Has("token"));
      app_token_uuid = r.json["token"]["uuid"].GetString();
    }
    if (step.kind.empty()) continue;
    const std::vector<quay::AuditEvent> rows = s.AuditRows(step.kind, step.repository);
    CHECK_MESSAGE(rows.size() == before + 1, "audit kind " << step.kind);
    if (rows.size() > before) {
      const quay::AuditEvent& row = rows.front();
      CHECK(row.kind == step.kind);
      if (!step.user.empty()) CHECK(row.performer == step.user);
      if (!step.repository.empty()) CHECK(row.repository == step.repository);
    }
  }

  // Every mutating row has a step or a reason.
  std::set<std::string> stepped;
  for (const Step& step : steps) stepped.insert(step.nickname);
  for (const quayd::ApiRoute& route : quayd::ApiRoutes()) {
    if (!quayd::IsMutation(route.method)) continue;
    const std::string n(route.nickname);
    CHECK_MESSAGE((stepped.contains(n) || no_row.contains(n)),
                  "mutating route " << n << " has no audit step in api_audit_test.cpp");
  }
}

// The rows' metadata carries Quay's keys (Appendix B) for the repository
// kinds clients filter on.
TEST_CASE("api audit: repository rows carry Quay's metadata keys") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  REQUIRE(s.As(alice, "POST", "/api/v1/repository/acme/app/changevisibility",
               R"({"visibility":"public"})")
              .status == 200);
  auto rows = s.AuditRows("change_repo_visibility", "acme/app");
  REQUIRE(rows.size() == 1);
  rapidjson::Document meta;
  meta.Parse(rows[0].metadata.c_str());
  REQUIRE(meta.IsObject());
  CHECK(meta.HasMember("namespace"));
  CHECK(meta.HasMember("repo"));
  CHECK(meta.HasMember("visibility"));
}
