#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "registry_test_support.h"

using namespace quay;
using quay::testing::DescriptorJson;
using quay::testing::OpenRegistry;
using quay::testing::PushBlob;
using quay::testing::PushImage;
using quay::testing::PushImageBlobs;
using quay::testing::TempDir;

namespace {
constexpr std::string_view kOci = media_type::kOciManifest;
}

TEST_CASE("a manifest pushed by tag is served by tag and by digest with its bytes") {
  auto r = OpenRegistry();
  const std::string m = PushImageBlobs(*r, "lib/app", "v1");
  auto put = r->PutManifest("lib/app", "v1", kOci, m);
  REQUIRE_MESSAGE(put.ok(), put.status().ToString());
  CHECK(put->digest == Digest::Of(m));
  CHECK_FALSE(put->subject.has_value());

  auto by_tag = r->GetManifest("lib/app", "v1");
  REQUIRE(by_tag.ok());
  CHECK(by_tag->bytes == m);
  CHECK(by_tag->media_type == kOci);
  CHECK(by_tag->digest == Digest::Of(m));
  auto by_digest = r->GetManifest("lib/app", Digest::Of(m).str());
  REQUIRE(by_digest.ok());
  CHECK(by_digest->bytes == m);
  CHECK(r->RepositoryExists("lib/app").value());
}

TEST_CASE("moving a tag serves the new manifest; the old stays pullable by digest") {
  auto r = OpenRegistry();
  const std::string m1 = PushImageBlobs(*r, "lib/app", "one");
  const std::string m2 = PushImageBlobs(*r, "lib/app", "two");
  REQUIRE(r->PutManifest("lib/app", "latest", kOci, m1).ok());
  REQUIRE(r->PutManifest("lib/app", "latest", kOci, m2).ok());
  CHECK(r->GetManifest("lib/app", "latest")->bytes == m2);
  CHECK(r->GetManifest("lib/app", Digest::Of(m1).str())->bytes == m1);
  REQUIRE(r->PutManifest("lib/app", "latest", kOci, m2).ok());  // idempotent re-push
  CHECK(r->GetManifest("lib/app", "latest")->bytes == m2);
}

TEST_CASE("a manifest pushed by digest must match it") {
  auto r = OpenRegistry();
  const std::string m = PushImageBlobs(*r, "lib/app", "d");
  CHECK(r->PutManifest("lib/app", Digest::Of("else").str(), kOci, m).status().code() ==
        Code::kDigestMismatch);
  auto put = r->PutManifest("lib/app", Digest::Of(m).str(), kOci, m);
  REQUIRE(put.ok());
  CHECK(r->GetManifest("lib/app", Digest::Of(m).str()).ok());
}

TEST_CASE("a manifest whose blobs are not in the repository is refused and stores nothing") {
  auto r = OpenRegistry();
  const std::string m = PushImageBlobs(*r, "has/blobs", "x");
  auto put = r->PutManifest("lacks/blobs", "v1", kOci, m);
  CHECK(put.status().code() == Code::kNotFound);
  CHECK(put.status().subject() == Subject::kReference);
  // The failed push must not even create the repository.
  CHECK_FALSE(r->RepositoryExists("lacks/blobs").value());
  CHECK(r->GetManifest("lacks/blobs", "v1").status().subject() == Subject::kRepository);
}

TEST_CASE("a descriptor whose size differs from the stored blob is refused") {
  auto r = OpenRegistry();
  const std::string config = R"({"architecture":"amd64","os":"linux"})";
  const std::string layer = "layer bytes";
  const Digest cd = PushBlob(*r, "size/check", config);
  const Digest ld = PushBlob(*r, "size/check", layer);
  const auto manifest = [&](size_t config_size, size_t layer_size) {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
           DescriptorJson("application/vnd.oci.image.config.v1+json", cd, config_size) +
           R"(,"layers":[)" +
           DescriptorJson("application/vnd.oci.image.layer.v1.tar+gzip", ld, layer_size) + "]}";
  };
  for (auto [c, l] :
       {std::pair{config.size() + 1, layer.size()}, std::pair{config.size(), layer.size() - 1}}) {
    auto put = r->PutManifest("size/check", "v1", kOci, manifest(c, l));
    CHECK(put.status().code() == Code::kInvalidArgument);
    CHECK(put.status().subject() == Subject::kManifest);
    CHECK_MESSAGE(put.status().message().find("size") != std::string::npos, put.status().message());
    CHECK(r->GetManifest("size/check", "v1").status().code() == Code::kNotFound);
  }
  auto put = r->PutManifest("size/check", "v1", kOci, manifest(config.size(), layer.size()));
  CHECK_MESSAGE(put.ok(), put.status().ToString());
}

