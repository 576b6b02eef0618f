// Tag listing, the repository catalog and referrers.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "db/database.h"
#include "registry_test_support.h"
#include "test_database.h"

using namespace quay;
using quay::testing::ArtifactManifest;
using quay::testing::OpenRegistry;
using quay::testing::PushBlob;
using quay::testing::PushImage;
using quay::testing::PushImageBlobs;
using quay::testing::TempDir;

namespace {
constexpr std::string_view kOci = media_type::kOciManifest;
using Names = std::vector<std::string>;

NamePage Tags(Registry& r, std::string_view repo, size_t limit, std::string_view after = {}) {
  auto page = r.ListTags(repo, limit, after);
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  return *page;
}

NamePage Repos(Registry& r, size_t limit, std::string_view after = {}) {
  auto page = r.ListRepositories(limit, after);
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  return *page;
}

std::vector<Descriptor> Referrers(Registry& r, std::string_view repo, const Digest& subject,
                                  std::string_view artifact_type = {}) {
  auto list = r.ListReferrers(repo, subject, artifact_type);
  REQUIRE_MESSAGE(list.ok(), list.status().ToString());
  return *list;
}
}  // namespace

TEST_CASE("tags are listed in byte order and paged with `more`") {
  auto r = OpenRegistry();
  const std::string m = PushImageBlobs(*r, "lib/app", "x");
  // Byte order puts digits before upper case before '_' before lower case.
  for (const char* tag : {"b", "a", "B", "a1", "_x", "10", "9"}) {
    REQUIRE(r->PutManifest("lib/app", tag, kOci, m).ok());
  }
  auto all = Tags(*r, "lib/app", 100);
  CHECK(all.names == Names{"10", "9", "B", "_x", "a", "a1", "b"});
  CHECK_FALSE(all.more);

  auto p1 = Tags(*r, "lib/app", 3);
  CHECK(p1.names == Names{"10", "9", "B"});
  CHECK(p1.more);
  auto p2 = Tags(*r, "lib/app", 3, p1.names.back());
  CHECK(p2.names == Names{"_x", "a", "a1"});
  CHECK(p2.more);
  auto p3 = Tags(*r, "lib/app", 3, p2.names.back());
  CHECK(p3.names == Names{"b"});
  CHECK_FALSE(p3.more);

  // A page that ends exactly at the last tag has nothing more.
  auto exact = Tags(*r, "lib/app", 4, "B");
  CHECK(exact.names == Names{"_x", "a", "a1", "b"});
  CHECK_FALSE(exact.more);

  // `after` need not be a tag; it is only a position.
  CHECK(Tags(*r, "lib/app", 2, "a0").names == Names{"a1", "b"});
  CHECK(Tags(*r, "lib/app", 10, "zzz").names.empty());

  auto none = Tags(*r, "lib/app", 0);
  CHECK(none.names.empty());
  CHECK(none.more);
}

TEST_CASE("tag listing shows live tags once and knows unknown repositories") {
  auto r = OpenRegistry();
  PushImage(*r, "lib/app", "a", "v1");
  const Digest b = PushImage(*r, "lib/app", "b", "v1");  // moves v1: one live row, one ended
  PushImage(*r, "lib/app", "c", "v2");
  REQUIRE(r->DeleteTag("lib/app", "v2").ok());
  CHECK(Tags(*r, "lib/app", 10).names == Names{"v1"});
  REQUIRE(r->DeleteManifest("lib/app", b).ok());
  CHECK(Tags(*r, "lib/app", 10).names.empty());

  CHECK(r->ListTags("no/such", 10, "").status().subject() == Subject::kRepository);
  CHECK(r->ListTags("no/such", 10, "").status().code() == Code::kNotFound);
  CHECK(r->ListTags("Bad//name", 10, "").status().subject() == Subject::kName);

  // A repository holding only blobs exists and has no tags.
  PushBlob(*r, "only/blobs", "bytes");
  auto empty = Tags(*r, "only/blobs", 10);
  CHECK(empty.names.empty());
  CHECK_FALSE(empty.more);
}

