// What a route handler gets for one request: the HTTP request and response,
// the body stream, the matched path parts and the services it may call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "host/net/body_budget.h"
#include "host/v2/router.h"
#include "quay/access.h"
#include "quay/audit.h"
#include "quay/logger.h"
#include "quay/registry.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace quayd {

class RequestBody;
class RegistryAuth;

// Limits and request rules the host applies before calling the library.
struct HostLimits {
  // Largest manifest body read into memory; larger is 413 before reading.
  // Default: 4 MiB (the library's Options::max_manifest_bytes default).
  uint64_t max_manifest_bytes = 4ull << 20;
  // Most names in one page of the tag list or the catalog: the page size
  // without ?n=, and the clamp for a larger n (more arrive through the Link
  // header). Default: 10000.
  size_t max_page_names = 10000;
  // Peers whose X-Forwarded-For is believed (host/net/client_address.h): the
  // operator's reverse proxies. Default: none.
  std::vector<std::string> trusted_proxies;
  // What request bodies held in memory (manifest PUTs here, /api/v1 bodies)
  // may take at once, in total and per client address; past either a request
  // is answered 429 before its body is read (host/net/body_budget.h). 0:
  // unlimited. Defaults: 64 MiB and 16 MiB.
  uint64_t body_budget_bytes = 64ull << 20;
  uint64_t body_budget_per_client_bytes = 16ull << 20;
  // blob_redirects: a blob GET is answered 307 to the blob store's direct
  // URL (S3 presigned, valid kBlobRedirectLifetime) rather than streamed,
  // when the store has one. Default: false (Quay streams unless its storage
  // hands out direct URLs; here the operator chooses).
  bool blob_redirects = false;
  // The budget itself, built from the two above by the Server and shared by
  // every dispatcher. Null: no budget.
  std::shared_ptr<BodyBudget> body_budget;
};

struct Exchange {
  const httplib::Request& req;
  httplib::Response& res;
  RequestBody& body;
  PathMatch match;  // name and argument point into req.path
  quay::Registry& registry;
  const HostLimits& limits;
  quay::Logger& logger;
  // Who is asking, and the one Authorizer: the dispatcher already checked the
  // route's Action on `match.name`; a handler that touches a second
  // repository (a blob mount's `from`) asks again here.
  const quay::Principal& principal;
  const quay::Authorizer& authorizer;
  // Token auth, users and audit; null when the server runs without an
  // IdentityService (AllowAll: anonymous pull and push).
  RegistryAuth* auth = nullptr;
};

// Who performs this request, for audit rows: the principal, the client
// address and the request id.
quay::Actor ActorOf(const Exchange& ex);

// With token auth, before a push writes to the path's repository: the
// library's push-to-create (Permissions::PushToCreate), so a repository
// missing since the token was issued is created with its visibility,
// prototypes and creator's admin grant rather than as a bare row. Errors only
// when the database fails (a refusal was the dispatcher's to answer).
quay::Status PrepareForPush(const Exchange& ex);

// The client's address (host/net/client_address.h).
std::string ClientAddressOf(const Exchange& ex);

}  // namespace quayd
