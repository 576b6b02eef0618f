#include <httplib.h>

#include "host/auth/registry_auth.h"
#include "host/net/client_address.h"
#include "host/obs/access_log.h"
#include "host/v2/handlers.h"

namespace quayd {

quay::Actor ActorOf(const Exchange& ex) {
  quay::Actor actor;
  actor.principal = ex.principal;
  actor.ip = ClientAddressOf(ex);
  actor.request_id = CurrentRequest().id;
  return actor;
}

quay::Status PrepareForPush(const Exchange& ex) {
  if (ex.auth == nullptr) return quay::Status::Ok();
  quay::Result<quay::PushTarget> target =
      ex.auth->identity().PushToCreate(ActorOf(ex), ex.match.name);
  if (!target.ok() && target.status().code() != quay::Code::kInvalidArgument) {
    return target.status();
  }
  return quay::Status::Ok();
}

std::string ClientAddressOf(const Exchange& ex) {
  std::vector<std::string> forwarded;
  if (!ex.limits.trusted_proxies.empty()) {
    const size_t n = ex.req.get_header_value_count("X-Forwarded-For");
    for (size_t i = 0; i < n; ++i) {
      forwarded.push_back(ex.req.get_header_value("X-Forwarded-For", i));
    }
  }
  return ClientAddress(ex.req.remote_addr, forwarded, ex.limits.trusted_proxies);
}

// The API version check clients send before anything else. 200 means "v2 is
// spoken here and you may proceed". With token auth the dispatcher answers an
// anonymous request 401 with the Bearer challenge first (Gate::kSignedIn).
// The Docker-Distribution-API-Version header is added to every response by
// the server's post-routing hook.
quay::Status HandleApiRoot(Exchange& ex) {
  ex.res.status = 200;
  ex.res.set_content("{}", "application/json");
  return quay::Status::Ok();
}

}  // namespace quayd
