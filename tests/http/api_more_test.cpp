// Functional tests for the rows added after the first cut of http-api:
// tags and manifests, labels, OAuth applications and their tokens, the
// /oauth endpoints' refusals (the grants end to end are in
// tests/e2e/oauth_flows.py), stars, entities, organization members,
// notifications, account details and grant listings. Each asserts the answer
// and, for mutations, the audit kind Quay writes.
#include <doctest/doctest.h>

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

}  // namespace

TEST_CASE("api more: tag list, tag change (create and move), manifest view, labels") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  const std::string first = s.PushTag("acme/app", "v1", "one");
  const std::string second = s.PushTag("acme/app", "v2", "two");

  auto tags =
      Body(s.As(alice, "GET", "/api/v1/repository/acme/app/tag/?onlyActiveTags=true&limit=1"), 200);
  REQUIRE(tags["tags"].IsArray());
  CHECK(tags["tags"].Size() == 1);
  CHECK(tags["has_additional"].GetBool());
  CHECK(tags["page"].GetInt() == 1);
  CHECK(std::string(tags["tags"][0]["manifest_digest"].GetString()).starts_with("sha256:"));

  CHECK(s.As(alice, "PUT", "/api/v1/repository/acme/app/tag/v3",
             R"({"manifest_digest":")" + first + "\"}")
            .status == 201);
  CHECK(s.AuditRows("create_tag", "acme/app").size() == 1);
  CHECK(s.As(alice, "PUT", "/api/v1/repository/acme/app/tag/v3",
             R"({"manifest_digest":")" + second + "\"}")
            .status == 201);
  {
    // The row committed with the tag, with Quay's keys and the performer.
    const auto moves = s.AuditRows("move_tag", "acme/app");
    REQUIRE(moves.size() == 1);
    CHECK(moves[0].performer == "alice");
    CHECK(moves[0].metadata.find("\"original_manifest_digest\":\"" + first + "\"") !=
          std::string::npos);
    CHECK(moves[0].metadata.find("\"manifest_digest\":\"" + second + "\"") != std::string::npos);
  }
  // Pointing a tag where it already points records nothing.
  CHECK(s.As(alice, "PUT", "/api/v1/repository/acme/app/tag/v3",
             R"({"manifest_digest":")" + second + "\"}")
            .status == 201);
  CHECK(s.AuditRows("move_tag", "acme/app").size() == 1);
  CHECK(s.AuditRows("create_tag", "acme/app").size() == 1);
  CHECK(
      s.As(alice, "PUT", "/api/v1/repository/acme/app/tag/v4",
           R"({"manifest_digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"})")
          .status == 404);
  auto history = Body(s.As(alice, "GET", "/api/v1/repository/acme/app/tag/?specificTag=v3"), 200);
  CHECK(history["tags"].Size() == 2);  // the move ended the first row

  auto manifest = Body(s.As(alice, "GET", "/api/v1/repository/acme/app/manifest/" + first), 200);
  CHECK(std::string(manifest["digest"].GetString()) == first);
  CHECK(manifest["layers"].IsArray());
  CHECK(manifest["is_manifest_list"].GetBool() == false);
  CHECK(s.As(alice, "GET", "/api/v1/repository/acme/app/manifest/nonsense").status == 404);

  const std::string labels = "/api/v1/repository/acme/app/manifest/" + first + "/labels";
  auto added = Body(
      s.As(alice, "POST", labels, R"({"key":"owner","value":"team-a","media_type":"text/plain"})"),
      201);
  REQUIRE(added["label"].IsObject());
  const std::string id = added["label"]["id"].GetString();
  CHECK(s.AuditRows("manifest_label_add", "acme/app").size() == 1);
  CHECK(s.As(alice, "POST", labels, R"({"key":"Bad Key","value":"x"})").status == 400);
  auto list = Body(s.As(alice, "GET", labels), 200);
  CHECK(list["labels"].Size() >= 1);
  auto one = Body(s.As(alice, "GET", labels + "/" + id), 200);
  CHECK(std::string(one["key"].GetString()) == "owner");
  CHECK(std::string(one["source_type"].GetString()) == "api");
  CHECK(s.As(alice, "DELETE", labels + "/" + id).status == 204);
  CHECK(s.AuditRows("manifest_label_delete", "acme/app").size() == 1);
  CHECK(s.As(alice, "GET", labels + "/" + id).status == 404);
}

