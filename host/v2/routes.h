// THE route table of quayd: every (method, path kind) the host serves, the
// handler, and the Action the Authorizer must grant first. The dispatcher, the
// 405 Allow header and the route-coverage test all read it; nothing else
// decides what is routable.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "host/v2/exchange.h"
#include "host/v2/router.h"
#include "quay/access.h"
#include "quay/status.h"

namespace quayd {

enum class Method : unsigned char { kGet, kHead, kPost, kPut, kPatch, kDelete, kOther };
inline constexpr int kMethodCount = 7;

Method ParseMethod(std::string_view method);
std::string_view MethodName(Method method);

// A handler writes its success response itself; a non-OK Status it returns is
// written by the dispatcher through errors.h (headers the handler already set,
// such as Range on a 416, are kept).
using Handler = quay::Status (*)(Exchange&);

// What the dispatcher checks before the handler runs.
enum class Gate : unsigned char {
  // Authorizer::Check(principal, <name>, action); with token auth, through
  // the bearer token's grants (TokenAuthorizer).
  kAction,
  // The API root. With token auth any valid bearer token passes and an
  // anonymous request is challenged (401), which is how clients discover
  // the token service; without token auth, as kAction.
  kSignedIn,
  // The token endpoint: the handler authenticates the credentials itself.
  kOpen,
};

struct Route {
  Method method;
  PathKind path;
  std::string_view id;  // stable name for logs and tests, e.g. "blob.get"
  Handler handler;
  // Checked with Authorizer::Check(principal, <name>, action) before the
  // handler runs (see Gate). The API root and the catalog have no
  // repository and ask with an empty one.
  quay::Action action;
  Gate gate = Gate::kAction;
};

std::span<const Route> Routes();

// The route for (method, path), or null when the path kind exists but the
// method is not served there (405) or the kind is kUnknown.
const Route* FindRoute(Method method, PathKind path);

// "GET, HEAD" for a path kind (the Allow header of a 405).
std::string AllowedMethods(PathKind path);

}  // namespace quayd
