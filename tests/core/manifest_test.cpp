#include "quay/manifest.h"

#include <doctest/doctest.h>

#include <string>

namespace quay {
namespace {

namespace mt = media_type;

const std::string kConfigDigest = Digest::Of("config").str();
const std::string kLayer0Digest = Digest::Of("layer0").str();
const std::string kLayer1Digest = Digest::Of("layer1").str();
const std::string kChildDigest = Digest::Of("child").str();

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string Desc(std::string_view media_type, const std::string& digest, std::string size,
                 std::string extra = "") {
  return "{\"mediaType\":" + Quoted(media_type) + ",\"digest\":" + Quoted(digest) +
         ",\"size\":" + size + extra + "}";
}

// An image manifest body; `media_type` empty leaves the field out.
std::string Image(std::string_view media_type, std::string extra = "", std::string layer1 = "") {
  std::string body = "{\"schemaVersion\":2,";
  if (!media_type.empty()) body += "\"mediaType\":" + Quoted(media_type) + ",";
  if (layer1.empty()) {
    layer1 = Desc("application/vnd.oci.image.layer.v1.tar+gzip", kLayer1Digest, "20");
  }
  body += "\"config\":" + Desc("application/vnd.oci.image.config.v1+json", kConfigDigest, "7") +
          ",\"layers\":[" +
          Desc("application/vnd.oci.image.layer.v1.tar+gzip", kLayer0Digest, "10") + "," + layer1 +
          "]" + extra + "}";
  return body;
}

std::string Index(std::string_view media_type, std::string extra = "") {
  std::string body = "{\"schemaVersion\":2,";
  if (!media_type.empty()) body += "\"mediaType\":" + Quoted(media_type) + ",";
  body += "\"manifests\":[" +
          Desc(mt::kOciManifest, kChildDigest, "512",
               ",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\","
               "\"os.features\":[\"x\"]}") +
          "," + Desc(mt::kOciManifest, kConfigDigest, "100") + "]" + extra + "}";
  return body;
}

void CheckInvalid(const Result<Manifest>& r, std::string_view needle = "") {
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().subject() == Subject::kManifest);
  if (!needle.empty()) {
    CAPTURE(r.status().message());
    CHECK(r.status().message().find(needle) != std::string::npos);
  }
}

TEST_CASE("an OCI image manifest parses with its config and layers in order") {
  auto r =
      Manifest::Parse(Image(mt::kOciManifest, ",\"annotations\":{\"a\":\"1\"}"), mt::kOciManifest);
  REQUIRE(r.ok());
  const Manifest& m = *r;
  CHECK(m.kind == ManifestKind::kImage);
  CHECK(m.media_type == mt::kOciManifest);
  REQUIRE(m.config.has_value());
  CHECK(m.config->media_type == "application/vnd.oci.image.config.v1+json");
  CHECK(m.config->digest.str() == kConfigDigest);
  CHECK(m.config->size == 7);
  REQUIRE(m.layers.size() == 2);
  CHECK(m.layers[0].digest.str() == kLayer0Digest);
  CHECK(m.layers[0].size == 10);
  CHECK(m.layers[1].digest.str() == kLayer1Digest);
  CHECK(m.manifests.empty());
  CHECK_FALSE(m.subject.has_value());
  CHECK(m.annotations.at("a") == "1");

  auto blobs = m.BlobReferences();
  REQUIRE(blobs.size() == 3);
  CHECK(blobs[0].digest.str() == kConfigDigest);
  CHECK(blobs[1].digest.str() == kLayer0Digest);
  CHECK(blobs[2].digest.str() == kLayer1Digest);
}

TEST_CASE("a Docker schema 2 manifest parses") {
  auto r = Manifest::Parse(Image(mt::kDockerManifest), mt::kDockerManifest);
  REQUIRE(r.ok());
  CHECK(r->kind == ManifestKind::kImage);
  CHECK(r->media_type == mt::kDockerManifest);
  CHECK(r->BlobReferences().size() == 3);
}

TEST_CASE("an OCI index parses with platforms") {
  auto r = Manifest::Parse(Index(mt::kOciIndex), mt::kOciIndex);
  REQUIRE(r.ok());
  CHECK(r->kind == ManifestKind::kIndex);
  CHECK(r->media_type == mt::kOciIndex);
  REQUIRE(r->manifests.size() == 2);
  CHECK(r->manifests[0].digest.str() == kChildDigest);
  CHECK(r->manifests[0].size == 512);
  REQUIRE(r->manifests[0].platform.has_value());
  CHECK(r->manifests[0].platform->architecture == "arm64");
  CHECK(r->manifests[0].platform->os == "linux");
  CHECK(r->manifests[0].platform->variant == "v8");
  CHECK_FALSE(r->manifests[1].platform.has_value());
  CHECK_FALSE(r->config.has_value());
  CHECK(r->layers.empty());
  CHECK(r->BlobReferences().empty());
}

TEST_CASE("a Docker manifest list parses") {
  auto r = Manifest::Parse(Index(mt::kDockerManifestList), mt::kDockerManifestList);
  REQUIRE(r.ok());
  CHECK(r->kind == ManifestKind::kIndex);
  CHECK(r->media_type == mt::kDockerManifestList);
  CHECK(r->manifests.size() == 2);
}

TEST_CASE("an OCI artifact with artifactType, custom config and a subject parses") {
  std::string body = "{\"schemaVersion\":2,\"mediaType\":" + Quoted(mt::kOciManifest) +
                     ",\"artifactType\":\"application/vnd.example.sbom.v1\"" +
                     ",\"config\":" + Desc(mt::kOciEmpty, Digest::Of("{}").str(), "2") +
                     ",\"layers\":[]" +
                     ",\"subject\":" + Desc(mt::kOciManifest, kChildDigest, "512") +
                     ",\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01\"}}";
  auto r = Manifest::Parse(body, mt::kOciManifest);
  REQUIRE(r.ok());
  CHECK(r->artifact_type == "application/vnd.example.sbom.v1");
  REQUIRE(r->config.has_value());
  CHECK(r->config->media_type == mt::kOciEmpty);
  CHECK(r->layers.empty());
  REQUIRE(r->subject.has_value());
  CHECK(r->subject->digest.str() == kChildDigest);
  CHECK(r->subject->size == 512);
  CHECK(r->annotations.at("org.opencontainers.image.created") == "2024-01-01");
  CHECK(r->BlobReferences().size() == 1);

  std::string custom = "{\"schemaVersion\":2,\"config\":" +
                       Desc("application/vnd.cncf.helm.config.v1+json", kConfigDigest, "7",
                            ",\"artifactType\":\"x/y\",\"annotations\":{\"k\":\"v\"}") +
                       ",\"layers\":[" +
                       Desc("application/vnd.cncf.helm.chart.content.v1.tar+gzip", kLayer0Digest,
                            "10", ",\"urls\":[\"https://example.com/x\"]") +
                       "]}";
  auto helm = Manifest::Parse(custom, "");
  REQUIRE(helm.ok());
  CHECK(helm->media_type == mt::kOciManifest);
  CHECK(helm->config->media_type == "application/vnd.cncf.helm.config.v1+json");
  CHECK(helm->config->artifact_type == "x/y");
  CHECK(helm->config->annotations.at("k") == "v");
}

TEST_CASE("without a body mediaType the Content-Type or the shape decides") {
  auto by_header = Manifest::Parse(Image(""), mt::kOciManifest);
  REQUIRE(by_header.ok());
  CHECK(by_header->media_type == mt::kOciManifest);

  auto image = Manifest::Parse(Image(""), "application/json");
  REQUIRE(image.ok());
  CHECK(image->media_type == mt::kOciManifest);

  auto index = Manifest::Parse(Index(""), "");
  REQUIRE(index.ok());
  CHECK(index->media_type == mt::kOciIndex);
  CHECK(index->kind == ManifestKind::kIndex);

  auto index_by_header = Manifest::Parse(Index(""), mt::kOciIndex);
  REQUIRE(index_by_header.ok());
  CHECK(index_by_header->kind == ManifestKind::kIndex);

  CheckInvalid(Manifest::Parse("{\"schemaVersion\":2}", ""), "cannot tell");
  // Docker's formats always carry mediaType in the body.
  CheckInvalid(Manifest::Parse(Image(""), mt::kDockerManifest), "required");
}

TEST_CASE("Content-Type parameters and case do not cause a mismatch") {
  auto r = Manifest::Parse(Image(mt::kOciManifest),
                           "Application/VND.oci.image.manifest.v1+json; charset=utf-8");
  REQUIRE(r.ok());
  CHECK(r->media_type == mt::kOciManifest);
}

TEST_CASE("a body mediaType that contradicts Content-Type is rejected") {
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest), mt::kDockerManifest), "does not match");
  CheckInvalid(Manifest::Parse(Index(mt::kOciIndex), mt::kOciManifest), "does not match");
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest), "text/plain"), "does not match");
  CheckInvalid(Manifest::Parse(Image(""), "text/plain"), "not a manifest");
}