TEST_CASE("api more: OAuth applications, their tokens, authorizations, public info") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  auto app = Body(s.As(alice, "POST", "/api/v1/organization/acme/applications",
                       R"({"name":"ci","redirect_uri":"http://127.0.0.1:9/cb"})"),
                  200);
  const std::string client = app["client_id"].GetString();
  const std::string secret = app["client_secret"].GetString();
  CHECK(s.AuditRows("create_application").size() == 1);
  const std::string base = "/api/v1/organization/acme/applications/" + client;
  auto listed = Body(s.As(alice, "GET", "/api/v1/organization/acme/applications"), 200);
  CHECK(listed["applications"].Size() == 1);
  CHECK(std::string(Body(s.As(alice, "GET", base), 200)["name"].GetString()) == "ci");
  auto updated = Body(s.As(alice, "PUT", base, R"({"description":"builds"})"), 200);
  CHECK(std::string(updated["description"].GetString()) == "builds");
  auto reset = Body(s.As(alice, "POST", base + "/resetclientsecret"), 200);
  CHECK(std::string(reset["client_secret"].GetString()) != secret);
  auto info = Body(s.Call("GET", "/api/v1/app/" + client), 200);  // anonymous
  CHECK(std::string(info["name"].GetString()) == "ci");
  CHECK(!info.HasMember("client_secret"));
  // Another organization's path does not reach the application.
  CHECK(s.As(alice, "GET", "/api/v1/organization/other/applications/" + client).status != 200);

  auto token = Body(s.As(alice, "POST", base + "/tokens", R"({"scope":"repo:read"})"), 201);
  const std::string uuid = token["token"]["uuid"].GetString();
  const std::string secret_token = token["token"]["access_token"].GetString();
  CHECK(s.As(secret_token, "GET", "/api/v1/repository/acme/app").status == 200);
  auto tokens = Body(s.As(alice, "GET", base + "/tokens"), 200);
  CHECK(tokens["tokens"].Size() == 1);
  auto auths = Body(s.As(alice, "GET", "/api/v1/user/authorizations"), 200);
  CHECK(auths["authorizations"].Size() == 1);
  CHECK(s.As(alice, "GET", "/api/v1/user/authorizations/" + client).status == 200);
  CHECK(s.As(alice, "DELETE", base + "/tokens/" + uuid).status == 204);
  CHECK(s.As(secret_token, "GET", "/api/v1/repository/acme/app").status == 401);
  CHECK(s.As(alice, "DELETE", "/api/v1/user/authorizations/" + client).status == 404);  // none left
  CHECK(s.As(alice, "DELETE", base).status == 204);
  CHECK(s.AuditRows("delete_application").size() == 1);
  CHECK(s.Call("GET", "/api/v1/app/" + client).status == 404);
}

TEST_CASE("api more: /oauth endpoints refuse what they must") {
  ApiServer s;
  // Unknown client: shown, not redirected.
  Reply r =
      s.Call("GET", "/oauth/authorize?response_type=code&client_id=nope&redirect_uri=http://x/");
  CHECK(r.status == 400);
  CHECK(r.Header("Location").empty());
  // Token endpoint: RFC 6749 error names.
  httplib::Headers form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  r = s.Call("POST", "/oauth/access_token", "grant_type=password&code=x", form);
  CHECK(r.status == 400);
  CHECK(r.Str("error") == "unsupported_grant_type");
  r = s.Call("POST", "/oauth/access_token",
             "grant_type=authorization_code&code=x&client_id=nope&client_secret=no", form);
  CHECK(r.status == 401);
  CHECK(r.Str("error") == "invalid_client");
  // Consent endpoints need a session.
  CHECK(s.Call("POST", "/oauth/authorizeapp", "client_id=x", form).status == 401);
  CHECK(s.Call("POST", "/oauth/denyapp", "client_id=x", form).status == 401);
}

