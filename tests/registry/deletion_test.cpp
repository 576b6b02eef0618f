// Deleting manifests, tags, blob links and repositories; cross-repository
// mounts; sha512 digests throughout.
#include <doctest/doctest.h>

#include "registry_test_support.h"

using namespace quay;
using quay::testing::ArtifactManifest;
using quay::testing::DescriptorJson;
using quay::testing::OpenRegistry;
using quay::testing::PushBlob;
using quay::testing::PushImage;
using quay::testing::PushImageBlobs;

namespace {
constexpr std::string_view kOci = media_type::kOciManifest;
using Names = std::vector<std::string>;

Names LiveTags(Registry& r, std::string_view repo) {
  auto page = r.ListTags(repo, 1000, "");
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  return page->names;
}
}  // namespace

TEST_CASE("deleting a manifest removes it and every tag pointing at it") {
  auto r = OpenRegistry();
  const Digest m = PushImage(*r, "lib/app", "one", "v1");
  REQUIRE(r->PutManifest("lib/app", "latest", kOci, PushImageBlobs(*r, "lib/app", "one")).ok());
  const Digest other = PushImage(*r, "lib/app", "two", "v2");
  CHECK(LiveTags(*r, "lib/app") == Names{"latest", "v1", "v2"});

  REQUIRE(r->DeleteManifest("lib/app", m).ok());
  CHECK(LiveTags(*r, "lib/app") == Names{"v2"});
  for (const std::string& ref : std::vector<std::string>{"v1", "latest", m.str()}) {
    auto got = r->GetManifest("lib/app", ref);
    CHECK(got.status().code() == Code::kNotFound);
    // The tags are still in the time machine (Quay's TAG_EXPIRED); the
    // digest is simply unknown.
    CHECK(got.status().subject() == (ref == m.str() ? Subject::kManifest : Subject::kExpiredTag));
  }
  CHECK(r->GetManifest("lib/app", other.str()).ok());
  CHECK(r->GetManifest("lib/app", "v2").ok());

  // The tags' history rows ended; nothing was erased.
  auto history = r->TagHistory("lib/app", "v1");
  REQUIRE(history.ok());
  REQUIRE(history->size() == 1);
  CHECK((*history)[0].manifest == m);
  CHECK((*history)[0].end.has_value());

  auto again = r->DeleteManifest("lib/app", m);
  CHECK(again.code() == Code::kNotFound);
  CHECK(again.subject() == Subject::kManifest);
  CHECK(r->DeleteManifest("lib/app", Digest::Of("never pushed")).subject() == Subject::kManifest);
  CHECK(r->DeleteManifest("no/such", m).subject() == Subject::kManifest);
  CHECK(r->DeleteManifest("Bad", m).subject() == Subject::kName);
}

TEST_CASE("a deleted manifest can be pushed again, and then is served") {
  auto r = OpenRegistry();
  const std::string bytes = PushImageBlobs(*r, "lib/app", "one");
  const Digest m = Digest::Of(bytes);
  REQUIRE(r->PutManifest("lib/app", "v1", kOci, bytes).ok());
  REQUIRE(r->DeleteManifest("lib/app", m).ok());
  REQUIRE(r->PutManifest("lib/app", m.str(), kOci, bytes).ok());
  CHECK(r->GetManifest("lib/app", m.str()).ok());
  CHECK(LiveTags(*r, "lib/app").empty());  // by digest: no tag comes back
  REQUIRE(r->DeleteManifest("lib/app", m).ok());
  REQUIRE(r->PutManifest("lib/app", "v2", kOci, bytes).ok());
  CHECK(r->GetManifest("lib/app", "v2")->digest == m);
}

TEST_CASE("an index cannot reference a deleted child") {
  auto r = OpenRegistry();
  const Digest child = PushImage(*r, "multi/arch", "amd64", "amd64");
  const std::string index =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
      DescriptorJson(kOci, child, 1) + "]}";
  REQUIRE(r->DeleteManifest("multi/arch", child).ok());
  CHECK(r->PutManifest("multi/arch", "v1", media_type::kOciIndex, index).status().subject() ==
        Subject::kReference);
}

