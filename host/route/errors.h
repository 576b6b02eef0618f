// The one place where library errors become HTTP: quay::Status (Code +
// Subject) -> HTTP status + OCI error code, and the OCI error body
// {"errors":[{"code","message","detail"}]}.
//
// Host-originated errors (unknown route, bad header) are built as quay::Status
// values too, so every error response goes through the same table.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>

#include "quay/status.h"

namespace httplib {
struct Response;
}

namespace quayd {

struct HttpError {
  int http_status;
  std::string_view oci_code;  // e.g. "BLOB_UNKNOWN"
};

// The mapping table lookup. Never fails: unknown combinations fall back to the
// code's generic row.
HttpError MapStatus(const quay::Status& status);

// True when the message of `status` must not reach the client (Internal,
// Unavailable): those carry file paths and SQL errors; the host logs them.
bool IsPrivate(const quay::Status& status);

// The OCI error body for `status` (message replaced by a generic phrase for
// private errors).
std::string ErrorBody(const quay::Status& status);

// 429 TOOMANYREQUESTS (the distribution registry's code) with Retry-After:
// the failed-login back-off. Not a quay::Status: the library has no such
// condition; the host's throttle decides it.
void WriteTooManyRequests(httplib::Response& res, std::chrono::seconds retry_after);
// The same answer for another cause (the request-body memory budget).
void WriteTooManyRequests(httplib::Response& res, std::chrono::seconds retry_after,
                          std::string_view message);

// Sets status, Content-Type application/json and the OCI body on `res`.
// Headers already on `res` (Range, Content-Range, Allow...) are kept.
void WriteError(httplib::Response& res, const quay::Status& status);

// ---- /api/v1: Quay's RFC 7807 bodies ----
// {"type": "<base>/api/v1/error/<error_type>", "title", "detail", "status",
//  "error_message", "error_type"} as application/problem+json.
struct ApiError {
  int http_status;
  std::string_view error_type;  // "invalid_request", "not_found", ...
};
ApiError MapApiStatus(const quay::Status& status);
// `base` is "http://host" (the type URL's prefix).
std::string ApiErrorBody(const quay::Status& status, std::string_view base);
void WriteApiError(httplib::Response& res, const quay::Status& status, std::string_view base);
// 429 with Retry-After and error_type "too_many_requests": the request-body
// memory budget (host/net/body_budget.h). Not a quay::Status, like the OCI one.
void WriteApiTooManyRequests(httplib::Response& res, std::string_view base,
                             std::chrono::seconds retry_after, std::string_view message);
// Read-only mode on /v2: 405 DENIED with "is_readonly": true beside the errors.
void WriteV2ReadOnly(httplib::Response& res);
// Read-only mode (REGISTRY_STATE: readonly): 503 {"message", "is_readonly": true}.
void WriteReadOnly(httplib::Response& res);
// The error types GET /api/v1/error/{type} describes: title and description.
struct ApiErrorType {
  std::string_view type;
  std::string_view description;
};
std::span<const ApiErrorType> ApiErrorTypes();

// ---- /oauth: RFC 6749 section 5.2 ----
// {"error": "<code>", "error_description": ...}: invalid_request,
// invalid_client, invalid_grant, unauthorized_client,
// unsupported_grant_type, invalid_scope, access_denied, server_error.
void WriteOAuthError(httplib::Response& res, int http_status, std::string_view error,
                     std::string_view description);

}  // namespace quayd
