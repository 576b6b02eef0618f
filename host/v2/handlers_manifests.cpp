// Manifests: PUT reads the (capped) body and hands it to the library, which
// validates it; GET/HEAD serve the stored bytes with their stored media type;
// DELETE removes a manifest (by digest) or a tag.

#include <fmt/format.h>
#include <httplib.h>

#include <array>
#include <chrono>
#include <span>
#include <string>

#include "host/auth/registry_auth.h"
#include "host/net/body_budget.h"
#include "host/net/http_parse.h"
#include "host/net/request_body.h"
#include "host/obs/access_log.h"
#include "host/route/errors.h"
#include "host/v2/handlers.h"
#include "quay/audit.h"
#include "quay/digest.h"

namespace quayd {
namespace {

// "application/vnd.oci.image.manifest.v1+json; charset=utf-8" -> the media
// type alone; the library compares media types, not HTTP parameters.
std::string MediaTypeOf(const std::string& content_type) {
  std::string_view s = content_type;
  s = s.substr(0, s.find(';'));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return std::string(s);
}

// pull_repo / push_repo (the library's ManifestAuditEvent): every field is
// a view into the request or the record, and the metadata becomes JSON on
// the appender's idle thread.
void RecordManifestEvent(const Exchange& ex, quay::ManifestAuditEvent::Kind kind,
                         const quay::Digest& digest, std::string_view media_type) {
  const std::string ip = ClientAddressOf(ex);
  quay::ManifestAuditEvent::Fields fields;
  fields.performer = &ex.principal;
  fields.ip = ip;
  fields.request_id = CurrentRequest().id;
  fields.repository = ex.match.name;
  fields.reference = ex.match.argument;
  fields.manifest_digest = digest.str();
  fields.media_type = media_type;
  fields.user_agent = FindHeader(ex.req, "User-Agent");
  const quay::ManifestAuditEvent event(kind, fields);
  if (kind == quay::ManifestAuditEvent::Kind::kPull) {
    ex.auth->RecordPull(event);
  } else {
    ex.auth->RecordPush(event);
  }
}

quay::Status TooLarge(uint64_t limit) {
  return quay::Status::TooLarge(quay::Subject::kManifest,
                                fmt::format("manifests are limited to {} bytes", limit));
}

}  // namespace

quay::Status HandleManifestGet(Exchange& ex) {
  quay::Result<quay::ManifestRecord> record =
      ex.registry.GetManifest(ex.match.name, ex.match.argument);
  if (!record.ok()) return record.status();
  ex.res.status = 200;
  ex.res.set_header("Docker-Content-Digest", record->digest.str());
  ex.res.set_header("ETag", fmt::format("\"{}\"", record->digest.str()));
  // HEAD shares this handler: cpp-httplib sends the headers (Content-Length
  // included) and skips the body.
  ex.res.set_content(record->bytes, record->media_type);
  // A pull is a GET: HEAD only asks whether the manifest is there.
  if (ex.auth != nullptr && ex.auth->pull_audit() && ex.req.method == "GET")
    RecordManifestEvent(ex, quay::ManifestAuditEvent::Kind::kPull, record->digest,
                        record->media_type);
  return quay::Status::Ok();
}

quay::Status HandleManifestPut(Exchange& ex) {
  const uint64_t limit = ex.limits.max_manifest_bytes;
  if (ex.body.content_length() && *ex.body.content_length() > limit) return TooLarge(limit);

  // The body is held whole in memory: its declared size (the cap when
  // chunked) comes out of the shared budget before a byte is read.
  BodyBudget::Lease lease;
  if (ex.limits.body_budget && !ex.body.empty()) {
    lease = ex.limits.body_budget->Reserve(ClientAddressOf(ex),
                                           ex.body.content_length().value_or(limit));
    if (!lease) {
      WriteTooManyRequests(ex.res, std::chrono::seconds(1),
                           "too many request bodies in progress; retry later");
      return quay::Status::Ok();
    }
  }

  std::string bytes;
  if (ex.body.content_length()) bytes.reserve(static_cast<size_t>(*ex.body.content_length()));
  bool too_large = false;
  RequestBody::Outcome outcome = ex.body.Stream([&](const char* data, size_t size) {
    if (bytes.size() + size > limit) {
      too_large = true;
      return false;
    }
    bytes.append(data, size);
    return true;
  });
  if (too_large) return TooLarge(limit);
  if (quay::Status ready = PrepareForPush(ex); !ready.ok()) return ready;
  if (outcome != RequestBody::Outcome::kComplete) {
    return quay::Status::InvalidArgument(quay::Subject::kManifest,
                                         "the request body ended before its declared length");
  }

  quay::Result<quay::PutManifestResult> put =
      ex.registry.PutManifest(ex.match.name, ex.match.argument,
                              MediaTypeOf(ex.req.get_header_value("Content-Type")), bytes);
  if (!put.ok()) return put.status();
  ex.res.status = 201;
  ex.res.set_header("Location",
                    fmt::format("/v2/{}/manifests/{}", ex.match.name, put->digest.str()));
  ex.res.set_header("Docker-Content-Digest", put->digest.str());
  if (put->subject) ex.res.set_header("OCI-Subject", put->subject->str());
  ex.res.set_header("Content-Length", "0");
  if (ex.auth != nullptr) {
    RecordManifestEvent(ex, quay::ManifestAuditEvent::Kind::kPush, put->digest,
                        MediaTypeOf(ex.req.get_header_value("Content-Type")));
  }
  return quay::Status::Ok();
}

// By digest the manifest goes, with every tag on it; by tag (OCI 1.1) only
// the tag goes. A tag never contains ':', a digest always does.
quay::Status HandleManifestDelete(Exchange& ex) {
  const std::string_view reference = ex.match.argument;
  quay::Status status;
  if (reference.find(':') != std::string_view::npos) {
    quay::Result<quay::Digest> digest = quay::Digest::Parse(reference);
    if (!digest.ok()) return digest.status();
    status = ex.registry.DeleteManifest(ex.match.name, *digest);
  } else {
    status = ex.registry.DeleteTag(ex.match.name, reference);
  }
  if (!status.ok()) return status;
  ex.res.status = 202;
  ex.res.set_header("Content-Length", "0");
  return quay::Status::Ok();
}

}  // namespace quayd