TEST_CASE("api more: stars, entity lookup, organization members") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  CHECK(s.As(alice, "POST", "/api/v1/user/starred", R"({"namespace":"acme","repository":"app"})")
            .status == 201);
  auto starred = Body(s.As(alice, "GET", "/api/v1/user/starred"), 200);
  CHECK(starred["repositories"].Size() == 1);
  auto listed = Body(s.As(alice, "GET", "/api/v1/repository?starred=true"), 200);
  CHECK(listed["repositories"].Size() == 1);
  // bob cannot read acme/app: no star for him.
  CHECK(s.As(s.Token("bob"), "POST", "/api/v1/user/starred",
             R"({"namespace":"acme","repository":"app"})")
            .status == 403);
  CHECK(s.As(alice, "DELETE", "/api/v1/user/starred/acme/app").status == 204);
  CHECK(Body(s.As(alice, "GET", "/api/v1/user/starred"), 200)["repositories"].Size() == 0);

  auto found = Body(s.As(alice, "GET", "/api/v1/entities/wen"), 200);
  REQUIRE(found["results"].IsArray());
  bool wendy = false;
  for (const auto& e : found["results"].GetArray())
    wendy = wendy || std::string(e["name"].GetString()) == "wendy";
  CHECK(wendy);

  auto members = Body(s.As(alice, "GET", "/api/v1/organization/acme/members"), 200);
  CHECK(members["members"].Size() >= 2);  // alice (owners), mike (ci), carl (builders)
  CHECK(s.As(alice, "GET", "/api/v1/organization/acme/members/mike").status == 200);
  CHECK(s.As(alice, "GET", "/api/v1/organization/acme/members/nobody").status == 404);
  CHECK(s.As(alice, "DELETE", "/api/v1/organization/acme/members/mike").status == 204);
  CHECK(s.AuditRows("org_remove_team_member").size() >= 1);
  CHECK(s.As(alice, "GET", "/api/v1/organization/acme/members/mike").status == 404);
}

TEST_CASE("api more: repository notifications") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  const std::string base = "/api/v1/repository/acme/app/notification/";
  auto created = Body(
      s.As(
          alice, "POST", base,
          R"({"event":"repo_push","method":"webhook","config":{"url":"http://127.0.0.1:9/"},"eventConfig":{},"title":"hook"})"),
      201);
  const std::string uuid = created["uuid"].GetString();
  CHECK(s.AuditRows("add_repo_notification", "acme/app").size() == 1);
  CHECK(s.As(alice, "POST", base, R"({"event":"no_such_event","method":"webhook"})").status == 400);
  CHECK(Body(s.As(alice, "GET", base), 200)["notifications"].Size() == 1);
  auto one = Body(s.As(alice, "GET", base + uuid), 200);
  CHECK(std::string(one["config"]["url"].GetString()) == "http://127.0.0.1:9/");
  CHECK(s.As(alice, "POST", base + uuid + "/test").status == 200);
  CHECK(s.As(alice, "POST", base + uuid).status == 204);
  CHECK(s.AuditRows("reset_repo_notification", "acme/app").size() == 1);
  CHECK(s.As(alice, "DELETE", base + uuid).status == 204);
  CHECK(s.AuditRows("delete_repo_notification", "acme/app").size() == 1);
  CHECK(s.As(alice, "GET", base + uuid).status == 404);
}

