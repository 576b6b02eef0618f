// Content discovery over HTTP: GET /v2/<name>/tags/list, GET /v2/_catalog
// (lexical order, ?n=&last= paging, the exact Link header) and
// GET /v2/<name>/referrers/<digest> (an OCI image index, ?artifactType=).
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "http_test_support.h"

using namespace quayd::testing;

namespace {

rapidjson::Document Json(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  return doc;
}

// The string array `key` of a JSON object body.
std::vector<std::string> Names(const std::string& body, const char* key) {
  rapidjson::Document doc = Json(body);
  REQUIRE(doc.HasMember(key));
  REQUIRE(doc[key].IsArray());
  std::vector<std::string> out;
  for (const auto& v : doc[key].GetArray()) {
    REQUIRE(v.IsString());
    out.emplace_back(v.GetString());
  }
  return out;
}

// Pushes one image to `repo` and points each of `tags` at it.
void PushTags(httplib::Client& client, const std::string& repo,
              const std::vector<std::string>& tags) {
  std::string manifest = PushImageBlobs(client, repo, repo);
  for (const std::string& tag : tags) {
    auto put = client.Put("/v2/" + repo + "/manifests/" + tag, manifest, std::string(kOciManifest));
    REQUIRE(put);
    REQUIRE(put->status == 201);
  }
}

// The target of a Link: <target>; rel="next" header.
std::string LinkTarget(const std::string& link) {
  REQUIRE(link.size() > 2);
  REQUIRE(link.front() == '<');
  size_t end = link.find('>');
  REQUIRE(end != std::string::npos);
  CHECK(link.substr(end) == ">; rel=\"next\"");
  return link.substr(1, end - 1);
}

// Follows Link headers from `first`; returns every name of every page and
// checks each page holds at most `page_size` names.
std::vector<std::string> FollowPages(httplib::Client& client, std::string path, const char* key,
                                     size_t page_size, int* pages) {
  std::vector<std::string> all;
  *pages = 0;
  while (true) {
    CAPTURE(path);
    auto res = client.Get(path);
    REQUIRE(res);
    REQUIRE(res->status == 200);
    std::vector<std::string> names = Names(res->body, key);
    CHECK(names.size() <= page_size);
    all.insert(all.end(), names.begin(), names.end());
    ++*pages;
    REQUIRE(*pages < 100);
    if (!res->has_header("Link")) break;
    path = LinkTarget(res->get_header_value("Link"));
  }
  return all;
}

}  // namespace

TEST_CASE("tags/list: every live tag in lexical order") {
  TestServer server;
  auto client = server.Client();
  PushTags(*client, "org/app", {"v2", "latest", "V1", "v10", "1.0", "a_b", "a-b"});

  auto res = client->Get("/v2/org/app/tags/list");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  CHECK_FALSE(res->has_header("Link"));
  rapidjson::Document doc = Json(res->body);
  REQUIRE(doc.HasMember("name"));
  CHECK(std::string(doc["name"].GetString()) == "org/app");
  // Byte order: digits < upper case < '-' ... as strcmp orders them.
  CHECK(Names(res->body, "tags") ==
        std::vector<std::string>{"1.0", "V1", "a-b", "a_b", "latest", "v10", "v2"});
}

