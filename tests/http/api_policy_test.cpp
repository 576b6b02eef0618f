// Tag policies end to end over HTTP (issue 13): tag expiration through
// PUT .../tag/{tag} and its effect on /v2 and the listings, immutable tags
// refused on /v2 and /api/v1, immutability and auto-prune policy routes,
// their audit rows, and their feature flags. The clock is injected.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "api_fixture.h"
#include "quay/clock.h"

using namespace quayd::apitest;
using quayd::testing::DigestOf;
using quayd::testing::ErrorCode;
using namespace std::chrono_literals;

namespace {

// A config and a layer uploaded to `repo` through the library; a manifest
// over them (not pushed).
std::string ManifestWithBlobs(ApiServer& s, const std::string& repo, const std::string& seed) {
  auto push = [&](const std::string& data) {
    auto upload = s.registry().StartUpload(repo);
    REQUIRE(upload.ok());
    REQUIRE((*upload)->Write(data.data(), data.size()).ok());
    REQUIRE((*upload)->Commit(quay::Digest::Of(data)).ok());
  };
  const std::string config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"s\":\"" + seed + "\"}";
  const std::string layer = "layer of " + seed;
  push(config);
  push(layer);
  return quayd::testing::ImageManifest({DigestOf(config), config.size()},
                                       {{DigestOf(layer), layer.size()}});
}

// A registry token of `user` for push and pull on `repo`.
std::string RegistryToken(ApiServer& s, const std::string& user, const std::string& repo) {
  auto client = s.server().Client();
  client->set_basic_auth(user, kPassword);
  auto res = client->Get("/v2/auth?service=quay&scope=repository:" + repo + ":push,pull");
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 200, res->body);
  rapidjson::Document doc;
  doc.Parse(res->body.c_str());
  REQUIRE(doc.IsObject());
  return doc["token"].GetString();
}

struct V2Reply {
  int status = 0;
  std::string body;
};

V2Reply V2(ApiServer& s, const std::string& token, const std::string& method,
           const std::string& path, const std::string& body = "") {
  auto client = s.server().Client();
  httplib::Headers h = {{"Authorization", "Bearer " + token}};
  httplib::Result res = method == "GET" ? client->Get(path, h)
                        : method == "PUT"
                            ? client->Put(path, h, body, std::string(quayd::testing::kOciManifest))
                            : client->Delete(path, h);
  REQUIRE(res);
  return {res->status, res->body};
}

// The live row of `tag` in GET .../tag/?onlyActiveTags=true, or null.
const rapidjson::Value* ActiveRow(const Reply& list, const std::string& tag) {
  if (!list.json.IsObject() || !list.json.HasMember("tags")) return nullptr;
  for (const auto& row : list.json["tags"].GetArray()) {
    if (row["name"].GetString() == tag) return &row;
  }
  return nullptr;
}