TEST_CASE("repositories are listed in byte order and paged with `more`") {
  auto r = OpenRegistry();
  CHECK(Repos(*r, 10).names.empty());
  for (const char* repo : {"b/x", "a", "a/b", "a-b", "a.b"}) PushBlob(*r, repo, "bytes");
  auto all = Repos(*r, 10);
  CHECK(all.names == Names{"a", "a-b", "a.b", "a/b", "b/x"});
  CHECK_FALSE(all.more);
  auto p1 = Repos(*r, 2);
  CHECK(p1.names == Names{"a", "a-b"});
  CHECK(p1.more);
  auto p2 = Repos(*r, 2, p1.names.back());
  CHECK(p2.names == Names{"a.b", "a/b"});
  CHECK(p2.more);
  auto p3 = Repos(*r, 2, p2.names.back());
  CHECK(p3.names == Names{"b/x"});
  CHECK_FALSE(p3.more);
  CHECK(Repos(*r, 0).more);
  // A huge limit must not overflow "one more than asked".
  CHECK(Repos(*r, SIZE_MAX).names.size() == 5);
}

TEST_CASE("10,000 tags page through completely, in order") {
  auto r = OpenRegistry();
  const std::string m = PushImageBlobs(*r, "big/repo", "x");
  constexpr int kTags = 10'000;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> expected;
  for (int i = 0; i < kTags; ++i) {
    expected.push_back("t" + std::to_string(i));
    REQUIRE(r->PutManifest("big/repo", expected.back(), kOci, m).ok());
  }
  std::sort(expected.begin(), expected.end());
  const auto pushed = std::chrono::steady_clock::now();

  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  for (;;) {
    auto page = Tags(*r, "big/repo", 1000, after);
    ++pages;
    seen.insert(seen.end(), page.names.begin(), page.names.end());
    if (!page.more) break;
    REQUIRE(page.names.size() == 1000);
    after = page.names.back();
  }
  const auto listed = std::chrono::steady_clock::now();
  CHECK(pages == 10);
  CHECK(seen == expected);
  // What makes every page cost the same wherever it starts is the plan below
  // (a wall-clock bound here would only measure how busy the machine is).
  MESSAGE("push: ", std::chrono::duration_cast<std::chrono::milliseconds>(pushed - start).count(),
          " ms, list: ",
          std::chrono::duration_cast<std::chrono::milliseconds>(listed - pushed).count(), " ms");
}

TEST_CASE("10,000 repositories page through completely, in order") {
  auto r = OpenRegistry();
  constexpr int kRepos = 10'000;
  std::vector<std::string> expected;
  const Digest shared = PushBlob(*r, "seed", "shared bytes");
  for (int i = 0; i < kRepos; ++i) {
    expected.push_back("org/r" + std::to_string(i));
    // Mounting is the cheapest way to create a repository (one transaction).
    REQUIRE(r->MountBlob(expected.back(), shared, "seed").ok());
  }
  expected.push_back("seed");
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> seen;
  std::string after;
  for (;;) {
    auto page = Repos(*r, 777, after);
    seen.insert(seen.end(), page.names.begin(), page.names.end());
    if (!page.more) break;
    after = page.names.back();
  }
  CHECK(seen == expected);
}