TEST_CASE("tags/list paging: exact Link header, n=0, last=, following links") {
  TestServer server;
  auto client = server.Client();
  PushTags(*client, "org/app", {"a", "b", "c", "d", "e"});

  auto first = client->Get("/v2/org/app/tags/list?n=2");
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(Names(first->body, "tags") == std::vector<std::string>{"a", "b"});
  CHECK(first->get_header_value("Link") == "</v2/org/app/tags/list?n=2&last=b>; rel=\"next\"");

  auto middle = client->Get("/v2/org/app/tags/list?n=2&last=b");
  REQUIRE(middle);
  CHECK(Names(middle->body, "tags") == std::vector<std::string>{"c", "d"});
  CHECK(middle->get_header_value("Link") == "</v2/org/app/tags/list?n=2&last=d>; rel=\"next\"");

  auto last = client->Get("/v2/org/app/tags/list?n=2&last=d");
  REQUIRE(last);
  CHECK(Names(last->body, "tags") == std::vector<std::string>{"e"});
  CHECK_FALSE(last->has_header("Link"));

  // A page that ends exactly at the last tag has no Link either.
  auto exact = client->Get("/v2/org/app/tags/list?n=5");
  REQUIRE(exact);
  CHECK(Names(exact->body, "tags").size() == 5);
  CHECK_FALSE(exact->has_header("Link"));
  auto larger = client->Get("/v2/org/app/tags/list?n=50");
  REQUIRE(larger);
  CHECK(Names(larger->body, "tags").size() == 5);
  CHECK_FALSE(larger->has_header("Link"));

  // n=0: an empty list and no Link (its next page would be the same).
  auto zero = client->Get("/v2/org/app/tags/list?n=0");
  REQUIRE(zero);
  CHECK(zero->status == 200);
  CHECK(Names(zero->body, "tags").empty());
  CHECK(Json(zero->body)["name"].GetString() == std::string("org/app"));
  CHECK_FALSE(zero->has_header("Link"));

  // last= is exclusive and need not be a tag; past the end is empty.
  auto between = client->Get("/v2/org/app/tags/list?last=bb");
  REQUIRE(between);
  CHECK(Names(between->body, "tags") == std::vector<std::string>{"c", "d", "e"});
  auto after_end = client->Get("/v2/org/app/tags/list?last=z");
  REQUIRE(after_end);
  CHECK(after_end->status == 200);
  CHECK(Names(after_end->body, "tags").empty());
  CHECK_FALSE(after_end->has_header("Link"));

  int pages = 0;
  CHECK(FollowPages(*client, "/v2/org/app/tags/list?n=1", "tags", 1, &pages) ==
        std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK(pages == 5);
}

TEST_CASE("tags/list and catalog: a bad n is 400 INVALID_REQUEST") {
  TestServer server;
  auto client = server.Client();
  PushTags(*client, "repo", {"v1"});
  for (const char* n : {"abc", "-1", "", "1.5", "+3", "0x10", "99999999999999999999999"}) {
    CAPTURE(n);
    for (const std::string path : {"/v2/repo/tags/list?n=", "/v2/_catalog?n="}) {
      auto res = client->Get(path + n);
      REQUIRE(res);
      CHECK(res->status == 400);
      CHECK(ErrorCode(res->body) == "INVALID_REQUEST");
    }
  }
}

TEST_CASE("tags/list: unknown repository 404 NAME_UNKNOWN, invalid name 400 NAME_INVALID") {
  TestServer server;
  auto client = server.Client();
  auto unknown = client->Get("/v2/never/pushed/tags/list");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  CHECK(ErrorCode(unknown->body) == "NAME_UNKNOWN");

  auto invalid = client->Get("/v2/Upper/tags/list");
  REQUIRE(invalid);
  CHECK(invalid->status == 400);
  CHECK(ErrorCode(invalid->body) == "NAME_INVALID");

  // Only GET is served there.
  auto post = client->Post("/v2/repo/tags/list", "", "application/json");
  REQUIRE(post);
  CHECK(post->status == 405);
  CHECK(post->get_header_value("Allow") == "GET");
}

TEST_CASE("tags/list and catalog: pages are capped by HostLimits::max_page_names") {
  ServerOptions options;
  options.limits.max_page_names = 2;
  TestServer server(options);
  auto client = server.Client();
  PushTags(*client, "repo", {"a", "b", "c"});

  // Without n the page is the cap, with a Link to go on.
  auto all = client->Get("/v2/repo/tags/list");
  REQUIRE(all);
  CHECK(Names(all->body, "tags") == std::vector<std::string>{"a", "b"});
  CHECK(all->get_header_value("Link") == "</v2/repo/tags/list?n=2&last=b>; rel=\"next\"");
  // A larger n is clamped to it.
  auto big = client->Get("/v2/repo/tags/list?n=1000");
  REQUIRE(big);
  CHECK(Names(big->body, "tags") == std::vector<std::string>{"a", "b"});
  CHECK(big->get_header_value("Link") == "</v2/repo/tags/list?n=2&last=b>; rel=\"next\"");

  PushTags(*client, "repo2", {"x"});
  PushTags(*client, "repo3", {"x"});
  auto catalog = client->Get("/v2/_catalog");
  REQUIRE(catalog);
  CHECK(Names(catalog->body, "repositories") == std::vector<std::string>{"repo", "repo2"});
  CHECK(catalog->get_header_value("Link") == "</v2/_catalog?n=2&last=repo2>; rel=\"next\"");
}

TEST_CASE("catalog: repositories in lexical order, paged with an exact Link") {
  TestServer server;
  auto client = server.Client();

  auto empty = client->Get("/v2/_catalog");
  REQUIRE(empty);
  CHECK(empty->status == 200);
  CHECK(empty->get_header_value("Content-Type") == "application/json");
  CHECK(Names(empty->body, "repositories").empty());

  for (const char* repo : {"team/b", "a", "team/a/nested", "team/a", "z-last"}) {
    PushTags(*client, repo, {"v1"});
  }
  const std::vector<std::string> sorted{"a", "team/a", "team/a/nested", "team/b", "z-last"};

  auto all = client->Get("/v2/_catalog");
  REQUIRE(all);
  CHECK(all->status == 200);
  CHECK(Names(all->body, "repositories") == sorted);
  CHECK_FALSE(all->has_header("Link"));

  auto first = client->Get("/v2/_catalog?n=2");
  REQUIRE(first);
  CHECK(Names(first->body, "repositories") == std::vector<std::string>{"a", "team/a"});
  CHECK(first->get_header_value("Link") == "</v2/_catalog?n=2&last=team/a>; rel=\"next\"");

  auto second = client->Get("/v2/_catalog?n=2&last=team/a");
  REQUIRE(second);
  CHECK(Names(second->body, "repositories") == std::vector<std::string>{"team/a/nested", "team/b"});
  CHECK(second->get_header_value("Link") == "</v2/_catalog?n=2&last=team/b>; rel=\"next\"");

  auto zero = client->Get("/v2/_catalog?n=0");
  REQUIRE(zero);
  CHECK(zero->status == 200);
  CHECK(Names(zero->body, "repositories").empty());
  CHECK_FALSE(zero->has_header("Link"));

  int pages = 0;
  CHECK(FollowPages(*client, "/v2/_catalog?n=2", "repositories", 2, &pages) == sorted);
  CHECK(pages == 3);

  // One path segment more or less is not the catalog.
  auto trailing = client->Get("/v2/_catalog/");
  REQUIRE(trailing);
  CHECK(trailing->status == 404);
  auto nested = client->Get("/v2/a/_catalog");
  REQUIRE(nested);
  CHECK(nested->status == 404);
}

namespace {

struct ReferrerFixture {
  std::string base;             // the subject manifest
  std::string sbom, signature;  // two artifacts referring to it
};

ReferrerFixture PushReferrers(httplib::Client& client, const std::string& repo) {
  ReferrerFixture f;
  f.base = PushImageBlobs(client, repo, "base");
  REQUIRE(client.Put("/v2/" + repo + "/manifests/v1", f.base, std::string(kOciManifest))->status ==
          201);
  REQUIRE(PushBlob(client, repo, "{}") == 201);
  const std::string sbom_bytes = "sbom contents";
  const std::string sig_bytes = "signature contents";
  REQUIRE(PushBlob(client, repo, sbom_bytes) == 201);
  REQUIRE(PushBlob(client, repo, sig_bytes) == 201);
  const BlobRef subject{DigestOf(f.base), f.base.size()};
  f.sbom = ArtifactManifest(
      "application/vnd.example.sbom+json", {DigestOf(sbom_bytes), sbom_bytes.size()}, subject,
      {{"org.example.kind", "sbom"}, {"org.opencontainers.image.created", "2024-01-02T03:04:05Z"}});
  f.signature = ArtifactManifest("application/vnd.example.signature",
                                 {DigestOf(sig_bytes), sig_bytes.size()}, subject);
  for (const std::string* m : {&f.sbom, &f.signature}) {
    auto put =
        client.Put("/v2/" + repo + "/manifests/" + DigestOf(*m), *m, std::string(kOciManifest));
    REQUIRE(put);
    REQUIRE(put->status == 201);
    CHECK(put->get_header_value("OCI-Subject") == DigestOf(f.base));
  }
  return f;
}

// Parses an image index body into `doc` and checks its fixed fields.
void CheckIndex(const std::string& body, rapidjson::Document& doc) {
  doc.Parse(body.data(), body.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  CHECK(doc["schemaVersion"].GetInt() == 2);
  CHECK(std::string(doc["mediaType"].GetString()) == "application/vnd.oci.image.index.v1+json");
  REQUIRE(doc["manifests"].IsArray());
}

const rapidjson::Value* FindDescriptor(const rapidjson::Document& doc, const std::string& digest) {
  for (const auto& d : doc["manifests"].GetArray()) {
    if (d["digest"].GetString() == digest) return &d;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("referrers: an OCI index of the manifests whose subject is the digest") {
  TestServer server;
  auto client = server.Client();
  ReferrerFixture f = PushReferrers(*client, "org/app");

  auto res = client->Get("/v2/org/app/referrers/" + DigestOf(f.base));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "application/vnd.oci.image.index.v1+json");
  CHECK_FALSE(res->has_header("OCI-Filters-Applied"));
  rapidjson::Document doc;
  CheckIndex(res->body, doc);
  CHECK(doc["manifests"].Size() == 2);

  const rapidjson::Value* sbom = FindDescriptor(doc, DigestOf(f.sbom));
  REQUIRE(sbom != nullptr);
  CHECK(std::string((*sbom)["mediaType"].GetString()) == kOciManifest);
  CHECK((*sbom)["size"].GetUint64() == f.sbom.size());
  CHECK(std::string((*sbom)["artifactType"].GetString()) == "application/vnd.example.sbom+json");
  REQUIRE(sbom->HasMember("annotations"));
  CHECK(std::string((*sbom)["annotations"]["org.example.kind"].GetString()) == "sbom");
  CHECK(std::string((*sbom)["annotations"]["org.opencontainers.image.created"].GetString()) ==
        "2024-01-02T03:04:05Z");

  const rapidjson::Value* sig = FindDescriptor(doc, DigestOf(f.signature));
  REQUIRE(sig != nullptr);
  CHECK((*sig)["size"].GetUint64() == f.signature.size());
  CHECK(std::string((*sig)["artifactType"].GetString()) == "application/vnd.example.signature");
  CHECK_FALSE(sig->HasMember("annotations"));

  // The referrers of a referrer: none.
  auto leaf = client->Get("/v2/org/app/referrers/" + DigestOf(f.sbom));
  REQUIRE(leaf);
  CHECK(leaf->status == 200);
  rapidjson::Document leaf_doc;
  CheckIndex(leaf->body, leaf_doc);
  CHECK(leaf_doc["manifests"].Empty());
}

TEST_CASE("referrers ?artifactType= filters and says so in OCI-Filters-Applied") {
  TestServer server;
  auto client = server.Client();
  ReferrerFixture f = PushReferrers(*client, "repo");

  auto res = client->Get("/v2/repo/referrers/" + DigestOf(f.base) +
                         "?artifactType=application/vnd.example.signature");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("OCI-Filters-Applied") == "artifactType");
  rapidjson::Document doc;
  CheckIndex(res->body, doc);
  REQUIRE(doc["manifests"].Size() == 1);
  CHECK(doc["manifests"][0]["digest"].GetString() == DigestOf(f.signature));

  // Percent-encoded '+' in the query decodes before matching.
  auto encoded = client->Get("/v2/repo/referrers/" + DigestOf(f.base) +
                             "?artifactType=application%2Fvnd.example.sbom%2Bjson");
  REQUIRE(encoded);
  CHECK(encoded->get_header_value("OCI-Filters-Applied") == "artifactType");
  rapidjson::Document encoded_doc;
  CheckIndex(encoded->body, encoded_doc);
  REQUIRE(encoded_doc["manifests"].Size() == 1);
  CHECK(encoded_doc["manifests"][0]["digest"].GetString() == DigestOf(f.sbom));

  auto none = client->Get("/v2/repo/referrers/" + DigestOf(f.base) +
                          "?artifactType=application/vnd.example.nothing");
  REQUIRE(none);
  CHECK(none->status == 200);
  CHECK(none->get_header_value("OCI-Filters-Applied") == "artifactType");
  rapidjson::Document none_doc;
  CheckIndex(none->body, none_doc);
  CHECK(none_doc["manifests"].Empty());
}

TEST_CASE("referrers: unknown subject or repository is an empty index; bad digest 400") {
  TestServer server;
  auto client = server.Client();
  PushTags(*client, "repo", {"v1"});

  for (const std::string& path : {"/v2/repo/referrers/" + DigestOf("no such manifest"),
                                  "/v2/never/pushed/referrers/" + DigestOf("x")}) {
    CAPTURE(path);
    auto res = client->Get(path);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "application/vnd.oci.image.index.v1+json");
    rapidjson::Document doc;
    CheckIndex(res->body, doc);
    CHECK(doc["manifests"].Empty());
  }

  for (const char* digest : {"sha256:abc", "latest", "sha256:" /* empty hex */,
                             "md5:d41d8cd98f00b204e9800998ecf8427e"}) {
    CAPTURE(digest);
    auto res = client->Get(std::string("/v2/repo/referrers/") + digest);
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(ErrorCode(res->body) == "DIGEST_INVALID");
  }
}