int64_t NowSeconds(const quay::Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("tag expiration: PUT .../tag/{tag} expiration, then /v2 and the listings forget it") {
  auto clock = std::make_shared<quay::ManualClock>();
  ServerSpec spec;
  spec.clock = clock;
  ApiServer s(spec);
  const std::string digest = s.PushTag("acme/app", "latest", "one");
  s.PushTag("acme/app", "stays", "two");
  const std::string alice = s.Token("alice");
  const std::string tag_path = "/api/v1/repository/acme/app/tag/latest";
  const int64_t now = NowSeconds(*clock);

  // Not in the future, not a number, an unknown tag.
  CHECK(s.As(alice, "PUT", tag_path, "{\"expiration\":" + std::to_string(now) + "}").status == 400);
  CHECK(s.As(alice, "PUT", tag_path, R"({"expiration":"tomorrow"})").status == 400);
  CHECK(s.As(alice, "PUT", "/api/v1/repository/acme/app/tag/nope",
             "{\"expiration\":" + std::to_string(now + 60) + "}")
            .status == 404);
  // A reader may not.
  CHECK(
      s.As(s.Token("rita"), "PUT", tag_path, "{\"expiration\":" + std::to_string(now + 3600) + "}")
          .status == 403);

  const Reply set =
      s.As(alice, "PUT", tag_path, "{\"expiration\":" + std::to_string(now + 3600) + "}");
  REQUIRE_MESSAGE(set.status == 201, set);
  const Reply listed = s.As(alice, "GET", "/api/v1/repository/acme/app/tag/?onlyActiveTags=true");
  const rapidjson::Value* row = ActiveRow(listed, "latest");
  REQUIRE_MESSAGE(row != nullptr, listed);
  CHECK((*row)["end_ts"].GetInt64() == now + 3600);
  CHECK(row->HasMember("expiration"));
  CHECK((*row)["immutable"].GetBool() == false);
  auto rows = s.AuditRows("change_tag_expiration", "acme/app");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].performer == "alice");
  CHECK(rows[0].metadata.find("\"expiration_date\":\"" + std::to_string(now + 3600) + "\"") !=
        std::string::npos);

  {
    const std::string token = RegistryToken(s, "alice", "acme/app");
    CHECK(V2(s, token, "GET", "/v2/acme/app/manifests/latest").status == 200);
  }
  clock->Advance(1h);
  const std::string token = RegistryToken(s, "alice", "acme/app");
  const V2Reply gone = V2(s, token, "GET", "/v2/acme/app/manifests/latest");
  CHECK(gone.status == 404);
  CHECK(ErrorCode(gone.body) == "TAG_EXPIRED");  // restorable (below)
  const V2Reply tags = V2(s, token, "GET", "/v2/acme/app/tags/list");
  CHECK(tags.body.find("\"latest\"") == std::string::npos);
  CHECK(tags.body.find("\"stays\"") != std::string::npos);
  CHECK(ActiveRow(s.As(alice, "GET", "/api/v1/repository/acme/app/tag/?onlyActiveTags=true"),
                  "latest") == nullptr);
  // Still pullable by digest, and restorable from the time machine.
  CHECK(V2(s, token, "GET", "/v2/acme/app/manifests/" + digest).status == 200);
  const Reply restored =
      s.As(alice, "POST", tag_path + "/restore", "{\"manifest_digest\":\"" + digest + "\"}");
  CHECK_MESSAGE(restored.status / 100 == 2, restored);
  CHECK(V2(s, token, "GET", "/v2/acme/app/manifests/latest").status == 200);
}

TEST_CASE("the quay.expires-after label expires a tag pushed over /v2") {
  auto clock = std::make_shared<quay::ManualClock>();
  ServerSpec spec;
  spec.clock = clock;
  ApiServer s(spec);
  auto push = [&](const std::string& data) {
    auto upload = s.registry().StartUpload("acme/app");
    REQUIRE(upload.ok());
    REQUIRE((*upload)->Write(data.data(), data.size()).ok());
    REQUIRE((*upload)->Commit(quay::Digest::Of(data)).ok());
  };
  const std::string config =
      R"({"architecture":"amd64","os":"linux","config":{"Labels":{"quay.expires-after":"2h"}}})";
  const std::string layer = "nightly layer";
  push(config);
  push(layer);
  const std::string manifest = quayd::testing::ImageManifest({DigestOf(config), config.size()},
                                                             {{DigestOf(layer), layer.size()}});
  const std::string token = RegistryToken(s, "alice", "acme/app");
  REQUIRE(V2(s, token, "PUT", "/v2/acme/app/manifests/nightly", manifest).status == 201);
  const Reply listed =
      s.As(s.Token("alice"), "GET", "/api/v1/repository/acme/app/tag/?onlyActiveTags=true");
  const rapidjson::Value* row = ActiveRow(listed, "nightly");
  REQUIRE(row != nullptr);
  CHECK((*row)["end_ts"].GetInt64() == NowSeconds(*clock) + 7200);
  clock->Advance(2h);
  const V2Reply expired =
      V2(s, RegistryToken(s, "alice", "acme/app"), "GET", "/v2/acme/app/manifests/nightly");
  CHECK(expired.status == 404);
  CHECK(ErrorCode(expired.body) == "TAG_EXPIRED");
  // Past the recovery window (14 days) the tag is simply unknown.
  clock->Advance(std::chrono::hours(24 * 14) + 1h);
  const V2Reply unknown =
      V2(s, RegistryToken(s, "alice", "acme/app"), "GET", "/v2/acme/app/manifests/nightly");
  CHECK(unknown.status == 404);
  CHECK(ErrorCode(unknown.body) == "MANIFEST_UNKNOWN");
}