TEST_CASE("referrers: descriptors, artifactType fallback, filter, unknown subject") {
  auto r = OpenRegistry();
  const Digest subject = PushImage(*r, "sig/app", "img", "v1");

  const std::string sig =
      ArtifactManifest(*r, "sig/app", "application/vnd.example.sig", media_type::kOciEmpty, subject,
                       R"({"org.example.signer":"alice","b":"line\nbreak \"q\""})");
  REQUIRE(r->PutManifest("sig/app", Digest::Of(sig).str(), kOci, sig).ok());
  // No artifactType: the config's media type stands in for it.
  const std::string sbom =
      ArtifactManifest(*r, "sig/app", "", "application/vnd.example.sbom", subject);
  REQUIRE(r->PutManifest("sig/app", Digest::Of(sbom).str(), kOci, sbom).ok());
  // A referrer of something else is not listed.
  const std::string other = ArtifactManifest(*r, "sig/app", "application/vnd.example.sig",
                                             media_type::kOciEmpty, Digest::Of("other"));
  REQUIRE(r->PutManifest("sig/app", Digest::Of(other).str(), kOci, other).ok());

  auto all = Referrers(*r, "sig/app", subject);
  REQUIRE(all.size() == 2);
  CHECK(all[0].digest == Digest::Of(sig));
  CHECK(all[0].media_type == kOci);
  CHECK(all[0].size == sig.size());
  CHECK(all[0].artifact_type == "application/vnd.example.sig");
  CHECK(all[0].annotations == std::map<std::string, std::string>{{"org.example.signer", "alice"},
                                                                 {"b", "line\nbreak \"q\""}});
  CHECK(all[1].digest == Digest::Of(sbom));
  CHECK(all[1].artifact_type == "application/vnd.example.sbom");
  CHECK(all[1].annotations.empty());

  auto sigs = Referrers(*r, "sig/app", subject, "application/vnd.example.sig");
  REQUIRE(sigs.size() == 1);
  CHECK(sigs[0].digest == Digest::Of(sig));
  auto sboms = Referrers(*r, "sig/app", subject, "application/vnd.example.sbom");
  REQUIRE(sboms.size() == 1);
  CHECK(sboms[0].digest == Digest::Of(sbom));
  CHECK(Referrers(*r, "sig/app", subject, "application/vnd.example.none").empty());

  CHECK(Referrers(*r, "sig/app", Digest::Of("unknown subject")).empty());
  CHECK(r->ListReferrers("no/such", subject, "").status().subject() == Subject::kRepository);
  CHECK(r->ListReferrers("Bad", subject, "").status().subject() == Subject::kName);

  // A deleted referrer is no longer listed.
  REQUIRE(r->DeleteManifest("sig/app", Digest::Of(sbom)).ok());
  CHECK(Referrers(*r, "sig/app", subject).size() == 1);
}

TEST_CASE("a referrer pushed before its subject is listed, and once the subject arrives") {
  auto r = OpenRegistry();
  const std::string image = PushImageBlobs(*r, "sig/app", "later");
  const Digest subject = Digest::Of(image);
  const std::string sig = ArtifactManifest(*r, "sig/app", "application/vnd.example.sig",
                                           media_type::kOciEmpty, subject);
  REQUIRE(r->PutManifest("sig/app", Digest::Of(sig).str(), kOci, sig).ok());
  CHECK(Referrers(*r, "sig/app", subject).size() == 1);
  REQUIRE(r->PutManifest("sig/app", "v1", kOci, image).ok());
  auto list = Referrers(*r, "sig/app", subject);
  REQUIRE(list.size() == 1);
  CHECK(list[0].digest == Digest::Of(sig));
}

TEST_CASE("an index with a subject is a referrer; its artifactType does not fall back") {
  auto r = OpenRegistry();
  const Digest subject = PushImage(*r, "sig/app", "img", "v1");
  const Digest child = PushImage(*r, "sig/app", "child", "c");
  const std::string index =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
      quay::testing::DescriptorJson(kOci, child, 1) + R"(],"subject":)" +
      quay::testing::DescriptorJson(kOci, subject, 1) + R"(,"annotations":{"k":"v"}})";
  REQUIRE(r->PutManifest("sig/app", Digest::Of(index).str(), media_type::kOciIndex, index).ok());
  auto list = Referrers(*r, "sig/app", subject);
  REQUIRE(list.size() == 1);
  CHECK(list[0].media_type == media_type::kOciIndex);
  CHECK(list[0].artifact_type.empty());
  CHECK(list[0].annotations == std::map<std::string, std::string>{{"k", "v"}});
}

