// Blob commits of concurrent pushes share transactions (db/group_commit.h):
// every item still succeeds or fails on its own, and a failed one leaves
// nothing behind.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "db/database.h"
#include "registry_test_support.h"
#include "test_database.h"

using namespace quay;
using quay::testing::TempDir;

TEST_CASE("concurrent blob commits: each lands or fails alone") {
  TempDir dir;
  auto opened = db::Database::Open(
      quay::testing::TestDatabaseFor((std::filesystem::path(dir.path()) / "quay.db").string()),
      /*durable=*/true);
  REQUIRE(opened.ok());
  db::Database& database = **opened;

  constexpr int kCommits = 48;
  std::vector<Digest> digests;
  for (int i = 0; i < kCommits; ++i) {
    digests.push_back(Digest::Of("blob " + std::to_string(i)));
    REQUIRE(database.InsertUpload("up-" + std::to_string(i), "group/app", 1).ok());
  }
  // Every third session is cancelled before its commit: that commit must fail
  // with NotFound(kUpload) and record nothing, whatever group it joins.
  for (int i = 0; i < kCommits; i += 3) {
    REQUIRE(database.DeleteUpload("up-" + std::to_string(i)).ok());
  }

  std::vector<Status> results(kCommits);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCommits; ++i) {
    threads.emplace_back([&, i] {
      results[i] =
          database.CommitBlob("up-" + std::to_string(i), "group/app", digests[i], 100 + i, 2);
    });
  }
  for (auto& t : threads) t.join();

  for (int i = 0; i < kCommits; ++i) {
    CAPTURE(i);
    auto linked = database.FindRepositoryBlob("group/app", digests[i]);
    REQUIRE(linked.ok());
    if (i % 3 == 0) {
      CHECK(results[i].code() == Code::kNotFound);
      CHECK_FALSE(linked->has_value());
    } else {
      CHECK(results[i].ok());
      REQUIRE(linked->has_value());
      CHECK(**linked == static_cast<uint64_t>(100 + i));
    }
  }
  // The committed sessions ended with their commits.
  auto left = database.ListUploadIds();
  REQUIRE(left.ok());
  CHECK(left->empty());
}

TEST_CASE("concurrent manifest pushes share commits; a bad one fails alone") {
  TempDir dir;
  auto opened = db::Database::Open(
      quay::testing::TestDatabaseFor((std::filesystem::path(dir.path()) / "quay.db").string()),
      /*durable=*/true);
  REQUIRE(opened.ok());
  db::Database& database = **opened;
  const Digest layer = Digest::Of("shared layer");
  REQUIRE(database.InsertUpload("up-layer", "group/app", 1).ok());
  REQUIRE(database.CommitBlob("up-layer", "group/app", layer, 12, 1).ok());

  constexpr int kPushes = 32;
  std::vector<std::string> contents(kPushes);
  std::vector<Status> results(kPushes);
  std::vector<std::thread> threads;
  for (int i = 0; i < kPushes; ++i) {
    contents[i] = "{\"manifest\":" + std::to_string(i) + "}";
    threads.emplace_back([&, i] {
      db::NewManifest m;
      m.digest = Digest::Of(contents[i]);
      m.media_type = "application/vnd.oci.image.manifest.v1+json";
      m.content = contents[i];
      // Every fourth references a blob the repository does not have.
      m.blobs = {
          {i % 4 == 0 ? Digest::Of("missing " + std::to_string(i)) : layer, std::nullopt, true}};
      m.tag = "t" + std::to_string(i);
      results[i] = database.PutManifest("group/app", m, 2);
    });
  }
  for (auto& t : threads) t.join();

  for (int i = 0; i < kPushes; ++i) {
    CAPTURE(i);
    auto found = database.FindManifestByTag("group/app", "t" + std::to_string(i));
    REQUIRE(found.ok());
    if (i % 4 == 0) {
      CHECK(results[i].code() == Code::kNotFound);
      CHECK_FALSE(found->has_value());
      auto by_digest = database.FindManifestByDigest("group/app", Digest::Of(contents[i]));
      REQUIRE(by_digest.ok());
      CHECK_FALSE(by_digest->has_value());
    } else {
      CHECK(results[i].ok());
      REQUIRE(found->has_value());
      CHECK((*found)->content == contents[i]);
    }
  }
}