TEST_CASE("an immutable tag is refused a move or delete on /v2 and /api/v1") {
  ApiServer s;
  const std::string digest = s.PushTag("acme/app", "latest", "one");
  const std::string other = s.PushTag("acme/app", "other", "two");
  const std::string tag_path = "/api/v1/repository/acme/app/tag/latest";
  const std::string wendy = s.Token("wendy");  // write

  const Reply set = s.As(wendy, "PUT", tag_path, R"({"immutable":true})");
  REQUIRE_MESSAGE(set.status == 201, set);
  auto rows = s.AuditRows("change_tag_immutability", "acme/app");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].metadata.find("\"immutable\":\"true\"") != std::string::npos);
  // The reply outlives the row pointing into it.
  const Reply listed = s.As(wendy, "GET", "/api/v1/repository/acme/app/tag/?onlyActiveTags=true");
  const rapidjson::Value* row = ActiveRow(listed, "latest");
  REQUIRE(row != nullptr);
  CHECK((*row)["immutable"].GetBool());

  // /v2: push over it, delete it by tag, delete its manifest.
  const std::string token = RegistryToken(s, "wendy", "acme/app");
  const V2Reply put =
      V2(s, token, "PUT", "/v2/acme/app/manifests/latest", ManifestWithBlobs(s, "acme/app", "x"));
  CHECK(put.status == 409);
  CHECK(ErrorCode(put.body) == "TAG_IMMUTABLE");
  CHECK(put.body.find("Cannot overwrite immutable tag 'latest'") != std::string::npos);
  const V2Reply del = V2(s, token, "DELETE", "/v2/acme/app/manifests/latest");
  CHECK(del.status == 409);
  CHECK(ErrorCode(del.body) == "TAG_IMMUTABLE");
  CHECK(V2(s, token, "DELETE", "/v2/acme/app/manifests/" + digest).status == 409);
  CHECK(V2(s, token, "GET", "/v2/acme/app/manifests/latest").status == 200);

  // /api/v1: move, delete, expire.
  const Reply moved = s.As(wendy, "PUT", tag_path, "{\"manifest_digest\":\"" + other + "\"}");
  CHECK(moved.status == 409);
  CHECK(moved.Str("error_type") == "tag_immutable");
  CHECK(moved.Str("detail") == "Cannot overwrite immutable tag 'latest'");
  const Reply deleted = s.As(wendy, "DELETE", tag_path);
  CHECK(deleted.status == 409);
  CHECK(deleted.Str("error_type") == "tag_immutable");
  CHECK(s.As(wendy, "PUT", tag_path, R"({"expiration":4000000000})").status == 409);

  // Only an administrator makes it mutable again.
  CHECK(s.As(wendy, "PUT", tag_path, R"({"immutable":false})").status == 403);
  const Reply unset = s.As(s.Token("adam"), "PUT", tag_path, R"({"immutable":false})");
  CHECK_MESSAGE(unset.status == 201, unset);
  CHECK(s.As(wendy, "DELETE", tag_path).status == 204);
}

