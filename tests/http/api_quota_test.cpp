// Namespace quotas end to end over HTTP (FEATURE_QUOTA_MANAGEMENT): Quay's
// organization, user and superuser quota routes, their limits, the usage in
// the organization view, and a /v2 push over the Reject threshold refused
// with Quay's 403 DENIED.
#include <doctest/doctest.h>

#include <string>

#include "api_fixture.h"

using namespace quayd::apitest;
using quayd::testing::ErrorCode;

namespace {

std::string RegistryToken(ApiServer& s, const std::string& user, const std::string& repo) {
  auto client = s.server().Client();
  client->set_basic_auth(user, kPassword);
  auto res = client->Get("/v2/auth?service=quay&scope=repository:" + repo + ":push,pull");
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 200, res->body);
  rapidjson::Document doc;
  doc.Parse(res->body.c_str());
  return doc["token"].GetString();
}

// A monolithic blob upload over /v2; the response.
std::pair<int, std::string> PushBlob(ApiServer& s, const std::string& token,
                                     const std::string& repo, const std::string& data) {
  auto client = s.server().Client();
  client->set_bearer_token_auth(token);
  auto res =
      client->Post("/v2/" + repo + "/blobs/uploads/?digest=" + quayd::testing::DigestOf(data), data,
                   "application/octet-stream");
  REQUIRE(res);
  return {res->status, res->body};
}

// Starts a chunked upload session over /v2; the response's status.
int StartSession(ApiServer& s, const std::string& token, const std::string& repo) {
  auto client = s.server().Client();
  client->set_bearer_token_auth(token);
  auto res = client->Post("/v2/" + repo + "/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(res);
  return res->status;
}

}  // namespace

TEST_CASE("quotas: superusers set them, members read them, /v2 refuses a push past Reject") {
  ServerSpec spec;
  spec.superusers_full_access = true;
  ApiServer s(spec);
  const std::string alice = s.Token("alice");  // org admin
  const std::string sue = s.Token("sue");      // full-access superuser
  const std::string org = "/api/v1/organization/acme/quota";

  Reply none = s.As(alice, "GET", org);
  REQUIRE(none.status == 200);
  CHECK(none.json.IsArray());
  CHECK(none.json.Size() == 0);
  CHECK(s.As(alice, "POST", org, R"({"limit_bytes":1000})").status == 403);
  CHECK(s.As(sue, "POST", org, R"({"limit":"many"})").status == 400);
  REQUIRE(s.As(sue, "POST", org, R"({"limit_bytes":1000})").status == 201);
  CHECK(s.As(sue, "POST", org, R"({"limit_bytes":2000})").status == 400);
  CHECK(s.AuditRows("org_create_quota").size() == 1);

  Reply list = s.As(s.Token("mike"), "GET", org);  // a member
  REQUIRE_MESSAGE(list.status == 200, list);
  REQUIRE(list.json.Size() == 1);
  const int64_t id = list.json[0]["id"].GetInt64();
  CHECK(list.json[0]["limit_bytes"].GetInt64() == 1000);
  CHECK(list.json[0]["limit"].GetString() == std::string("1000.0 Byte"));
  const std::string quota = org + "/" + std::to_string(id);
  CHECK(s.As(alice, "GET", quota).json["id"].GetInt64() == id);
  CHECK(s.As(alice, "GET", org + "/999").status == 404);

  CHECK(
      s.As(sue, "POST", quota + "/limit", R"({"type":"Sometimes","threshold_percent":5})").status ==
      400);
  REQUIRE(
      s.As(sue, "POST", quota + "/limit", R"({"type":"Reject","threshold_percent":100})").status ==
      201);
  REQUIRE(
      s.As(sue, "POST", quota + "/limit", R"({"type":"Warning","threshold_percent":50})").status ==
      201);
  CHECK(s.As(sue, "POST", quota + "/limit", R"({"type":"Reject","threshold_percent":90})").status ==
        400);
  Reply limits = s.As(alice, "GET", quota + "/limit");
  REQUIRE(limits.json.Size() == 2);
  CHECK(limits.json[0]["type"].GetString() == std::string("Reject"));
  CHECK(limits.json[0]["limit_percent"].GetInt() == 100);
  const int64_t reject_id = limits.json[0]["id"].GetInt64();
  CHECK(s.As(alice, "GET", quota + "/limit/" + std::to_string(reject_id)).Str("type") == "Reject");

  const std::string token = RegistryToken(s, "alice", "acme/app");
  CHECK(PushBlob(s, token, "acme/app", std::string(600, 'a')).first == 201);
  CHECK(StartSession(s, token, "acme/app") == 202);  // under the threshold
  auto refused = PushBlob(s, token, "acme/app", std::string(600, 'b'));
  CHECK(refused.first == 403);
  CHECK(ErrorCode(refused.second) == "DENIED");
  CHECK(refused.second.find("Quota has been exceeded on namespace") != std::string::npos);
  Reply view = s.As(alice, "GET", "/api/v1/organization/acme");
  REQUIRE_MESSAGE(view.Has("quota_report"), view);
  CHECK(view.json["quota_report"]["quota_bytes"].GetInt64() == 600);
  CHECK(view.json["quota_report"]["configured_quota"].GetInt64() == 1000);

  // A larger quota lets the push in; a changed limit and deletions audit.
  Reply changed = s.As(sue, "PUT", quota, R"({"limit_bytes":5000})");
  CHECK_MESSAGE(changed.status == 200, changed);
  CHECK(changed.json["limit_bytes"].GetInt64() == 5000);
  CHECK(PushBlob(s, token, "acme/app", std::string(600, 'b')).first == 201);
  Reply lowered = s.As(sue, "PUT", quota + "/limit/" + std::to_string(reject_id),
                       R"({"threshold_percent":10})");
  CHECK_MESSAGE(lowered.status == 200, lowered);
  CHECK(PushBlob(s, token, "acme/app", "one more").first == 403);
  // Over the threshold already: the upload itself is refused, as Quay's POST
  // start does, before any byte is sent.
  CHECK(StartSession(s, token, "acme/app") == 403);
  CHECK(s.As(sue, "DELETE", quota + "/limit/" + std::to_string(reject_id)).status == 204);
  CHECK(PushBlob(s, token, "acme/app", "one more").first == 201);
  CHECK(s.AuditRows("org_change_quota").size() == 1);
  CHECK(s.AuditRows("org_change_quota_limit").size() == 1);
  CHECK(s.AuditRows("org_delete_quota_limit").size() == 1);
  CHECK(s.As(sue, "DELETE", quota).status == 204);
  CHECK(s.As(alice, "GET", org).json.Size() == 0);
}