TEST_CASE("deleting a tag ends it and leaves the manifest pullable by digest") {
  auto r = OpenRegistry();
  const Digest m = PushImage(*r, "lib/app", "one", "v1");
  REQUIRE(r->PutManifest("lib/app", "v2", kOci, PushImageBlobs(*r, "lib/app", "one")).ok());
  REQUIRE(r->DeleteTag("lib/app", "v1").ok());
  CHECK(LiveTags(*r, "lib/app") == Names{"v2"});
  CHECK(r->GetManifest("lib/app", "v1").status().subject() == Subject::kExpiredTag);
  CHECK(r->GetManifest("lib/app", "never").status().subject() == Subject::kManifest);
  CHECK(r->GetManifest("lib/app", m.str()).ok());
  CHECK(r->GetManifest("lib/app", "v2").ok());

  auto again = r->DeleteTag("lib/app", "v1");
  CHECK(again.code() == Code::kNotFound);
  CHECK(again.subject() == Subject::kTag);
  CHECK(r->DeleteTag("lib/app", "never").subject() == Subject::kTag);
  CHECK(r->DeleteTag("no/such", "v1").subject() == Subject::kTag);
  CHECK(r->DeleteTag("lib/app", "bad tag!").subject() == Subject::kTag);
  CHECK(r->DeleteTag("lib/app", "bad tag!").code() == Code::kInvalidArgument);
}

TEST_CASE("deleting a blob unlinks it from one repository only") {
  auto r = OpenRegistry();
  const Digest d = PushBlob(*r, "a/one", "shared");
  PushBlob(*r, "a/two", "shared");
  REQUIRE(r->DeleteBlob("a/one", d).ok());
  CHECK(r->StatBlob("a/one", d).status().subject() == Subject::kBlob);
  CHECK(r->OpenBlob("a/one", d).status().subject() == Subject::kBlob);
  CHECK(r->StatBlob("a/two", d).ok());
  CHECK(r->OpenBlob("a/two", d).ok());  // the bytes stay (GC decides)

  auto again = r->DeleteBlob("a/one", d);
  CHECK(again.code() == Code::kNotFound);
  CHECK(again.subject() == Subject::kBlob);
  CHECK(r->DeleteBlob("no/such", d).subject() == Subject::kBlob);
  CHECK(r->DeleteBlob("Bad", d).subject() == Subject::kName);

  // A manifest needing the unlinked blob is refused there.
  const std::string m = R"({"schemaVersion":2,"mediaType":")" + std::string(kOci) +
                        R"(","config":)" + DescriptorJson("application/json", d, 6) +
                        R"(,"layers":[]})";
  CHECK(r->PutManifest("a/one", "v1", kOci, m).status().subject() == Subject::kReference);
  CHECK(r->PutManifest("a/two", "v1", kOci, m).ok());
}

TEST_CASE("mounting links a blob from another repository without an upload") {
  auto r = OpenRegistry();
  const std::string bytes = "layer to share";
  const Digest d = PushBlob(*r, "src/repo", bytes);

  auto info = r->MountBlob("dst/repo", d, "src/repo");
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  CHECK(info->digest == d);
  CHECK(info->size == bytes.size());
  CHECK(r->RepositoryExists("dst/repo").value());  // created by the mount
  CHECK(r->StatBlob("dst/repo", d)->size == bytes.size());
  auto reader = r->OpenBlob("dst/repo", d);
  REQUIRE(reader.ok());
  std::string got(bytes.size(), '\0');
  CHECK(*(*reader)->ReadAt(0, got.data(), got.size()) == bytes.size());
  CHECK(got == bytes);
  CHECK(r->MountBlob("dst/repo", d, "src/repo").ok());  // again: harmless

  // Each link is independent of the other.
  REQUIRE(r->DeleteBlob("src/repo", d).ok());
  CHECK(r->StatBlob("dst/repo", d).ok());

  // Not in the source: NotFound(kBlob), and the target is not created.
  auto miss = r->MountBlob("other/repo", d, "src/repo");
  CHECK(miss.status().code() == Code::kNotFound);
  CHECK(miss.status().subject() == Subject::kBlob);
  CHECK(r->MountBlob("other/repo", d, "no/such").status().subject() == Subject::kBlob);
  CHECK(r->MountBlob("other/repo", Digest::Of("unknown"), "dst/repo").status().subject() ==
        Subject::kBlob);
  CHECK_FALSE(r->RepositoryExists("other/repo").value());

  CHECK(r->MountBlob("Bad", d, "dst/repo").status().subject() == Subject::kName);
  CHECK(r->MountBlob("other/repo", d, "../dst").status().subject() == Subject::kName);
}