TEST_CASE("immutability policies: organization and repository routes") {
  ApiServer s;
  s.PushTag("acme/app", "v1.0", "one");
  s.PushTag("acme/app", "latest", "two");
  const std::string alice = s.Token("alice");
  const std::string org = "/api/v1/organization/acme/immutabilitypolicy/";

  CHECK(s.As(alice, "POST", org, R"({"tagPattern":"v["})").status == 400);
  CHECK(s.As(alice, "POST", org, R"({})").status == 400);
  CHECK(s.As(s.Token("bob"), "POST", org, R"({"tagPattern":"v.*"})").status == 403);
  const Reply created = s.As(alice, "POST", org, R"({"tagPattern":"v.*"})");
  REQUIRE_MESSAGE(created.status == 201, created);
  const std::string uuid = created.Str("uuid");
  CHECK(uuid.size() == 36);
  CHECK(s.As(alice, "POST", org, R"({"tagPattern":"v.*"})").status == 400);  // duplicate

  const Reply list = s.As(alice, "GET", org);
  REQUIRE(list.status == 200);
  REQUIRE(list.json["policies"].Size() == 1);
  CHECK(list.json["policies"][0]["tagPattern"].GetString() == std::string("v.*"));
  CHECK(list.json["policies"][0]["tagPatternMatches"].GetBool());
  CHECK(s.As(alice, "GET", org + uuid).Str("uuid") == uuid);
  CHECK(s.As(alice, "GET", org + "00000000-0000-4000-8000-00000000dead").status == 404);
  auto rows = s.AuditRows("create_immutability_policy");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].namespace_name == "acme");
  REQUIRE(s.AuditRows("tags_made_immutable_by_policy").size() == 1);

  // The existing matching tag and a new one are immutable; latest is not.
  const std::string wendy = s.Token("wendy");
  CHECK(s.As(wendy, "DELETE", "/api/v1/repository/acme/app/tag/v1.0").status == 409);
  s.PushTag("acme/app", "v2.0", "three");
  CHECK(s.As(wendy, "DELETE", "/api/v1/repository/acme/app/tag/v2.0").status == 409);
  CHECK(s.As(wendy, "DELETE", "/api/v1/repository/acme/app/tag/latest").status == 204);

  const Reply updated = s.As(alice, "PUT", org + uuid, R"({"tagPattern":"release-.*"})");
  CHECK_MESSAGE(updated.status == 204, updated);
  CHECK(s.As(alice, "GET", org + uuid).Str("tagPattern") == "release-.*");
  CHECK(s.AuditRows("update_immutability_policy").size() == 1);
  CHECK(s.As(alice, "DELETE", org + uuid).status == 200);
  CHECK(s.As(alice, "DELETE", org + uuid).status == 404);
  CHECK(s.AuditRows("delete_immutability_policy").size() == 1);

  // Repository scope: repository admins.
  const std::string repo = "/api/v1/repository/acme/app/immutabilitypolicy/";
  CHECK(s.As(wendy, "POST", repo, R"({"tagPattern":"stable"})").status == 403);
  const Reply by_admin = s.As(s.Token("adam"), "POST", repo, R"({"tagPattern":"stable"})");
  REQUIRE_MESSAGE(by_admin.status == 201, by_admin);
  s.PushTag("acme/app", "stable", "four");
  CHECK(s.As(wendy, "DELETE", "/api/v1/repository/acme/app/tag/stable").status == 409);
  const std::string adam = s.Token("adam");
  CHECK(s.As(adam, "GET", repo).json["policies"].Size() == 1);
  const std::string repo_uuid = by_admin.Str("uuid");
  CHECK(s.As(adam, "GET", repo + repo_uuid).Str("tagPattern") == "stable");
  CHECK(
      s.As(adam, "PUT", repo + repo_uuid, R"({"tagPattern":"stable-.*","tagPatternMatches":true})")
          .status == 204);
  CHECK(s.As(adam, "PUT", repo + repo_uuid, R"({"tagPattern":"x","tagPatternMatches":"yes"})")
            .status == 400);
  CHECK(s.AuditRows("update_immutability_policy", "acme/app").size() == 1);
  CHECK(s.As(adam, "DELETE", repo + repo_uuid).status == 200);
  CHECK(s.AuditRows("delete_immutability_policy", "acme/app").size() == 1);
  CHECK(s.As(adam, "GET", repo + repo_uuid).status == 404);
  auto repo_rows = s.AuditRows("create_immutability_policy", "acme/app");
  REQUIRE(repo_rows.size() == 1);
  CHECK(repo_rows[0].metadata.find("\"repo\":\"app\"") != std::string::npos);
}