TEST_CASE("malformed JSON and non-objects are InvalidArgument(kManifest)") {
  CheckInvalid(Manifest::Parse("", mt::kOciManifest), "not valid JSON");
  CheckInvalid(Manifest::Parse(std::string_view(), ""), "not valid JSON");
  CheckInvalid(Manifest::Parse("{\"schemaVersion\":2,", mt::kOciManifest), "not valid JSON");
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest) + "x", mt::kOciManifest), "not valid JSON");
  CheckInvalid(Manifest::Parse("{\"a\":\"\xff\"}", ""), "not valid JSON");  // invalid UTF-8
  CheckInvalid(Manifest::Parse("[1,2]", mt::kOciManifest), "JSON object");
  CheckInvalid(Manifest::Parse("\"text\"", ""), "JSON object");
  CheckInvalid(Manifest::Parse("null", ""), "JSON object");
}

TEST_CASE("deeply nested JSON fails cleanly instead of overflowing the stack") {
  std::string deep = "{\"schemaVersion\":2,\"x\":" + std::string(200000, '[') + "}";
  CheckInvalid(Manifest::Parse(deep, ""), "not valid JSON");
}

TEST_CASE("schemaVersion must be 2") {
  std::string body = Image(mt::kOciManifest);
  auto with_version = [&](std::string v) {
    std::string b = body;
    b.replace(b.find("\"schemaVersion\":2"), 17, "\"schemaVersion\":" + v);
    return Manifest::Parse(b, mt::kOciManifest);
  };
  CheckInvalid(with_version("3"), "schemaVersion");
  // An OCI body claiming version 1 is malformed, not a Docker schema 1 manifest.
  CheckInvalid(with_version("1"), "schemaVersion must be 2");
  CheckInvalid(with_version("\"2\""), "schemaVersion");
  CheckInvalid(with_version("2.5"), "schemaVersion");
  CheckInvalid(with_version("null"), "schemaVersion is required");
  std::string missing = body;
  missing.erase(missing.find("\"schemaVersion\":2,"), 18);
  CheckInvalid(Manifest::Parse(missing, mt::kOciManifest), "schemaVersion is required");
}