// OCI image spec: non-distributable layers (with urls, or of the
// non-distributable/foreign media types) need not be pushed.
TEST_CASE("non-distributable layers that were never pushed do not block a push") {
  auto r = OpenRegistry();
  const std::string config = R"({"architecture":"amd64","os":"windows"})";
  const Digest cd = PushBlob(*r, "win/app", config);
  const std::string pushed = "pushed layer";
  const Digest pd = PushBlob(*r, "win/app", pushed);
  const Digest absent = Digest::Of("never pushed");
  const std::string with_urls =
      R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + absent.str() +
      R"(","size":1000,"urls":["https://example.com/base.tar.gz"]})";
  for (const std::string& foreign :
       {DescriptorJson("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", absent, 1000),
        DescriptorJson("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", absent,
                       1000),
        with_urls}) {
    const std::string m =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
        DescriptorJson("application/vnd.oci.image.config.v1+json", cd, config.size()) +
        R"(,"layers":[)" + foreign + "," +
        DescriptorJson("application/vnd.oci.image.layer.v1.tar+gzip", pd, pushed.size()) + "]}";
    auto put = r->PutManifest("win/app", "v1", kOci, m);
    CHECK_MESSAGE(put.ok(), put.status().ToString());
    CHECK(r->GetManifest("win/app", "v1").ok());
  }
  // A distributable layer that is missing still blocks the push.
  const std::string m =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
      DescriptorJson("application/vnd.oci.image.config.v1+json", cd, config.size()) +
      R"(,"layers":[)" +
      DescriptorJson("application/vnd.oci.image.layer.v1.tar+gzip", absent, 1000) + "]}";
  CHECK(r->PutManifest("win/app", "v2", kOci, m).status().subject() == Subject::kReference);
  // A pushed non-distributable layer is referenced, so its size is checked.
  const std::string wrong =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
      DescriptorJson("application/vnd.oci.image.config.v1+json", cd, config.size()) +
      R"(,"layers":[)" +
      DescriptorJson("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", pd,
                     pushed.size() + 5) +
      "]}";
  CHECK(r->PutManifest("win/app", "v3", kOci, wrong).status().code() == Code::kInvalidArgument);
}

TEST_CASE("a manifest reference that is neither a tag nor a digest is not found") {
  auto r = OpenRegistry();
  const std::string m = PushImageBlobs(*r, "lib/app", "ref");
  REQUIRE(r->PutManifest("lib/app", "v1", kOci, m).ok());
  for (std::string_view bad : {"bad tag!", "sha256:short", "-leading-dash", "sha256:"}) {
    auto get = r->GetManifest("lib/app", bad);
    CHECK_MESSAGE(get.status().code() == Code::kNotFound, bad);
    CHECK_MESSAGE(get.status().subject() == Subject::kManifest, bad);
  }
}

TEST_CASE("an index needs its children in the repository") {
  auto r = OpenRegistry();
  const std::string amd = PushImageBlobs(*r, "multi/arch", "amd64");
  const std::string arm = PushImageBlobs(*r, "multi/arch", "arm64");
  const std::string index =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
      DescriptorJson(kOci, Digest::Of(amd), amd.size()) + "," +
      DescriptorJson(kOci, Digest::Of(arm), arm.size()) + "]}";
  CHECK(r->PutManifest("multi/arch", "v1", media_type::kOciIndex, index).status().subject() ==
        Subject::kReference);
  REQUIRE(r->PutManifest("multi/arch", Digest::Of(amd).str(), kOci, amd).ok());
  REQUIRE(r->PutManifest("multi/arch", Digest::Of(arm).str(), kOci, arm).ok());
  auto put = r->PutManifest("multi/arch", "v1", media_type::kOciIndex, index);
  REQUIRE_MESSAGE(put.ok(), put.status().ToString());
  CHECK(r->GetManifest("multi/arch", "v1")->media_type == media_type::kOciIndex);
}