TEST_CASE("deleting a repository removes its tags, manifests, links and uploads") {
  auto store = NewMemoryBlobStore();
  Options options;
  options.blob_store = store;
  auto r = OpenRegistry(options);

  const Digest shared = PushBlob(*r, "keep/repo", "shared bytes");
  REQUIRE(r->MountBlob("gone/repo", shared, "keep/repo").ok());
  const Digest amd = PushImage(*r, "gone/repo", "amd64", "amd64");
  const Digest arm = PushImage(*r, "gone/repo", "arm64", "arm64");
  const std::string index =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
      DescriptorJson(kOci, amd, 1) + "," + DescriptorJson(kOci, arm, 1) + "]}";
  REQUIRE(r->PutManifest("gone/repo", "latest", media_type::kOciIndex, index).ok());
  const std::string sig =
      ArtifactManifest(*r, "gone/repo", "application/vnd.example.sig", media_type::kOciEmpty, amd);
  REQUIRE(r->PutManifest("gone/repo", Digest::Of(sig).str(), kOci, sig).ok());
  REQUIRE(r->DeleteTag("gone/repo", "arm64").ok());  // an ended history row too
  auto upload = r->StartUpload("gone/repo");
  REQUIRE(upload.ok());
  const std::string upload_id = (*upload)->id();
  upload->reset();
  auto keep_upload = r->StartUpload("keep/repo");
  REQUIRE(keep_upload.ok());
  const std::string keep_id = (*keep_upload)->id();
  keep_upload->reset();

  REQUIRE(r->DeleteRepository("gone/repo").ok());

  CHECK_FALSE(r->RepositoryExists("gone/repo").value());
  CHECK(r->ListRepositories(10, "")->names == Names{"keep/repo"});
  CHECK(r->GetManifest("gone/repo", "latest").status().subject() == Subject::kRepository);
  CHECK(r->GetManifest("gone/repo", amd.str()).status().subject() == Subject::kRepository);
  CHECK(r->ListTags("gone/repo", 10, "").status().subject() == Subject::kRepository);
  CHECK(r->TagHistory("gone/repo", "amd64").status().subject() == Subject::kRepository);
  CHECK(r->StatBlob("gone/repo", shared).status().subject() == Subject::kBlob);
  CHECK(r->GetUpload("gone/repo", upload_id).status().subject() == Subject::kUpload);
  CHECK(store->ListUploads().value() == std::vector<std::string>{keep_id});

  // Other repositories keep their links, sessions and the shared bytes.
  CHECK(r->StatBlob("keep/repo", shared).ok());
  CHECK(r->OpenBlob("keep/repo", shared).ok());
  CHECK(r->GetUpload("keep/repo", keep_id).ok());

  auto again = r->DeleteRepository("gone/repo");
  CHECK(again.code() == Code::kNotFound);
  CHECK(again.subject() == Subject::kRepository);
  CHECK(r->DeleteRepository("Bad//name").subject() == Subject::kName);

  // The name starts afresh: nothing of the old repository shows through.
  const Digest fresh = PushImage(*r, "gone/repo", "fresh", "v1");
  CHECK(LiveTags(*r, "gone/repo") == Names{"v1"});
  CHECK(r->GetManifest("gone/repo", amd.str()).status().subject() == Subject::kManifest);
  CHECK(r->TagHistory("gone/repo", "latest")->empty());
  CHECK(r->GetManifest("gone/repo", fresh.str()).ok());
}