TEST_CASE("quotas: a user's own routes and the superuser namespace routes") {
  ApiServer s;
  const std::string sue = s.Token("sue");  // plain superuser
  const std::string bob = s.Token("bob");
  CHECK(s.As(bob, "GET", "/api/v1/user/quota").json.Size() == 0);
  CHECK(s.As(bob, "POST", "/api/v1/superuser/users/bob/quota", R"({"limit":"10 GiB"})").status ==
        403);
  Reply created = s.As(sue, "POST", "/api/v1/superuser/users/bob/quota", R"({"limit":"10 GiB"})");
  REQUIRE_MESSAGE(created.status == 201, created);
  Reply mine = s.As(bob, "GET", "/api/v1/user/quota");
  REQUIRE(mine.json.Size() == 1);
  CHECK(mine.json[0]["limit_bytes"].GetInt64() == 10737418240);
  CHECK(mine.json[0]["limit"].GetString() == std::string("10.0 GiB"));
  const std::string id = std::to_string(mine.json[0]["id"].GetInt64());
  CHECK(s.As(bob, "GET", "/api/v1/user/quota/" + id).json["limit_bytes"].GetInt64() == 10737418240);
  CHECK(s.As(bob, "GET", "/api/v1/user/quota/" + id + "/limit").json.Size() == 0);
  CHECK(s.As(bob, "GET", "/api/v1/user/quota/" + id + "/limit/1").status == 404);
  CHECK(s.As(sue, "GET", "/api/v1/superuser/users/bob/quota").json.Size() == 1);
  CHECK(
      s.As(sue, "PUT", "/api/v1/superuser/users/bob/quota/" + id, R"({"limit_bytes":42})").status ==
      200);
  CHECK(s.As(sue, "DELETE", "/api/v1/superuser/users/bob/quota/" + id).status == 204);

  const std::string org = "/api/v1/superuser/organization/acme/quota";
  REQUIRE(s.As(sue, "POST", org, R"({"limit_bytes":1000})").status == 201);
  Reply listed = s.As(sue, "GET", org);
  REQUIRE(listed.json.Size() == 1);
  const std::string org_id = std::to_string(listed.json[0]["id"].GetInt64());
  CHECK(s.As(sue, "PUT", org + "/" + org_id, R"({"limit_bytes":2000})").status == 200);
  CHECK(s.As(sue, "DELETE", org + "/" + org_id).status == 204);
  CHECK(s.As(sue, "GET", "/api/v1/superuser/organization/nosuch/quota").status == 404);
  CHECK(s.AuditRows("org_create_quota").size() == 2);
  CHECK(s.AuditRows("org_change_quota").size() == 2);
  CHECK(s.AuditRows("org_delete_quota").size() == 2);
}

TEST_CASE("without FEATURE_QUOTA_MANAGEMENT the quota routes are 404") {
  ServerSpec spec;
  spec.api.features[static_cast<size_t>(quayd::Feature::kQuotaManagement)] = false;
  spec.counts_for_coverage = false;
  ApiServer s(spec);
  CHECK(s.As(s.Token("alice"), "GET", "/api/v1/organization/acme/quota").status == 404);
  CHECK(!s.As(s.Token("alice"), "GET", "/api/v1/organization/acme").Has("quota_report"));
}
