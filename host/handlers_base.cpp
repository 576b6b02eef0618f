#include <httplib.h>

#include "host/handlers.h"

namespace quayd {

// The API version check clients send before anything else. 200 means "v2 is
// spoken here and you may proceed" (401 once token auth exists). The
// Docker-Distribution-API-Version header is added to every response by the
// server's post-routing hook.
quay::Status HandleApiRoot(Exchange& ex) {
  ex.res.status = 200;
  ex.res.set_content("{}", "application/json");
  return quay::Status::Ok();
}

}  // namespace quayd
