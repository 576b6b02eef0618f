// The OCI distribution v2 handlers. Each binds one route of routes.cpp to the
// public Registry API: parse headers and parameters, stream bodies, call the
// library, write the success response. Business rules live in lib/, not here.
#pragma once

#include "host/v2/exchange.h"
#include "quay/status.h"

namespace quayd {

// handlers_base.cpp
quay::Status HandleApiRoot(Exchange& ex);  // GET/HEAD /v2/

// handlers_uploads.cpp
quay::Status HandleUploadStart(Exchange& ex);   // POST /v2/<name>/blobs/uploads/
quay::Status HandleUploadStatus(Exchange& ex);  // GET .../uploads/<id>
quay::Status HandleUploadChunk(Exchange& ex);   // PATCH .../uploads/<id>
quay::Status HandleUploadFinish(Exchange& ex);  // PUT .../uploads/<id>?digest=
quay::Status HandleUploadCancel(Exchange& ex);  // DELETE .../uploads/<id>

// handlers_blobs.cpp
quay::Status HandleBlobGet(Exchange& ex);     // GET /v2/<name>/blobs/<digest>
quay::Status HandleBlobHead(Exchange& ex);    // HEAD /v2/<name>/blobs/<digest>
quay::Status HandleBlobDelete(Exchange& ex);  // DELETE /v2/<name>/blobs/<digest>

// handlers_manifests.cpp
quay::Status HandleManifestGet(Exchange& ex);     // GET/HEAD /v2/<name>/manifests/<ref>
quay::Status HandleManifestPut(Exchange& ex);     // PUT /v2/<name>/manifests/<ref>
quay::Status HandleManifestDelete(Exchange& ex);  // DELETE .../manifests/<digest|tag>

// handlers_token.cpp
quay::Status HandleToken(Exchange& ex);  // GET /v2/auth?service=&scope=

// handlers_discovery.cpp
quay::Status HandleTagList(Exchange& ex);    // GET /v2/<name>/tags/list?n=&last=
quay::Status HandleCatalog(Exchange& ex);    // GET /v2/_catalog?n=&last=
quay::Status HandleReferrers(Exchange& ex);  // GET /v2/<name>/referrers/<digest>

}  // namespace quayd
