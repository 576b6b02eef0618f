// The manifest and index parser (include/quay/manifest.h) on arbitrary
// bodies. The first byte picks the Content-Type the client declared (none,
// each manifest media type, or a foreign one); the rest is the body.
// Checked: a parsed manifest is consistent with its kind (images have a
// config and no child manifests, indexes neither config nor layers), every
// descriptor's digest parses again, and BlobReferences() lists config then
// layers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "quay/manifest.h"

namespace {

constexpr std::string_view kContentTypes[] = {
    "",
    quay::media_type::kOciManifest,
    quay::media_type::kOciIndex,
    quay::media_type::kDockerManifest,
    quay::media_type::kDockerManifestList,
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/json",
    "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
};

void CheckDescriptor(const quay::Descriptor& d) {
  quay::Result<quay::Digest> again = quay::Digest::Parse(d.digest.str());
  if (!again.ok() || *again != d.digest) std::abort();
  (void)d.non_distributable();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return -1;
  const std::string_view content_type = kContentTypes[data[0] % std::size(kContentTypes)];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  quay::Result<quay::Manifest> parsed = quay::Manifest::Parse(body, content_type);
  if (!parsed.ok()) {
    if (parsed.status().ok()) std::abort();  // an error result carries an error
    return 0;
  }
  const quay::Manifest& m = *parsed;
  if (m.media_type.empty()) std::abort();
  if (m.kind == quay::ManifestKind::kImage) {
    if (!m.config || !m.manifests.empty()) std::abort();
    CheckDescriptor(*m.config);
  } else if (m.config || !m.layers.empty()) {
    std::abort();
  }
  for (const auto& d : m.layers) CheckDescriptor(d);
  for (const auto& d : m.manifests) CheckDescriptor(d);
  if (m.subject) CheckDescriptor(*m.subject);
  const std::vector<quay::Descriptor> refs = m.BlobReferences();
  if (refs.size() != (m.config ? 1 : 0) + m.layers.size()) std::abort();
  return 0;
}