TEST_CASE("Docker schema 1 is Unsupported(kMediaType)") {
  const char* schema1 =
      "{\"schemaVersion\":1,\"name\":\"a/b\",\"tag\":\"latest\",\"fsLayers\":[],\"history\":[]}";
  for (std::string_view ct : {"application/vnd.docker.distribution.manifest.v1+json",
                              "application/vnd.docker.distribution.manifest.v1+prettyjws", ""}) {
    CAPTURE(ct);
    auto r = Manifest::Parse(schema1, ct);
    CHECK(r.status().code() == Code::kUnsupported);
    CHECK(r.status().subject() == Subject::kMediaType);
  }
  std::string with_type =
      "{\"schemaVersion\":1,\"mediaType\":\"application/"
      "vnd.docker.distribution.manifest.v1+json\"}";
  CHECK(Manifest::Parse(with_type, "").status().code() == Code::kUnsupported);
}

TEST_CASE("an unknown body mediaType is rejected") {
  CheckInvalid(Manifest::Parse(Image("application/vnd.oci.image.config.v1+json"), ""),
               "not a manifest or index media type");
  CheckInvalid(Manifest::Parse("{\"schemaVersion\":2,\"mediaType\":5}", ""), "must be a string");
}

TEST_CASE("an image needs a config and layers") {
  std::string no_config =
      "{\"schemaVersion\":2,\"mediaType\":" + Quoted(mt::kOciManifest) + ",\"layers\":[]}";
  CheckInvalid(Manifest::Parse(no_config, mt::kOciManifest), "config is required");

  std::string no_layers = "{\"schemaVersion\":2,\"mediaType\":" + Quoted(mt::kOciManifest) +
                          ",\"config\":" + Desc("a/b", kConfigDigest, "1") + "}";
  CheckInvalid(Manifest::Parse(no_layers, mt::kOciManifest), "layers is required");

  std::string layers_object = "{\"schemaVersion\":2,\"mediaType\":" + Quoted(mt::kOciManifest) +
                              ",\"config\":" + Desc("a/b", kConfigDigest, "1") + ",\"layers\":{}}";
  CheckInvalid(Manifest::Parse(layers_object, mt::kOciManifest), "layers must be an array");

  std::string config_string = "{\"schemaVersion\":2,\"mediaType\":" + Quoted(mt::kOciManifest) +
                              ",\"config\":\"x\",\"layers\":[]}";
  CheckInvalid(Manifest::Parse(config_string, mt::kOciManifest), "config must be an object");
}

