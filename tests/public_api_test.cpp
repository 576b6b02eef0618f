// Compiled with only include/ on the include path: proves the public headers
// are self-contained and expose no third-party type.
#include <doctest/doctest.h>

#include "quay/quay.h"

TEST_CASE("an embedder pushes and pulls through the public API alone") {
  auto registry = quay::Registry::Open(quay::Options{});
  REQUIRE(registry.ok());
  auto& r = **registry;

  const std::string layer = "public api layer bytes";
  auto upload = r.StartUpload("example/app");
  REQUIRE(upload.ok());
  REQUIRE((*upload)->Write(layer.data(), layer.size()).ok());
  auto blob = (*upload)->Commit(quay::Digest::Of(layer));
  REQUIRE(blob.ok());
  CHECK(blob->size == layer.size());

  auto stat = r.StatBlob("example/app", quay::Digest::Of(layer));
  REQUIRE(stat.ok());
  CHECK(stat->size == layer.size());
  CHECK(r.StatBlob("other/app", quay::Digest::Of(layer)).status().IsNotFound());
}
