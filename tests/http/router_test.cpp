// Path splitting and path-trick rejection (host/v2/router.h) and the route
// table's lookups (host/v2/routes.h).
#include "host/v2/router.h"

#include <doctest/doctest.h>

#include "host/v2/routes.h"

using quayd::CheckPathTricks;
using quayd::MatchPath;
using quayd::PathKind;

TEST_CASE("MatchPath: the API root") {
  CHECK(MatchPath("/v2/").kind == PathKind::kApiRoot);
  CHECK(MatchPath("/v2").kind == PathKind::kApiRoot);
  CHECK(MatchPath("/v1/").kind == PathKind::kUnknown);
  CHECK(MatchPath("/").kind == PathKind::kUnknown);
  CHECK(MatchPath("").kind == PathKind::kUnknown);
  CHECK(MatchPath("/v2x/").kind == PathKind::kUnknown);
}

TEST_CASE("MatchPath: every route kind, with nested names") {
  auto m = MatchPath("/v2/library/ubuntu/blobs/uploads/");
  CHECK(m.kind == PathKind::kUploadStart);
  CHECK(m.name == "library/ubuntu");

  m = MatchPath("/v2/a/blobs/uploads");
  CHECK(m.kind == PathKind::kUploadStart);
  CHECK(m.name == "a");

  m = MatchPath("/v2/a/b/c/blobs/uploads/0d6e-id");
  CHECK(m.kind == PathKind::kUpload);
  CHECK(m.name == "a/b/c");
  CHECK(m.argument == "0d6e-id");

  m = MatchPath("/v2/a/blobs/sha256:abc");
  CHECK(m.kind == PathKind::kBlob);
  CHECK(m.name == "a");
  CHECK(m.argument == "sha256:abc");

  m = MatchPath("/v2/org/app/manifests/latest");
  CHECK(m.kind == PathKind::kManifest);
  CHECK(m.name == "org/app");
  CHECK(m.argument == "latest");
}

TEST_CASE("MatchPath: discovery routes") {
  auto m = MatchPath("/v2/_catalog");
  CHECK(m.kind == PathKind::kCatalog);
  CHECK(m.name.empty());
  CHECK(m.argument.empty());

  m = MatchPath("/v2/auth");
  CHECK(m.kind == PathKind::kToken);
  CHECK(m.name.empty());
  // A repository called "auth" is still a repository.
  CHECK(MatchPath("/v2/auth/manifests/latest").kind == PathKind::kManifest);
  CHECK(MatchPath("/v2/auth/manifests/latest").name == "auth");
  CHECK(MatchPath("/v2/auth/").kind == PathKind::kUnknown);

  m = MatchPath("/v2/library/ubuntu/tags/list");
  CHECK(m.kind == PathKind::kTagList);
  CHECK(m.name == "library/ubuntu");
  CHECK(m.argument.empty());

  m = MatchPath("/v2/a/b/referrers/sha256:abc");
  CHECK(m.kind == PathKind::kReferrers);
  CHECK(m.name == "a/b");
  CHECK(m.argument == "sha256:abc");

  // Keywords inside names, matched from the right.
  m = MatchPath("/v2/x/tags/tags/list");
  CHECK(m.kind == PathKind::kTagList);
  CHECK(m.name == "x/tags");
  m = MatchPath("/v2/x/tags/manifests/list");
  CHECK(m.kind == PathKind::kManifest);
  CHECK(m.name == "x/tags");
  CHECK(m.argument == "list");
  m = MatchPath("/v2/referrers/manifests/v1");
  CHECK(m.kind == PathKind::kManifest);
  CHECK(m.name == "referrers");
  m = MatchPath("/v2/x/_catalog/tags/list");
  CHECK(m.kind == PathKind::kTagList);
  CHECK(m.name == "x/_catalog");  // routed; the name check rejects it

  // No name: routed, so the name check answers NAME_INVALID.
  m = MatchPath("/v2/tags/list");
  CHECK(m.kind == PathKind::kTagList);
  CHECK(m.name.empty());
}

TEST_CASE("HasRepository") {
  CHECK_FALSE(quayd::HasRepository(PathKind::kApiRoot));
  CHECK_FALSE(quayd::HasRepository(PathKind::kCatalog));
  CHECK_FALSE(quayd::HasRepository(PathKind::kUnknown));
  for (PathKind kind : {PathKind::kUploadStart, PathKind::kUpload, PathKind::kBlob,
                        PathKind::kManifest, PathKind::kTagList, PathKind::kReferrers}) {
    CHECK(quayd::HasRepository(kind));
  }
}

TEST_CASE("MatchPath: keywords inside a name are matched from the right") {
  // A repository called "x/blobs" (legal) holding a manifest.
  auto m = MatchPath("/v2/x/blobs/manifests/v1");
  CHECK(m.kind == PathKind::kManifest);
  CHECK(m.name == "x/blobs");
  CHECK(m.argument == "v1");

  // A repository called "manifests/a".
  m = MatchPath("/v2/manifests/a/blobs/sha256:00");
  CHECK(m.kind == PathKind::kBlob);
  CHECK(m.name == "manifests/a");

  // A repository called "uploads".
  m = MatchPath("/v2/uploads/blobs/uploads/id");
  CHECK(m.kind == PathKind::kUpload);
  CHECK(m.name == "uploads");
}