TEST_CASE("an index needs manifests and nothing image-shaped") {
  CheckInvalid(Manifest::Parse("{\"schemaVersion\":2,\"mediaType\":" + Quoted(mt::kOciIndex) + "}",
                               mt::kOciIndex),
               "manifests is required");
  // mediaType says index, body is an image.
  CheckInvalid(Manifest::Parse(Image(mt::kOciIndex), mt::kOciIndex), "must not have config");
  // mediaType says image, body is an index.
  CheckInvalid(Manifest::Parse(Index(mt::kOciManifest), mt::kOciManifest),
               "must not have manifests");
}

TEST_CASE("bad descriptors name the offending field") {
  std::string bad_digest =
      Desc("application/vnd.oci.image.layer.v1.tar+gzip", "sha256:NOTHEX", "5");
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest, "", bad_digest), ""), "layers[1].digest");

  std::string unsupported_digest =
      Desc("application/vnd.oci.image.layer.v1.tar+gzip", "sha384:abcdef", "5");
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest, "", unsupported_digest), ""),
               "not supported");

  auto layer = [](std::string size, std::string extra = "") {
    return Manifest::Parse(
        Image(mt::kOciManifest, "",
              Desc("application/vnd.oci.image.layer.v1.tar+gzip", kLayer1Digest, size, extra)),
        mt::kOciManifest);
  };
  CheckInvalid(layer("-1"), "layers[1].size must not be negative");
  CheckInvalid(layer("-0.5"), "must not be negative");
  CheckInvalid(layer("1.5"), "size must be an integer");
  CheckInvalid(layer("\"10\""), "size must be a non-negative integer");
  CheckInvalid(layer("9223372036854775808"), "too large");
  CHECK(layer("9223372036854775807").ok());
  CHECK(layer("0").ok());
  CheckInvalid(layer("1", ",\"annotations\":{\"k\":1}"), "annotations");
  CheckInvalid(layer("1", ",\"annotations\":[]"), "annotations must be an object");
  CheckInvalid(layer("1", ",\"urls\":\"x\""), "urls must be an array");
  CheckInvalid(layer("1", ",\"urls\":[1]"), "urls");
  CheckInvalid(layer("1", ",\"artifactType\":7"), "artifactType must be a string");

  std::string no_size = "{\"mediaType\":\"a/b\",\"digest\":" + Quoted(kLayer1Digest) + "}";
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest, "", no_size), ""),
               "layers[1].size is required");
  std::string no_type = "{\"digest\":" + Quoted(kLayer1Digest) + ",\"size\":1}";
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest, "", no_type), ""),
               "layers[1].mediaType is required");
  std::string no_digest = "{\"mediaType\":\"a/b\",\"size\":1}";
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest, "", no_digest), ""),
               "layers[1].digest is required");
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest, "", "7"), ""),
               "layers[1] must be an object");
}

