#include "host/route/errors.h"

#include <httplib.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>

namespace quayd {
namespace {

using quay::Code;
using quay::Subject;

struct Row {
  Code code;
  std::optional<Subject> subject;  // nullopt: any subject (the code's fallback row)
  int http_status;
  std::string_view oci_code;
};

// First matching row wins, so a code's specific subjects come before its
// fallback. OCI codes are the distribution-spec ones; RANGE_INVALID, UNKNOWN,
// UNAVAILABLE and INVALID_REQUEST are the extra codes the reference
// distribution registry and Quay use for cases the spec has none for.
constexpr Row kTable[] = {
    {Code::kNotFound, Subject::kBlob, 404, "BLOB_UNKNOWN"},
    {Code::kNotFound, Subject::kDigest, 404, "BLOB_UNKNOWN"},
    {Code::kNotFound, Subject::kUpload, 404, "BLOB_UPLOAD_UNKNOWN"},
    {Code::kNotFound, Subject::kManifest, 404, "MANIFEST_UNKNOWN"},
    {Code::kNotFound, Subject::kTag, 404, "MANIFEST_UNKNOWN"},
    // Quay's TagExpired: the tag is gone but still restorable.
    {Code::kNotFound, Subject::kExpiredTag, 404, "TAG_EXPIRED"},
    {Code::kNotFound, Subject::kRepository, 404, "NAME_UNKNOWN"},
    // A manifest names a blob or child manifest the repository lacks: the
    // request is wrong, not the URL.
    {Code::kNotFound, Subject::kReference, 400, "MANIFEST_BLOB_UNKNOWN"},
    {Code::kNotFound, std::nullopt, 404, "NAME_UNKNOWN"},

    {Code::kInvalidArgument, Subject::kName, 400, "NAME_INVALID"},
    {Code::kInvalidArgument, Subject::kDigest, 400, "DIGEST_INVALID"},
    {Code::kInvalidArgument, Subject::kManifest, 400, "MANIFEST_INVALID"},
    {Code::kInvalidArgument, Subject::kTag, 400, "MANIFEST_INVALID"},
    {Code::kInvalidArgument, Subject::kReference, 400, "MANIFEST_INVALID"},
    {Code::kInvalidArgument, Subject::kMediaType, 400, "MANIFEST_INVALID"},
    {Code::kInvalidArgument, Subject::kUpload, 400, "BLOB_UPLOAD_INVALID"},
    {Code::kInvalidArgument, Subject::kRange, 400, "BLOB_UPLOAD_INVALID"},
    {Code::kInvalidArgument, Subject::kSize, 400, "SIZE_INVALID"},
    {Code::kInvalidArgument, std::nullopt, 400, "INVALID_REQUEST"},

    {Code::kDigestMismatch, std::nullopt, 400, "DIGEST_INVALID"},
    {Code::kSizeMismatch, std::nullopt, 400, "SIZE_INVALID"},

    // Out-of-order upload chunk vs. an unsatisfiable Range on a blob GET.
    {Code::kRangeInvalid, Subject::kUpload, 416, "BLOB_UPLOAD_INVALID"},
    {Code::kRangeInvalid, std::nullopt, 416, "RANGE_INVALID"},

    {Code::kTooLarge, Subject::kManifest, 413, "SIZE_INVALID"},
    {Code::kTooLarge, std::nullopt, 413, "BLOB_UPLOAD_INVALID"},

    {Code::kUnauthenticated, std::nullopt, 401, "UNAUTHORIZED"},
    {Code::kDenied, std::nullopt, 403, "DENIED"},
    // An immutable tag refused a move or a delete (Quay's TagImmutable).
    {Code::kConflict, Subject::kTag, 409, "TAG_IMMUTABLE"},
    {Code::kConflict, std::nullopt, 409, "BLOB_UPLOAD_INVALID"},

    {Code::kUnsupported, Subject::kDigest, 400, "DIGEST_INVALID"},
    {Code::kUnsupported, Subject::kMediaType, 415, "MANIFEST_INVALID"},
    {Code::kUnsupported, std::nullopt, 405, "UNSUPPORTED"},

    // A full disk or database. distribution has no code for it (its storage
    // errors are 500 UNKNOWN); 507 Insufficient Storage says what is wrong,
    // and that retrying at once will not help, with distribution's
    // UNAVAILABLE code for clients that read only the body.
    {Code::kUnavailable, Subject::kStorage, 507, "UNAVAILABLE"},
    {Code::kUnavailable, std::nullopt, 503, "UNAVAILABLE"},
    {Code::kInternal, std::nullopt, 500, "UNKNOWN"},
};

}  // namespace

HttpError MapStatus(const quay::Status& status) {
  for (const Row& row : kTable) {
    if (row.code == status.code() && (!row.subject || *row.subject == status.subject())) {
      return {row.http_status, row.oci_code};
    }
  }
  // kOk (a caller bug) or a code added to status.h without a row here.
  return {500, "UNKNOWN"};
}

bool IsPrivate(const quay::Status& status) {
  return status.code() == Code::kInternal || status.code() == Code::kUnavailable ||
         MapStatus(status).http_status >= 500;
}

namespace {

constexpr std::string_view kNoSpaceMessage =
    "insufficient storage: the registry is out of space; retry once space is freed";

std::string OciBody(std::string_view oci_code, std::string_view message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("errors");
  writer.StartArray();
  writer.StartObject();
  writer.Key("code");
  writer.String(oci_code.data(), static_cast<rapidjson::SizeType>(oci_code.size()));
  writer.Key("message");
  writer.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  writer.Key("detail");
  writer.StartObject();
  writer.EndObject();
  writer.EndObject();
  writer.EndArray();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string ErrorBody(const quay::Status& status) {
  std::string_view message = status.message();
  if (status.IsNoSpace()) {
    message = kNoSpaceMessage;
  } else if (status.code() == Code::kUnavailable) {
    message = "service temporarily unavailable";
  } else if (IsPrivate(status)) {
    message = "internal error";
  }
  return OciBody(MapStatus(status).oci_code, message);
}

void WriteTooManyRequests(httplib::Response& res, std::chrono::seconds retry_after) {
  WriteTooManyRequests(res, retry_after, "too many failed login attempts; retry later");
}

void WriteTooManyRequests(httplib::Response& res, std::chrono::seconds retry_after,
                          std::string_view message) {
  res.status = 429;
  res.set_header("Retry-After", std::to_string(retry_after.count()));
  res.headers.erase("Content-Length");
  res.set_content(OciBody("TOOMANYREQUESTS", message), "application/json");
}

void WriteError(httplib::Response& res, const quay::Status& status) {
  res.status = MapStatus(status).http_status;
  // cpp-httplib adds Content-Length for the body; a stale one would be a duplicate.
  res.headers.erase("Content-Length");
  res.set_content(ErrorBody(status), "application/json");
}

namespace {

struct ApiRow {
  Code code;
  std::optional<Subject> subject;
  int http_status;
  std::string_view error_type;
};

// Quay's ApiException types and statuses (reference/quay-api.md 1.4). Quay
// answers a name taken with 400 invalid_request; so do we.
constexpr ApiRow kApiTable[] = {
    {Code::kNotFound, std::nullopt, 404, "not_found"},
    {Code::kInvalidArgument, std::nullopt, 400, "invalid_request"},
    {Code::kDigestMismatch, std::nullopt, 400, "invalid_request"},
    {Code::kSizeMismatch, std::nullopt, 400, "invalid_request"},
    {Code::kRangeInvalid, std::nullopt, 400, "invalid_request"},
    {Code::kTooLarge, std::nullopt, 413, "invalid_request"},
    {Code::kConflict, Subject::kTag, 409, "tag_immutable"},  // Quay's TagImmutable
    {Code::kConflict, std::nullopt, 400, "invalid_request"},
    {Code::kUnauthenticated, std::nullopt, 401, "invalid_token"},
    {Code::kDenied, std::nullopt, 403, "insufficient_scope"},
    {Code::kUnsupported, std::nullopt, 405, "invalid_request"},
    {Code::kUnavailable, Subject::kStorage, 507, "internal_error"},  // full disk, as on /v2
    {Code::kUnavailable, std::nullopt, 503, "internal_error"},
    {Code::kInternal, std::nullopt, 500, "internal_error"},
};

constexpr ApiErrorType kApiErrorTypes[] = {
    {"invalid_request",
     "The request is missing a required parameter, includes an invalid "
     "parameter value, or is otherwise malformed."},
    {"invalid_response", "The response was not valid."},
    {"invalid_token",
     "The access token provided is expired, revoked, malformed, or invalid "
     "for other reasons."},
    {"insufficient_scope",
     "The request requires higher privileges than provided by the "
     "access token."},
    {"expired_token", "The access token expired."},
    {"fresh_login_required", "The action requires a fresh login to succeed."},
    {"exceeds_license", "The action was refused because the current license does not allow it."},
    {"not_found", "The resource was not found."},
    {"tag_immutable", "The tag is immutable and cannot be changed."},
    {"internal_error", "The server failed to handle the request."},
    {"too_many_requests", "Too many requests are in progress; retry later."},
};

std::string_view PublicMessage(const quay::Status& status) {
  if (status.IsNoSpace()) return kNoSpaceMessage;
  if (status.code() == Code::kUnavailable) return "service temporarily unavailable";
  if (IsPrivate(status)) return "internal error";
  return status.message();
}

void Put(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view key,
         std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

ApiError MapApiStatus(const quay::Status& status) {
  if (status.code() == Code::kUnauthenticated && status.message() == "fresh login required") {
    return {401, "fresh_login_required"};
  }
  for (const ApiRow& row : kApiTable) {
    if (row.code == status.code() && (!row.subject || *row.subject == status.subject())) {
      return {row.http_status, row.error_type};
    }
  }
  return {500, "internal_error"};
}

namespace {

std::string ApiProblemBody(std::string_view base, const ApiError& error, std::string_view message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  Put(w, "type", std::string(base) + "/api/v1/error/" + std::string(error.error_type));
  Put(w, "title", error.error_type);
  Put(w, "detail", message);
  w.Key("status");
  w.Int(error.http_status);
  Put(w, "error_message", message);
  Put(w, "error_type", error.error_type);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string ApiErrorBody(const quay::Status& status, std::string_view base) {
  return ApiProblemBody(base, MapApiStatus(status), PublicMessage(status));
}

void WriteApiTooManyRequests(httplib::Response& res, std::string_view base,
                             std::chrono::seconds retry_after, std::string_view message) {
  res.status = 429;
  res.set_header("Retry-After", std::to_string(retry_after.count()));
  res.headers.erase("Content-Length");
  res.set_content(ApiProblemBody(base, {429, "too_many_requests"}, message),
                  "application/problem+json");
}

void WriteApiError(httplib::Response& res, const quay::Status& status, std::string_view base) {
  res.status = MapApiStatus(status).http_status;
  res.headers.erase("Content-Length");
  res.set_content(ApiErrorBody(status, base), "application/problem+json");
}

void WriteReadOnly(httplib::Response& res) {
  res.status = 503;
  res.headers.erase("Content-Length");
  res.set_content(R"({"message":"System is currently read-only. Pulls will succeed but all )"
                  R"(write operations are currently suspended.","is_readonly":true})",
                  "application/json");
}

void WriteV2ReadOnly(httplib::Response& res) {
  res.status = 405;
  res.headers.erase("Content-Length");
  res.set_content(R"({"errors":[{"code":"DENIED","message":"System is currently read-only. )"
                  R"(Pulls will succeed but all write operations are currently suspended.",)"
                  R"("detail":{}}],"is_readonly":true})",
                  "application/json");
}

std::span<const ApiErrorType> ApiErrorTypes() { return kApiErrorTypes; }

void WriteOAuthError(httplib::Response& res, int http_status, std::string_view error,
                     std::string_view description) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  Put(w, "error", error);
  Put(w, "error_description", description);
  w.EndObject();
  res.status = http_status;
  res.headers.erase("Content-Length");
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::string(buffer.GetString(), buffer.GetSize()), "application/json");
}

}  // namespace quayd
