#include <httplib.h>

#include "host/access_log.h"
#include "host/handlers.h"

namespace quayd {

quay::Actor ActorOf(const Exchange& ex) {
  quay::Actor actor;
  actor.principal = ex.principal;
  actor.ip = ex.req.remote_addr;
  actor.request_id = CurrentRequest().id;
  return actor;
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
