// The router: splits a /v2 request path into (route kind, repository name,
// argument) without a regex. Repository names may contain '/', so the fixed
// keywords ("blobs", "uploads", "manifests", "tags/list", "referrers") are
// matched from the right, the way the reference distribution registry
// resolves the ambiguity. "/v2/_catalog" and "/v2/auth" are the paths without
// a repository besides the API root: a name component cannot start with '_',
// and a repository path always ends in one of the keywords, so neither
// collides with a repository. routes.h then picks the handler for
// (method, kind) from the route table.
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
  kTagList,      // /v2/<name>/tags/list
  kReferrers,    // /v2/<name>/referrers/<digest>
  kCatalog,      // /v2/_catalog
  kToken,        // /v2/auth (Docker token endpoint)
  kUnknown,      // anything else
};
inline constexpr int kPathKindCount = 10;

// False for the kinds that name no repository (kApiRoot, kCatalog, kToken,
// kUnknown).
bool HasRepository(PathKind kind);

std::string_view PathKindPattern(PathKind kind);  // "/v2/<name>/blobs/<digest>"

struct PathMatch {
  PathKind kind = PathKind::kUnknown;
  std::string_view name;      // repository; empty when !HasRepository(kind)
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
