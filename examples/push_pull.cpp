// Embedding libquay: push a blob and a manifest in-process, then read them
// back. No HTTP, no server. Usage: push_pull [DATA_DIR]  (in memory without one)
#include <cstdio>
#include <string>

#include "quay/quay.h"

namespace {

int Fail(const char* what, const quay::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  quay::Options options;
  if (argc > 1) options.data_dir = argv[1];
  auto opened = quay::Registry::Open(options);
  if (!opened.ok()) return Fail("open registry", opened.status());
  quay::Registry& registry = **opened;

  // 1. Upload a layer and a config. Write() can be called once per chunk as
  //    bytes arrive; the digest is computed while writing.
  auto push_blob = [&](const std::string& bytes) -> quay::Result<quay::BlobInfo> {
    auto upload = registry.StartUpload("examples/hello");
    if (!upload.ok()) return upload.status();
    if (auto s = (*upload)->Write(bytes.data(), bytes.size()); !s.ok()) return s;
    return (*upload)->Commit(quay::Digest::Of(bytes));
  };
  const std::string layer = "hello from an embedded registry\n";
  const std::string config = R"({"architecture":"amd64","os":"linux"})";
  auto layer_info = push_blob(layer);
  if (!layer_info.ok()) return Fail("push layer", layer_info.status());
  auto config_info = push_blob(config);
  if (!config_info.ok()) return Fail("push config", config_info.status());

  // 2. Push a manifest that references them, under the tag "v1".
  auto descriptor = [](const char* type, const quay::BlobInfo& b) {
    return std::string(R"({"mediaType":")") + type + R"(","digest":")" + b.digest.str() +
           R"(","size":)" + std::to_string(b.size) + "}";
  };
  const std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
      descriptor("application/vnd.oci.image.config.v1+json", *config_info) + R"(,"layers":[)" +
      descriptor("application/vnd.oci.image.layer.v1.tar", *layer_info) + "]}";
  auto put = registry.PutManifest("examples/hello", "v1", quay::media_type::kOciManifest, manifest);
  if (!put.ok()) return Fail("push manifest", put.status());

  // 3. Pull: resolve the tag, then stream the layer back.
  auto got = registry.GetManifest("examples/hello", "v1");
  if (!got.ok()) return Fail("get manifest", got.status());
  if (got->bytes != manifest || got->digest != put->digest) {
    std::fprintf(stderr, "manifest came back different\n");
    return 1;
  }
  auto reader = registry.OpenBlob("examples/hello", layer_info->digest);
  if (!reader.ok()) return Fail("open layer", reader.status());
  std::string back((*reader)->size(), '\0');
  auto n = (*reader)->ReadAt(0, back.data(), back.size());
  if (!n.ok()) return Fail("read layer", n.status());
  if (back != layer) {
    std::fprintf(stderr, "layer came back different\n");
    return 1;
  }
  std::printf("pushed and pulled examples/hello:v1 (%s)\n", put->digest.str().c_str());
  return 0;
}
