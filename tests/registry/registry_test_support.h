// Shared helpers for the registry tests: temp data dirs and one-call pushes.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "quay/quay.h"
#include "test_database.h"

namespace quay::testing {

// A fresh directory under /tmp, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "quay-test-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<Registry> OpenRegistry(const Options& options = {}) {
  auto r = Registry::Open(quay::testing::WithTestDatabase(options));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return std::move(*r);
}

inline Digest PushBlob(Registry& r, std::string_view repo, const std::string& bytes) {
  auto upload = r.StartUpload(repo);
  REQUIRE_MESSAGE(upload.ok(), upload.status().ToString());
  REQUIRE((*upload)->Write(bytes.data(), bytes.size()).ok());
  const Digest d = Digest::Of(bytes);
  auto info = (*upload)->Commit(d);
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  return d;
}

inline std::string DescriptorJson(std::string_view media_type, const Digest& d, size_t size) {
  return std::string(R"({"mediaType":")") + std::string(media_type) + R"(","digest":")" + d.str() +
         R"(","size":)" + std::to_string(size) + "}";
}

// An OCI image manifest over a config and one layer, both pushed to `repo`.
inline std::string PushImageBlobs(Registry& r, std::string_view repo, const std::string& seed) {
  const std::string config = R"({"architecture":"amd64","os":"linux","seed":")" + seed + "\"}";
  const std::string layer = "layer bytes of " + seed;
  const Digest cd = PushBlob(r, repo, config);
  const Digest ld = PushBlob(r, repo, layer);
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
         DescriptorJson("application/vnd.oci.image.config.v1+json", cd, config.size()) +
         R"(,"layers":[)" +
         DescriptorJson("application/vnd.oci.image.layer.v1.tar+gzip", ld, layer.size()) + "]}";
}

// Pushes PushImageBlobs(seed) as a manifest under `reference`; its digest.
inline Digest PushImage(Registry& r, std::string_view repo, const std::string& seed,
                        std::string_view reference) {
  const std::string m = PushImageBlobs(r, repo, seed);
  auto put = r.PutManifest(repo, reference, media_type::kOciManifest, m);
  REQUIRE_MESSAGE(put.ok(), put.status().ToString());
  return put->digest;
}

// An OCI artifact manifest whose subject is `subject` (which need not exist
// yet). `artifact_type` may be empty (then the config's media type stands in
// for it); `annotations_json` is a JSON object or empty.
inline std::string ArtifactManifest(Registry& r, std::string_view repo,
                                    std::string_view artifact_type,
                                    std::string_view config_media_type, const Digest& subject,
                                    std::string_view annotations_json = {},
                                    const std::string& seed = "") {
  const std::string config = "{" + (seed.empty() ? "" : "\"seed\":\"" + seed + "\"") + "}";
  const Digest cd = PushBlob(r, repo, config);
  std::string m =
      R"({"schemaVersion":2,"mediaType":")" + std::string(media_type::kOciManifest) + "\"";
  if (!artifact_type.empty()) m += R"(,"artifactType":")" + std::string(artifact_type) + "\"";
  m += R"(,"config":)" + DescriptorJson(config_media_type, cd, config.size());
  m += R"(,"layers":[],"subject":)" + DescriptorJson(media_type::kOciManifest, subject, 123);
  if (!annotations_json.empty()) m += R"(,"annotations":)" + std::string(annotations_json);
  m += "}";
  return m;
}

// A registry on a ManualClock the test moves by hand.
struct ClockedRegistry {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::unique_ptr<Registry> registry;

  explicit ClockedRegistry(Options options = {}) {
    options.clock = clock;
    registry = OpenRegistry(options);
  }
  Registry* operator->() { return registry.get(); }
  Registry& operator*() { return *registry; }
};

}  // namespace quay::testing