// Version 2 added columns that referrers read; rows written before it are
// backfilled from their stored content. Simulate a version-1 database by
// removing what version 2 and every later version added, then reopen.
TEST_CASE("migrating to schema 2 backfills referrer data of existing manifests" *
          quay::testing::SqliteOnly()) {
  TempDir dir;
  Options options;
  options.data_dir = dir.path();
  options.durable = false;
  Digest subject;
  Digest sig_digest;
  {
    auto r = OpenRegistry(options);
    subject = PushImage(*r, "sig/app", "img", "v1");
    const std::string sig = ArtifactManifest(*r, "sig/app", "", "application/vnd.example.sig",
                                             subject, R"({"who":"bob"})");
    sig_digest = Digest::Of(sig);
    REQUIRE(r->PutManifest("sig/app", sig_digest.str(), kOci, sig).ok());
  }
  {
    SQLite::Database db((std::filesystem::path(dir.path()) / "quay.db").string(),
                        SQLite::OPEN_READWRITE);
    // Everything versions 2 and later added: every trigger, then the
    // indexes and tables version 1 did not create, then version 2's
    // columns. Listed by what version 1 has, so later migrations need no
    // change here unless they add columns to version-1 tables.
    const std::set<std::string> v1_tables = {"repository", "blob",          "repository_blob",
                                             "manifest",   "manifest_blob", "manifest_child",
                                             "tag",        "upload",        "schema_migrations"};
    const std::set<std::string> v1_indexes = {
        "repository_blob_digest", "manifest_subject", "manifest_blob_digest",
        "manifest_child_child",   "tag_live",         "tag_manifest"};
    std::vector<std::pair<std::string, std::string>> objects;  // (type, name)
    {
      SQLite::Statement q(
          db,
          "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
          " ORDER BY CASE type WHEN 'trigger' THEN 0 WHEN 'index' THEN 1 ELSE 2 END");
      while (q.executeStep())
        objects.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString());
    }
    for (const auto& [type, name] : objects) {
      if (type == "trigger") {
        db.exec("DROP TRIGGER IF EXISTS " + name);
      } else if (type == "index" && !v1_indexes.count(name)) {
        db.exec("DROP INDEX IF EXISTS " + name);
      } else if (type == "table" && !v1_tables.count(name)) {
        db.exec("DROP TABLE IF EXISTS " + name);
      }
    }
    for (const char* column : {"deleted_at", "config_media_type", "annotations", "layers_size"}) {
      db.exec(std::string("ALTER TABLE manifest DROP COLUMN ") + column);
    }
    for (const char* column : {"expires_at", "immutable"}) {  // version 10
      db.exec(std::string("ALTER TABLE tag DROP COLUMN ") + column);
    }
    db.exec("DELETE FROM schema_migrations WHERE version >= 2");
  }
  auto r = OpenRegistry(options);
  auto list = Referrers(*r, "sig/app", subject);
  REQUIRE(list.size() == 1);
  CHECK(list[0].digest == sig_digest);
  CHECK(list[0].artifact_type == "application/vnd.example.sig");
  CHECK(list[0].annotations == std::map<std::string, std::string>{{"who", "bob"}});
  CHECK(r->GetManifest("sig/app", "v1").ok());
  // Version 7 summed the layer sizes of the manifests already stored.
  SQLite::Database db((std::filesystem::path(dir.path()) / "quay.db").string(),
                      SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM manifest WHERE layers_size IS NOT NULL").getInt() >= 1);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM manifest WHERE (layers_size IS NULL) <>"
                      " (json_type(CAST(content AS TEXT), '$.layers') IS NOT 'array')")
            .getInt() == 0);
}

// Issue 11: the keyset page above in terms that do not depend on the
// machine's load: the tags list seeks into the live-tag index at `after` and
// reads the page in index order, with neither a scan nor a sort.
TEST_CASE("a tags list page seeks the live-tag index from its start" *
          quay::testing::SqliteOnly()) {
  auto opened = quay::db::Database::Open(quay::testing::TestDatabaseFor(":memory:"), false);
  REQUIRE(opened.ok());
  auto plan = (*opened)->ExplainTagNames();
  REQUIRE(plan.ok());
  INFO(*plan);
  CHECK(plan->find("SEARCH t USING INDEX tag_live (repository_id=? AND name>?)") !=
        std::string::npos);
  CHECK(plan->find("SCAN t") == std::string::npos);
  CHECK(plan->find("TEMP B-TREE") == std::string::npos);
}
