// The router: splits a /v2 request path into (route kind, repository name,
// argument) without a regex. Repository names may contain '/', so the fixed
// keywords ("blobs", "uploads", "manifests") are matched from the right, the
// way the reference distribution registry resolves the ambiguity. routes.h
// then picks the handler for (method, kind) from the route table.
#pragma once

#include <string_view>

#include "quay/status.h"

namespace quayd {

enum class PathKind : unsigned char {
  kApiRoot,      // /v2/
  kUploadStart,  // /v2/<name>/blobs/uploads/
  kUpload,       // /v2/<name>/blobs/uploads/<id>
  kBlob,         // /v2/<name>/blobs/<digest>
  kManifest,     // /v2/<name>/manifests/<reference>
  kUnknown,      // anything else
};
inline constexpr int kPathKindCount = 6;

std::string_view PathKindPattern(PathKind kind);  // "/v2/<name>/blobs/<digest>"

struct PathMatch {
  PathKind kind = PathKind::kUnknown;
  std::string_view name;      // repository; empty for kApiRoot / kUnknown
  std::string_view argument;  // upload id, digest or reference; may be empty
};

// Views point into `path`.
PathMatch MatchPath(std::string_view path);

// Rejects request targets that try to escape the grammar before any decoding
// matters: percent-encoding anywhere in the path (no valid name, tag, digest or
// upload id contains '%', and "%2F" would smuggle a '/'), empty segments
// ("//"), and "." / ".." segments. `raw_target` is the request-line target as
// sent (query included); `decoded_path` is what cpp-httplib decoded from it.
// OK or InvalidArgument(kName).
quay::Status CheckPathTricks(std::string_view raw_target, std::string_view decoded_path);

}  // namespace quayd