TEST_CASE("index platforms must carry architecture and os") {
  std::string body =
      "{\"schemaVersion\":2,\"mediaType\":" + Quoted(mt::kOciIndex) + ",\"manifests\":[" +
      Desc(mt::kOciManifest, kChildDigest, "1", ",\"platform\":{\"os\":\"linux\"}") + "]}";
  CheckInvalid(Manifest::Parse(body, mt::kOciIndex), "manifests[0].platform.architecture");
  std::string not_object = "{\"schemaVersion\":2,\"manifests\":[" +
                           Desc(mt::kOciManifest, kChildDigest, "1", ",\"platform\":[]") + "]}";
  CheckInvalid(Manifest::Parse(not_object, ""), "platform must be an object");
}

TEST_CASE("top-level optional fields are type-checked") {
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest, ",\"artifactType\":[]"), ""),
               "artifactType must be a string");
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest, ",\"subject\":{\"size\":1}"), ""),
               "subject.mediaType is required");
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest, ",\"annotations\":{\"a\":null}"), ""),
               "annotations");
  // null stands for an absent optional field.
  auto r = Manifest::Parse(Image(mt::kOciManifest, ",\"subject\":null,\"annotations\":null"), "");
  REQUIRE(r.ok());
  CHECK_FALSE(r->subject.has_value());
}

// Go clients (encoding/json) refuse a BOM and take the last of duplicate
// keys where RapidJSON takes the first: such a document would be validated
// here as one manifest and read by the client as another.
TEST_CASE("a UTF-8 byte-order mark is refused") {
  CheckInvalid(Manifest::Parse("\xEF\xBB\xBF" + Image(mt::kOciManifest), ""), "byte-order mark");
  CheckInvalid(Manifest::Parse("\xEF\xBB\xBF" + Index(mt::kOciIndex), ""), "byte-order mark");
}

TEST_CASE("duplicate object keys are refused at any depth") {
  // Top level.
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest, ",\"schemaVersion\":2"), ""),
               "duplicate object key \"schemaVersion\"");
  // Inside a descriptor: the digest a Go client would read is the second one.
  const std::string layer = Desc("application/vnd.oci.image.layer.v1.tar+gzip", kLayer1Digest, "20",
                                 ",\"digest\":" + Quoted(kChildDigest));
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest, "", layer), ""),
               "duplicate object key \"digest\"");
  // Inside annotations, an index platform and an unknown extension field.
  CheckInvalid(
      Manifest::Parse(Image(mt::kOciManifest, ",\"annotations\":{\"a\":\"1\",\"a\":\"2\"}"), ""),
      "duplicate object key \"a\"");
  CheckInvalid(Manifest::Parse(Index(mt::kOciIndex, ",\"x\":[{\"y\":{\"k\":1,\"k\":1}}]"), ""),
               "duplicate object key \"k\"");
  // Many members: still found (sorted, not pairwise).
  std::string many = ",\"annotations\":{";
  for (int i = 0; i < 2000; ++i) many += "\"k" + std::to_string(i) + "\":\"v\",";
  many += "\"k1999\":\"v\"}";
  CheckInvalid(Manifest::Parse(Image(mt::kOciManifest, many), ""),
               "duplicate object key \"k1999\"");
  // The same key in sibling objects is fine.
  CHECK(Manifest::Parse(Image(mt::kOciManifest), "").ok());
}

TEST_CASE("non-distributable layers are recognised by urls or media type") {
  auto r = Manifest::Parse(Image(mt::kOciManifest, "",
                                 Desc("application/vnd.oci.image.layer.v1.tar+gzip", kLayer1Digest,
                                      "20", ",\"urls\":[\"https://example.com/layer\"]")),
                           "");
  REQUIRE(r.ok());
  CHECK_FALSE(r->layers[0].non_distributable());
  CHECK(r->layers[1].non_distributable());
  CHECK(r->layers[1].urls == std::vector<std::string>{"https://example.com/layer"});
  Descriptor d;
  for (std::string_view t : {"application/vnd.oci.image.layer.nondistributable.v1.tar",
                             "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                             "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
                             "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"}) {
    d.media_type = t;
    CHECK_MESSAGE(d.non_distributable(), t);
  }
  for (std::string_view t : {"application/vnd.oci.image.layer.v1.tar",
                             "application/vnd.oci.image.layer.nondistributable.v1.tarball",
                             "application/vnd.docker.image.rootfs.diff.tar.gzip"}) {
    d.media_type = t;
    CHECK_FALSE_MESSAGE(d.non_distributable(), t);
  }
}

}  // namespace
}  // namespace quay
