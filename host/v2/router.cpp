#include "host/v2/router.h"

namespace quayd {
namespace {

constexpr std::string_view kPrefix = "/v2/";

// Splits "a/b/c" into ("a/b", "c"); no '/' gives ("", s) with `found` false.
struct Split {
  std::string_view head;
  std::string_view last;
  bool found;
};
Split SplitLast(std::string_view s) {
  size_t pos = s.rfind('/');
  if (pos == std::string_view::npos) return {{}, s, false};
  return {s.substr(0, pos), s.substr(pos + 1), true};
}

bool HasTrickSegment(std::string_view path) {
  if (path.find("//") != std::string_view::npos) return true;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "." || segment == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::string_view PathKindPattern(PathKind kind) {
  switch (kind) {
    case PathKind::kApiRoot:
      return "/v2/";
    case PathKind::kUploadStart:
      return "/v2/<name>/blobs/uploads/";
    case PathKind::kUpload:
      return "/v2/<name>/blobs/uploads/<id>";
    case PathKind::kBlob:
      return "/v2/<name>/blobs/<digest>";
    case PathKind::kManifest:
      return "/v2/<name>/manifests/<reference>";
    case PathKind::kTagList:
      return "/v2/<name>/tags/list";
    case PathKind::kReferrers:
      return "/v2/<name>/referrers/<digest>";
    case PathKind::kCatalog:
      return "/v2/_catalog";
    case PathKind::kToken:
      return "/v2/auth";
    case PathKind::kUnknown:
      break;
  }
  return "<unknown>";
}

bool HasRepository(PathKind kind) {
  return kind != PathKind::kApiRoot && kind != PathKind::kCatalog && kind != PathKind::kToken &&
         kind != PathKind::kUnknown;
}

PathMatch MatchPath(std::string_view path) {
  if (path == "/v2" || path == kPrefix) return {PathKind::kApiRoot, {}, {}};
  if (path.substr(0, kPrefix.size()) != kPrefix) return {};
  std::string_view rest = path.substr(kPrefix.size());
  if (rest == "_catalog") return {PathKind::kCatalog, {}, {}};
  if (rest == "auth") return {PathKind::kToken, {}, {}};

  if (rest.back() == '/') {
    // Only the upload start has a trailing slash.
    std::string_view trimmed = rest.substr(0, rest.size() - 1);
    Split uploads = SplitLast(trimmed);
    if (uploads.last != "uploads") return {};
    Split blobs = SplitLast(uploads.head);
    if (blobs.last != "blobs" || !uploads.found) return {};
    return {PathKind::kUploadStart, blobs.head, {}};
  }

  Split last = SplitLast(rest);
  if (!last.found) return {};
  Split parent = SplitLast(last.head);
  if (parent.last == "manifests") return {PathKind::kManifest, parent.head, last.last};
  if (parent.last == "referrers") return {PathKind::kReferrers, parent.head, last.last};
  if (parent.last == "tags" && last.last == "list") return {PathKind::kTagList, parent.head, {}};
  if (parent.last == "blobs") {
    // "/v2/<name>/blobs/uploads" without the trailing slash still starts an upload.
    if (last.last == "uploads") return {PathKind::kUploadStart, parent.head, {}};
    return {PathKind::kBlob, parent.head, last.last};
  }
  if (parent.last == "uploads" && parent.found) {
    Split blobs = SplitLast(parent.head);
    if (blobs.last == "blobs") return {PathKind::kUpload, blobs.head, last.last};
  }
  return {};
}

quay::Status CheckPathTricks(std::string_view raw_target, std::string_view decoded_path) {
  std::string_view raw_path = raw_target.substr(0, raw_target.find('?'));
  if (raw_path.find('%') != std::string_view::npos) {
    return quay::Status::InvalidArgument(quay::Subject::kName,
                                         "percent-encoding is not allowed in the path");
  }
  if (HasTrickSegment(raw_path) || HasTrickSegment(decoded_path)) {
    return quay::Status::InvalidArgument(quay::Subject::kName,
                                         "empty, '.' or '..' path segments are not allowed");
  }
  return quay::Status::Ok();
}

}  // namespace quayd
