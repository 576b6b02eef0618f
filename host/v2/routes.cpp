#include "host/v2/routes.h"

#include <array>

#include "host/v2/handlers.h"

namespace quayd {
namespace {

using quay::Action;

// A (method, path) absent here answers 405 UNSUPPORTED with an Allow header.
// The upload start also serves ?mount=&from=; its handler asks the Authorizer
// for kPull on `from` itself, since the table has one repository per route.
constexpr Route kRoutes[] = {
    {Method::kGet, PathKind::kApiRoot, "v2.get", &HandleApiRoot, Action::kPull, Gate::kSignedIn},
    {Method::kHead, PathKind::kApiRoot, "v2.head", &HandleApiRoot, Action::kPull, Gate::kSignedIn},
    {Method::kGet, PathKind::kCatalog, "catalog.list", &HandleCatalog, Action::kCatalog},
    // Docker token endpoint; its Action is unused (Gate::kOpen).
    {Method::kGet, PathKind::kToken, "token.get", &HandleToken, Action::kPull, Gate::kOpen},

    {Method::kPost, PathKind::kUploadStart, "upload.start", &HandleUploadStart, Action::kPush},
    {Method::kGet, PathKind::kUpload, "upload.status", &HandleUploadStatus, Action::kPush},
    {Method::kPatch, PathKind::kUpload, "upload.chunk", &HandleUploadChunk, Action::kPush},
    {Method::kPut, PathKind::kUpload, "upload.finish", &HandleUploadFinish, Action::kPush},
    {Method::kDelete, PathKind::kUpload, "upload.cancel", &HandleUploadCancel, Action::kPush},

    {Method::kGet, PathKind::kBlob, "blob.get", &HandleBlobGet, Action::kPull},
    {Method::kHead, PathKind::kBlob, "blob.head", &HandleBlobHead, Action::kPull},
    {Method::kDelete, PathKind::kBlob, "blob.delete", &HandleBlobDelete, Action::kDelete},

    {Method::kGet, PathKind::kManifest, "manifest.get", &HandleManifestGet, Action::kPull},
    {Method::kHead, PathKind::kManifest, "manifest.head", &HandleManifestGet, Action::kPull},
    {Method::kPut, PathKind::kManifest, "manifest.put", &HandleManifestPut, Action::kPush},
    {Method::kDelete, PathKind::kManifest, "manifest.delete", &HandleManifestDelete,
     Action::kDelete},

    {Method::kGet, PathKind::kTagList, "tags.list", &HandleTagList, Action::kPull},
    {Method::kGet, PathKind::kReferrers, "referrers.list", &HandleReferrers, Action::kPull},
};

// (path kind, method) -> route, built once so dispatch is two array lookups.
using Index = std::array<std::array<const Route*, kMethodCount>, kPathKindCount>;

const Index& RouteIndex() {
  static const Index index = [] {
    Index built{};
    for (const Route& route : kRoutes) {
      built[static_cast<size_t>(route.path)][static_cast<size_t>(route.method)] = &route;
    }
    return built;
  }();
  return index;
}

}  // namespace

Method ParseMethod(std::string_view method) {
  if (method == "GET") return Method::kGet;
  if (method == "HEAD") return Method::kHead;
  if (method == "POST") return Method::kPost;
  if (method == "PUT") return Method::kPut;
  if (method == "PATCH") return Method::kPatch;
  if (method == "DELETE") return Method::kDelete;
  return Method::kOther;
}

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOther:
      break;
  }
  return "OTHER";
}

std::span<const Route> Routes() { return kRoutes; }

const Route* FindRoute(Method method, PathKind path) {
  return RouteIndex()[static_cast<size_t>(path)][static_cast<size_t>(method)];
}

std::string AllowedMethods(PathKind path) {
  std::string out;
  for (int m = 0; m < kMethodCount; ++m) {
    if (FindRoute(static_cast<Method>(m), path) == nullptr) continue;
    if (!out.empty()) out += ", ";
    out += MethodName(static_cast<Method>(m));
  }
  return out;
}

}  // namespace quayd