TEST_CASE("MatchPath: unknown and empty-name shapes") {
  CHECK(MatchPath("/v2/foo").kind == PathKind::kUnknown);
  CHECK(MatchPath("/v2/foo/tags").kind == PathKind::kUnknown);
  CHECK(MatchPath("/v2/foo/tags/other").kind == PathKind::kUnknown);
  CHECK(MatchPath("/v2/foo/tags/list/").kind == PathKind::kUnknown);
  CHECK(MatchPath("/v2/foo/referrers/").kind == PathKind::kUnknown);
  CHECK(MatchPath("/v2/_catalog/").kind == PathKind::kUnknown);
  CHECK(MatchPath("/v2/_catalog/x").kind == PathKind::kUnknown);
  CHECK(MatchPath("/v2/a/_catalog").kind == PathKind::kUnknown);
  CHECK(MatchPath("/v2/foo/manifests/").kind == PathKind::kUnknown);
  CHECK(MatchPath("/v2/foo/uploads/x").kind == PathKind::kUnknown);
  CHECK(MatchPath("/v2/foo/bar/").kind == PathKind::kUnknown);
  // No name: routed, so the name check answers NAME_INVALID.
  auto m = MatchPath("/v2/manifests/latest");
  CHECK(m.kind == PathKind::kManifest);
  CHECK(m.name.empty());
  m = MatchPath("/v2/blobs/uploads/");
  CHECK(m.kind == PathKind::kUploadStart);
  CHECK(m.name.empty());
}

TEST_CASE("CheckPathTricks") {
  CHECK(CheckPathTricks("/v2/a/b/manifests/latest?x=1", "/v2/a/b/manifests/latest").ok());
  CHECK(CheckPathTricks("/v2/", "/v2/").ok());
  CHECK_FALSE(CheckPathTricks("/v2/a%2Fb/manifests/x", "/v2/a/b/manifests/x").ok());
  CHECK_FALSE(CheckPathTricks("/v2/a%2fb/manifests/x", "/v2/a/b/manifests/x").ok());
  CHECK_FALSE(CheckPathTricks("/v2/a/%2e%2e/b/manifests/x", "/v2/a/../b/manifests/x").ok());
  CHECK_FALSE(CheckPathTricks("/v2/a//b/manifests/x", "/v2/a//b/manifests/x").ok());
  CHECK_FALSE(CheckPathTricks("/v2/a/../b/manifests/x", "/v2/a/../b/manifests/x").ok());
  CHECK_FALSE(CheckPathTricks("/v2/a/./b/manifests/x", "/v2/a/./b/manifests/x").ok());
  CHECK_FALSE(CheckPathTricks("/v2/a/manifests/..", "/v2/a/manifests/..").ok());
  CHECK(CheckPathTricks("/v2/a/manifests/..", "x").code() == quay::Code::kInvalidArgument);
  CHECK(CheckPathTricks("/v2/a%2Fb/x", "/v2/a/b/x").subject() == quay::Subject::kName);
  // '%' in the query is fine.
  CHECK(CheckPathTricks("/v2/a/blobs/uploads/?digest=sha256%3Aab", "/v2/a/blobs/uploads/").ok());
}

TEST_CASE("route table: unique (method, path) pairs, lookups agree") {
  using quayd::FindRoute;
  using quayd::Routes;
  for (const quayd::Route& route : Routes()) {
    CHECK(FindRoute(route.method, route.path) == &route);
    CHECK(static_cast<bool>(route.handler));
    CHECK_FALSE(route.id.empty());
    CHECK(route.path != PathKind::kUnknown);
  }
  CHECK(FindRoute(quayd::Method::kPut, PathKind::kBlob) == nullptr);
  CHECK(FindRoute(quayd::Method::kHead, PathKind::kTagList) == nullptr);
  CHECK(FindRoute(quayd::Method::kGet, PathKind::kUnknown) == nullptr);
  CHECK(FindRoute(quayd::Method::kDelete, PathKind::kBlob)->action == quay::Action::kDelete);
  CHECK(FindRoute(quayd::Method::kDelete, PathKind::kManifest)->action == quay::Action::kDelete);
  CHECK(FindRoute(quayd::Method::kGet, PathKind::kTagList)->action == quay::Action::kPull);
  CHECK(FindRoute(quayd::Method::kGet, PathKind::kReferrers)->action == quay::Action::kPull);
  CHECK(FindRoute(quayd::Method::kGet, PathKind::kCatalog)->action == quay::Action::kCatalog);
  CHECK(quayd::AllowedMethods(PathKind::kBlob) == "GET, HEAD, DELETE");
  CHECK(quayd::AllowedMethods(PathKind::kManifest) == "GET, HEAD, PUT, DELETE");
  CHECK(quayd::AllowedMethods(PathKind::kCatalog) == "GET");
  CHECK(quayd::AllowedMethods(PathKind::kUpload) == "GET, PUT, PATCH, DELETE");
  CHECK(quayd::ParseMethod("OPTIONS") == quayd::Method::kOther);
}