TEST_CASE("api more: account and organization details, grant listings, prototype role") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  auto me = Body(s.As(alice, "PUT", "/api/v1/user/", R"({"email":"alice@new.example"})"), 200);
  CHECK(std::string(me["email"].GetString()) == "alice@new.example");
  CHECK(s.AuditRows("user_change_email").size() == 1);
  auto org =
      Body(s.As(alice, "PUT", "/api/v1/organization/acme", R"({"email":"ops@acme.example"})"), 200);
  CHECK(std::string(org["email"].GetString()) == "ops@acme.example");
  CHECK(s.AuditRows("org_change_email").size() == 1);

  REQUIRE(
      s.As(alice, "PUT", "/api/v1/repository/acme/app/permissions/team/ci", R"({"role":"write"})")
          .status == 200);
  auto team = Body(s.As(alice, "GET", "/api/v1/organization/acme/team/ci/permissions"), 200);
  CHECK(team["permissions"].Size() == 1);
  auto robot = Body(s.As(alice, "GET", "/api/v1/organization/acme/robots/bot/permissions"), 200);
  CHECK(robot["permissions"].Size() == 1);  // read on acme/app
  auto mine = Body(s.As(s.Token("bob"), "GET", "/api/v1/user/robots/none/permissions"), 404);
  (void)mine;
  auto transitive =
      Body(s.As(alice, "GET", "/api/v1/repository/acme/app/permissions/user/mike/transitive"), 200);
  REQUIRE(transitive["permissions"].Size() == 1);  // through team ci
  CHECK(std::string(transitive["permissions"][0]["role"].GetString()) == "write");

  auto proto = Body(s.As(alice, "PUT", "/api/v1/organization/acme/prototypes/" + s.prototype_id(),
                         R"({"role":"write"})"),
                    200);
  CHECK(std::string(proto["role"].GetString()) == "write");
  CHECK(s.AuditRows("modify_prototype_permission").size() == 1);

  auto orgs = Body(s.As(s.Token("sue"), "GET", "/api/v1/superuser/organizations/"), 200);
  CHECK(orgs["organizations"].Size() >= 1);

  CHECK(s.As(s.Token("eve"), "DELETE", "/api/v1/user/").status == 204);
  CHECK(s.AuditRows("user_delete").size() == 1);
  CHECK(s.As(s.Token("alice"), "GET", "/api/v1/users/eve").status == 404);
}

TEST_CASE("api more: a manifest's referrers (quayd's route for the web UI)") {
  ApiServer s;
  const std::string alice = s.Token("alice");
  const std::string subject = s.PushTag("acme/app", "v1", "subject");
  auto push = [&](const std::string& data) {
    auto upload = s.registry().StartUpload("acme/app");
    REQUIRE(upload.ok());
    REQUIRE((*upload)->Write(data.data(), data.size()).ok());
    REQUIRE((*upload)->Commit(quay::Digest::Of(data)).ok());
  };
  const std::string config = "{}";
  const std::string sig = "a signature";
  push(config);
  push(sig);
  const std::string referrer =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("artifactType":"application/vnd.dev.cosign.artifact.sig.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":")" +
      quayd::testing::DigestOf(config) +
      R"(","size":2},"layers":[{"mediaType":"text/plain","digest":")" +
      quayd::testing::DigestOf(sig) +
      R"(","size":11}],"subject":{"mediaType":)"
      R"("application/vnd.oci.image.manifest.v1+json","digest":")" +
      subject + R"(","size":100},"annotations":{"created-by":"test"}})";
  const std::string referrer_digest = quayd::testing::DigestOf(referrer);
  REQUIRE(s.registry()
              .PutManifest("acme/app", referrer_digest, quayd::testing::kOciManifest, referrer)
              .ok());

  const std::string base = "/api/v1/repository/acme/app/manifest/";
  auto list = Body(s.As(alice, "GET", base + subject + "/referrers"), 200);
  REQUIRE(list["referrers"].IsArray());
  REQUIRE(list["referrers"].Size() == 1);
  CHECK(std::string(list["referrers"][0]["digest"].GetString()) == referrer_digest);
  CHECK(std::string(list["referrers"][0]["artifact_type"].GetString()) ==
        "application/vnd.dev.cosign.artifact.sig.v1+json");
  CHECK(std::string(list["referrers"][0]["annotations"]["created-by"].GetString()) == "test");
  auto filtered =
      Body(s.As(alice, "GET", base + subject + "/referrers?artifactType=text/plain"), 200);
  CHECK(filtered["referrers"].Size() == 0);
  auto none = Body(s.As(alice, "GET", base + referrer_digest + "/referrers"), 200);
  CHECK(none["referrers"].Size() == 0);
  CHECK(s.As(alice, "GET", base + "nonsense/referrers").status == 404);
  // Read permission is required, as for the manifest itself.
  CHECK(s.As("", "GET", base + subject + "/referrers").status >= 400);
}