TEST_CASE("an upload still open when its repository is deleted cannot commit") {
  auto r = OpenRegistry();
  PushBlob(*r, "gone/repo", "something");
  auto upload = r->StartUpload("gone/repo");
  REQUIRE(upload.ok());
  const std::string bytes = "late bytes";
  REQUIRE((*upload)->Write(bytes.data(), bytes.size()).ok());
  REQUIRE(r->DeleteRepository("gone/repo").ok());
  auto commit = (*upload)->Commit(Digest::Of(bytes));
  CHECK(commit.status().code() == Code::kNotFound);
  CHECK(commit.status().subject() == Subject::kUpload);
  CHECK_FALSE(r->RepositoryExists("gone/repo").value());  // not brought back
}

TEST_CASE("sha512 digests work for blobs, manifests, referrers, mounts and deletes") {
  auto r = OpenRegistry();
  const auto push512 = [&](std::string_view repo, const std::string& bytes) {
    auto upload = r->StartUpload(repo);
    REQUIRE(upload.ok());
    REQUIRE((*upload)->Write(bytes.data(), bytes.size()).ok());
    const Digest d = Digest::Of(bytes, DigestAlgorithm::kSha512);
    auto info = (*upload)->Commit(d);
    REQUIRE_MESSAGE(info.ok(), info.status().ToString());
    return d;
  };
  const std::string config = R"({"architecture":"amd64","os":"linux"})";
  const std::string layer = "sha512 layer";
  const Digest cd = push512("lib/app", config);
  const Digest ld = push512("lib/app", layer);
  CHECK(cd.algorithm() == DigestAlgorithm::kSha512);
  CHECK(r->StatBlob("lib/app", ld)->size == layer.size());

  const std::string image =
      R"({"schemaVersion":2,"mediaType":")" + std::string(kOci) + R"(","config":)" +
      DescriptorJson("application/vnd.oci.image.config.v1+json", cd, config.size()) +
      R"(,"layers":[)" +
      DescriptorJson("application/vnd.oci.image.layer.v1.tar+gzip", ld, layer.size()) + "]}";
  const Digest md = Digest::Of(image, DigestAlgorithm::kSha512);
  auto put = r->PutManifest("lib/app", md.str(), kOci, image);
  REQUIRE_MESSAGE(put.ok(), put.status().ToString());
  CHECK(put->digest == md);
  auto got = r->GetManifest("lib/app", md.str());
  REQUIRE(got.ok());
  CHECK(got->bytes == image);
  CHECK(got->digest == md);
  // The same bytes under their sha256 digest were never pushed.
  CHECK(r->GetManifest("lib/app", Digest::Of(image).str()).status().subject() ==
        Subject::kManifest);
  CHECK(r->PutManifest("lib/app", Digest::Of("x", DigestAlgorithm::kSha512).str(), kOci, image)
            .status()
            .code() == Code::kDigestMismatch);

  const std::string sig =
      ArtifactManifest(*r, "lib/app", "application/vnd.example.sig", media_type::kOciEmpty, md);
  const Digest sd = Digest::Of(sig, DigestAlgorithm::kSha512);
  REQUIRE(r->PutManifest("lib/app", sd.str(), kOci, sig).ok());
  auto referrers = r->ListReferrers("lib/app", md, "");
  REQUIRE(referrers.ok());
  REQUIRE(referrers->size() == 1);
  CHECK((*referrers)[0].digest == sd);

  REQUIRE(r->MountBlob("other/app", ld, "lib/app").ok());
  CHECK(r->StatBlob("other/app", ld).ok());
  REQUIRE(r->DeleteBlob("other/app", ld).ok());
  CHECK(r->StatBlob("other/app", ld).status().subject() == Subject::kBlob);

  REQUIRE(r->PutManifest("lib/app", "v1", kOci, image).ok());  // a tag onto the sha256 digest
  REQUIRE(r->DeleteManifest("lib/app", md).ok());
  CHECK(r->GetManifest("lib/app", md.str()).status().subject() == Subject::kManifest);
  CHECK(r->GetManifest("lib/app", "v1").ok());  // pushed by tag: a sha256 manifest, untouched
}
