// Manifest and index value types and their parsing/validation.
//
// Parse() checks everything that can be checked from the bytes alone:
// well-formed JSON, a known manifest media type consistent with the declared
// Content-Type, schemaVersion 2, well-formed descriptors (digest grammar,
// non-negative sizes). Whether referenced blobs and child manifests exist is the
// registry's job (it needs the database).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quay/digest.h"
#include "quay/export.h"
#include "quay/status.h"

namespace quay {

namespace media_type {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciEmpty = "application/vnd.oci.empty.v1+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
}  // namespace media_type

struct Platform {
  std::string architecture;
  std::string os;
  std::string variant;
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  uint64_t size = 0;
  std::string artifact_type;                       // optional; empty if absent
  std::map<std::string, std::string> annotations;  // optional
  std::optional<Platform> platform;                // index entries only
  std::vector<std::string> urls;                   // optional; where a foreign layer lives

  // True for a layer the registry need not hold (OCI image spec, "Non-
  // distributable layers"): one with urls, or of a non-distributable or
  // Docker foreign layer media type.
  QUAY_EXPORT bool non_distributable() const;
};

enum class ManifestKind : unsigned char { kImage, kIndex };

struct QUAY_EXPORT Manifest {
  ManifestKind kind = ManifestKind::kImage;
  std::string media_type;             // the effective media type (body's or Content-Type's)
  std::string artifact_type;          // OCI 1.1 artifactType; empty if absent
  std::optional<Descriptor> config;   // images only
  std::vector<Descriptor> layers;     // images only
  std::vector<Descriptor> manifests;  // indexes only
  std::optional<Descriptor> subject;  // OCI 1.1 referrers
  std::map<std::string, std::string> annotations;

  // Parses and validates a manifest body. `content_type` is the request's
  // Content-Type (may be empty: then the body's mediaType decides). Errors:
  // InvalidArgument(kManifest) for malformed content (a UTF-8 byte-order
  // mark and duplicate object keys anywhere included) or a mediaType that
  // contradicts content_type; Unsupported(kMediaType) for a media type this
  // registry does not store (e.g. Docker schema 1).
  static Result<Manifest> Parse(std::string_view bytes, std::string_view content_type);

  // Every blob the manifest references: config then layers (empty for
  // indexes). Those whose non_distributable() is true need not be in the
  // repository; the others must be, with the descriptor's size.
  std::vector<Descriptor> BlobReferences() const;
};

}  // namespace quay