TEST_CASE("auto-prune policies: routes, a pass, and autoprune_tag_delete rows") {
  auto clock = std::make_shared<quay::ManualClock>();
  ServerSpec spec;
  spec.clock = clock;
  ApiServer s(spec);
  for (const char* tag : {"b1", "b2", "b3"}) {
    s.PushTag("acme/app", tag, tag);
    clock->Advance(1min);
  }
  const std::string alice = s.Token("alice");
  const std::string org = "/api/v1/organization/acme/autoprunepolicy/";
  CHECK(s.As(alice, "POST", org, R"({"method":"number_of_tags","value":0})").status == 400);
  CHECK(s.As(alice, "POST", org, R"({"method":"number_of_tags","value":"2"})").status == 400);
  CHECK(s.As(alice, "POST", org, R"({"method":"creation_date","value":"soon"})").status == 400);
  CHECK(s.As(alice, "POST", org, R"({"method":"sometimes","value":1})").status == 400);
  CHECK(s.As(alice, "POST", org, R"({"method":"number_of_tags"})").status == 400);
  CHECK(s.As(s.Token("bob"), "POST", org, R"({"method":"number_of_tags","value":1})").status ==
        403);
  const Reply created =
      s.As(alice, "POST", org, R"({"method":"number_of_tags","value":1,"tagPattern":"b.*"})");
  REQUIRE_MESSAGE(created.status == 201, created);
  const std::string uuid = created.Str("uuid");
  const Reply got = s.As(alice, "GET", org + uuid);
  REQUIRE(got.status == 200);
  CHECK(got.Str("method") == "number_of_tags");
  CHECK(got.json["value"].GetInt() == 1);
  CHECK(got.Str("tagPattern") == "b.*");
  CHECK(s.AuditRows("create_namespace_autoprune_policy").size() == 1);

  auto report = s.registry().RunAutoPrune();
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  CHECK(report->tags_pruned == 2);
  const Reply tags = s.As(alice, "GET", "/api/v1/repository/acme/app/tag/?onlyActiveTags=true");
  REQUIRE(tags.json["tags"].Size() == 1);
  CHECK(tags.json["tags"][0]["name"].GetString() == std::string("b3"));
  auto pruned = s.AuditRows("autoprune_tag_delete", "acme/app");
  REQUIRE(pruned.size() == 2);
  CHECK(pruned[0].metadata.find("\"performer\":\"autoprune worker\"") != std::string::npos);

  const Reply updated =
      s.As(alice, "PUT", org + uuid, R"({"method":"creation_date","value":"1h"})");
  CHECK_MESSAGE(updated.status == 204, updated);
  CHECK(s.As(alice, "GET", org + uuid).Str("value") == "1h");
  CHECK(s.AuditRows("update_namespace_autoprune_policy").size() == 1);
  CHECK(s.As(alice, "DELETE", org + uuid).status == 200);
  CHECK(s.As(alice, "GET", org).json["policies"].Size() == 0);
  CHECK(s.AuditRows("delete_namespace_autoprune_policy").size() == 1);

  // The repository's and the user's own routes.
  const std::string repo = "/api/v1/repository/acme/app/autoprunepolicy/";
  const Reply by_admin =
      s.As(s.Token("adam"), "POST", repo, R"({"method":"creation_date","value":"2d"})");
  REQUIRE_MESSAGE(by_admin.status == 201, by_admin);
  CHECK(s.AuditRows("create_repository_autoprune_policy", "acme/app").size() == 1);
  CHECK(s.As(s.Token("wendy"), "GET", repo).status == 403);
  const std::string bob = s.Token("bob");
  const Reply mine = s.As(bob, "POST", "/api/v1/user/autoprunepolicy/",
                          R"({"method":"number_of_tags","value":5})");
  REQUIRE_MESSAGE(mine.status == 201, mine);
  CHECK(s.As(bob, "GET", "/api/v1/user/autoprunepolicy/").json["policies"].Size() == 1);
  const std::string user_policy = "/api/v1/user/autoprunepolicy/" + mine.Str("uuid");
  CHECK(s.As(bob, "GET", user_policy).json["value"].GetInt() == 5);
  CHECK(s.As(bob, "PUT", user_policy, R"({"method":"number_of_tags","value":7})").status == 204);
  CHECK(s.As(bob, "GET", user_policy).json["value"].GetInt() == 7);
  CHECK(s.As(bob, "DELETE", user_policy).status == 200);
  CHECK(s.As(bob, "GET", user_policy).status == 404);
  CHECK(s.AuditRows("delete_namespace_autoprune_policy").size() == 2);
  const std::string repo_policy = repo + by_admin.Str("uuid");
  CHECK(s.As(s.Token("adam"), "GET", repo_policy).Str("value") == "2d");
  CHECK(s.As(s.Token("adam"), "PUT", repo_policy, R"({"method":"creation_date","value":"3d"})")
            .status == 204);
  CHECK(s.AuditRows("update_repository_autoprune_policy", "acme/app").size() == 1);
  CHECK(s.As(s.Token("adam"), "DELETE", repo_policy).status == 200);
  CHECK(s.AuditRows("delete_repository_autoprune_policy", "acme/app").size() == 1);
}

TEST_CASE("without FEATURE_IMMUTABLE_TAGS and FEATURE_AUTO_PRUNE the policy routes are 404") {
  ServerSpec spec;
  spec.api.features[static_cast<size_t>(quayd::Feature::kImmutableTags)] = false;
  spec.api.features[static_cast<size_t>(quayd::Feature::kAutoPrune)] = false;
  spec.counts_for_coverage = false;
  ApiServer s(spec);
  s.PushTag("acme/app", "latest", "one");
  const std::string alice = s.Token("alice");
  CHECK(s.As(alice, "GET", "/api/v1/organization/acme/immutabilitypolicy/").status == 404);
  CHECK(s.As(alice, "GET", "/api/v1/organization/acme/autoprunepolicy/").status == 404);
  // Quay ignores `immutable` in PUT .../tag/{tag} then; a tag stays mutable.
  CHECK(s.As(alice, "PUT", "/api/v1/repository/acme/app/tag/latest",
             R"({"immutable":true,"manifest_digest":null})")
            .status == 400);
  CHECK(s.As(alice, "DELETE", "/api/v1/repository/acme/app/tag/latest").status == 204);
}