TEST_CASE("an artifact with a subject reports it") {
  auto r = OpenRegistry();
  const std::string image = PushImageBlobs(*r, "sig/app", "img");
  REQUIRE(r->PutManifest("sig/app", "v1", kOci, image).ok());
  const std::string empty = "{}";
  const Digest ed = PushBlob(*r, "sig/app", empty);
  const std::string sig = R"({"schemaVersion":2,"mediaType":")" + std::string(kOci) +
                          R"(","artifactType":"application/vnd.example.sig","config":)" +
                          DescriptorJson(media_type::kOciEmpty, ed, 2) +
                          R"(,"layers":[],"subject":)" +
                          DescriptorJson(kOci, Digest::Of(image), image.size()) + "}";
  auto put = r->PutManifest("sig/app", Digest::Of(sig).str(), kOci, sig);
  REQUIRE_MESSAGE(put.ok(), put.status().ToString());
  REQUIRE(put->subject.has_value());
  CHECK(*put->subject == Digest::Of(image));
}

TEST_CASE("bad manifests are refused before storage") {
  auto r = OpenRegistry();
  CHECK(r->PutManifest("lib/app", "v1", kOci, "{not json").status().subject() ==
        Subject::kManifest);
  CHECK(r->PutManifest("lib/app", "bad tag!", kOci, "{}").status().subject() == Subject::kTag);
  CHECK(r->PutManifest("../etc", "v1", kOci, "{}").status().subject() == Subject::kName);
  Options small;
  small.max_manifest_bytes = 16;
  auto r2 = OpenRegistry(small);
  CHECK(r2->PutManifest("lib/app", "v1", kOci, std::string(17, ' ')).status().code() ==
        Code::kTooLarge);
  CHECK_FALSE(r->RepositoryExists("lib/app").value());
}

TEST_CASE("unknown repositories and manifests are told apart") {
  auto r = OpenRegistry();
  CHECK(r->GetManifest("no/such", "v1").status().subject() == Subject::kRepository);
  const std::string m = PushImageBlobs(*r, "lib/app", "z");
  REQUIRE(r->PutManifest("lib/app", "v1", kOci, m).ok());
  CHECK(r->GetManifest("lib/app", "v2").status().subject() == Subject::kManifest);
  CHECK(r->GetManifest("lib/app", Digest::Of("nope").str()).status().subject() ==
        Subject::kManifest);
}

// Manifest and blob-link reads are cached (registry/context.h). A change made
// through this registry is seen at once; one made by another process on the
// same data directory (here: a second Registry on the same files) within the
// epoch poll interval.
TEST_CASE("cached manifest and blob reads follow changes") {
  TempDir dir;
  Options options;
  options.data_dir = dir.path();
  options.durable = false;
  auto r = OpenRegistry(options);
  const Digest v1 = PushImage(*r, "cache/app", "one", "latest");
  for (int i = 0; i < 2; ++i) REQUIRE(r->GetManifest("cache/app", "latest")->digest == v1);

  for (int i = 0; i < 2; ++i) {
    CHECK(r->ListTags("cache/app", 100, "")->names == std::vector<std::string>{"latest"});
  }

  // Same process: a moved tag is seen by the very next read, a new one too.
  const Digest v2 = PushImage(*r, "cache/app", "two", "latest");
  CHECK(r->GetManifest("cache/app", "latest")->digest == v2);
  PushImage(*r, "cache/app", "two", "stable");
  CHECK(r->ListTags("cache/app", 100, "")->names == std::vector<std::string>{"latest", "stable"});
  const Digest layer = PushBlob(*r, "cache/app", "a layer to unlink");
  for (int i = 0; i < 2; ++i) REQUIRE(r->StatBlob("cache/app", layer).ok());
  CHECK(r->DeleteBlob("cache/app", layer).ok());
  CHECK(r->StatBlob("cache/app", layer).status().IsNotFound());

  // Another process moves the tag and deletes the first manifest.
  REQUIRE(r->GetManifest("cache/app", v1.str()).ok());
  {
    auto other = OpenRegistry(options);
    const Digest v3 = PushImage(*other, "cache/app", "three", "latest");
    REQUIRE(other->DeleteManifest("cache/app", v1).ok());
    REQUIRE(other->DeleteTag("cache/app", "stable").ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    CHECK(r->GetManifest("cache/app", "latest")->digest == v3);
    CHECK(r->ListTags("cache/app", 100, "")->names == std::vector<std::string>{"latest"});
  }
  CHECK(r->GetManifest("cache/app", v1.str()).status().IsNotFound());
}
