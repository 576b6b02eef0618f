// Blob upload sessions: POST starts one (or uploads monolithically with
// ?digest=, or mounts a blob of another repository with ?mount=&from=), PATCH
// appends a chunk, PUT ?digest= appends an optional last chunk and commits,
// GET reports progress, DELETE cancels.

#include <fmt/format.h>
#include <httplib.h>

#include <optional>
#include <string>

#include "host/net/http_ranges.h"
#include "host/net/request_body.h"
#include "host/v2/handlers.h"
#include "quay/digest.h"
#include "quay/reference.h"

namespace quayd {
namespace {

std::string UploadLocation(std::string_view name, std::string_view id) {
  return fmt::format("/v2/{}/blobs/uploads/{}", name, id);
}

std::string BlobLocation(std::string_view name, const quay::Digest& digest) {
  return fmt::format("/v2/{}/blobs/{}", name, digest.str());
}

// The session headers every upload response carries.
void SetSessionHeaders(httplib::Response& res, std::string_view name, std::string_view id,
                       uint64_t offset) {
  res.set_header("Location", UploadLocation(name, id));
  res.set_header("Range", UploadRangeHeader(offset));
  res.set_header("Docker-Upload-UUID", std::string(id));
}

void SetEmpty(httplib::Response& res, int status) {
  res.status = status;
  res.set_header("Content-Length", "0");
}

// The required ?digest= parameter of a commit. InvalidArgument/Unsupported(kDigest).
quay::Result<quay::Digest> DigestParam(const httplib::Request& req) {
  if (!req.has_param("digest")) {
    return quay::Status::InvalidArgument(quay::Subject::kDigest,
                                         "the digest parameter is required");
  }
  return quay::Digest::Parse(req.get_param_value("digest"));
}

// Appends the request body to `upload`, nothing acknowledged yet (the caller
// Save()s or Commit()s). With a Content-Range the chunk must start at the
// session's offset (else RangeInvalid(kUpload) and the body is left unread)
// and its length must agree with Content-Length and with the bytes received
// (else InvalidArgument(kRange)). A body that ends early is
// InvalidArgument(kUpload); the bytes written through `upload` are then
// forgotten when it is destroyed.
quay::Status AppendBody(Exchange& ex, quay::BlobUpload& upload) {
  std::optional<ByteRange> range;
  if (ex.req.has_header("Content-Range")) {
    quay::Result<ByteRange> parsed =
        ParseUploadContentRange(ex.req.get_header_value("Content-Range"));
    if (!parsed.ok()) return parsed.status();
    range = *parsed;
    if (range->first != upload.offset()) {
      return quay::Status::RangeInvalid(
          quay::Subject::kUpload,
          fmt::format("chunk starts at byte {} but the upload holds {} bytes", range->first,
                      upload.offset()));
    }
    if (ex.body.content_length() && *ex.body.content_length() != range->length()) {
      return quay::Status::InvalidArgument(quay::Subject::kRange,
                                           "Content-Range does not match Content-Length");
    }
  }

  quay::Status write_status;
  RequestBody::Outcome outcome = ex.body.Stream([&](const char* data, size_t size) {
    write_status = upload.Write(data, size);
    return write_status.ok();
  });
  switch (outcome) {
    case RequestBody::Outcome::kStopped:
      return write_status;
    case RequestBody::Outcome::kBroken:
      return quay::Status::InvalidArgument(quay::Subject::kUpload,
                                           "the request body ended before its declared length");
    case RequestBody::Outcome::kComplete:
      break;
  }
  if (range && ex.body.bytes_read() != range->length()) {
    return quay::Status::InvalidArgument(quay::Subject::kRange,
                                         "the body length does not match Content-Range");
  }
  return quay::Status::Ok();
}

// Cross-repository mount (?mount=<digest>&from=<repository>): links the blob
// of `from` into the target without moving bytes. nullopt means "start a
// normal session instead", which the spec allows for any mount the registry
// will not do: no `from`, an invalid `from`, a `from` the caller may not pull
// (answered like an absent blob, so it reveals nothing), a blob `from` lacks.
// A malformed mount digest is the client's error (400); storage trouble is
// reported as such.
quay::Result<std::optional<quay::BlobInfo>> TryMount(Exchange& ex) {
  std::optional<quay::BlobInfo> none;
  if (!ex.req.has_param("mount") || !ex.req.has_param("from")) return none;
  quay::Result<quay::Digest> digest = quay::Digest::Parse(ex.req.get_param_value("mount"));
  if (!digest.ok()) return digest.status();
  const std::string from = ex.req.get_param_value("from");

  auto fall_back = [&](const quay::Status& why) -> quay::Result<std::optional<quay::BlobInfo>> {
    ex.logger.Log(quay::LogLevel::kDebug, "http", "mount not possible, starting an upload",
                  {{"repository", std::string(ex.match.name)},
                   {"from", from},
                   {"digest", digest->str()},
                   {"reason", why.ToString()}});
    return none;
  };
  if (quay::Status valid = quay::ValidateRepositoryName(from); !valid.ok()) {
    return fall_back(valid);
  }
  if (quay::Status allowed = ex.authorizer.Check(ex.principal, from, quay::Action::kPull);
      !allowed.ok()) {
    return fall_back(allowed);
  }
  quay::Result<quay::BlobInfo> mounted = ex.registry.MountBlob(ex.match.name, *digest, from);
  if (mounted.ok()) return std::optional<quay::BlobInfo>(*mounted);
  switch (mounted.status().code()) {
    case quay::Code::kNotFound:
    case quay::Code::kInvalidArgument:
    case quay::Code::kUnsupported:
      return fall_back(mounted.status());
    default:
      return mounted.status();
  }
}

}  // namespace

quay::Status HandleUploadStart(Exchange& ex) {
  const std::string_view name = ex.match.name;
  if (quay::Status ready = PrepareForPush(ex); !ready.ok()) return ready;
  quay::Result<std::optional<quay::BlobInfo>> mounted = TryMount(ex);
  if (!mounted.ok()) return mounted.status();
  if (*mounted) {
    ex.res.set_header("Location", BlobLocation(name, (*mounted)->digest));
    ex.res.set_header("Docker-Content-Digest", (*mounted)->digest.str());
    SetEmpty(ex.res, 201);
    return quay::Status::Ok();
  }

  std::optional<quay::Digest> digest;
  if (ex.req.has_param("digest")) {
    quay::Result<quay::Digest> parsed = DigestParam(ex.req);
    if (!parsed.ok()) return parsed.status();
    digest = *parsed;
  }

  quay::Result<std::unique_ptr<quay::BlobUpload>> started = ex.registry.StartUpload(name);
  if (!started.ok()) return started.status();
  std::unique_ptr<quay::BlobUpload> upload = std::move(started).value();
  const std::string id = upload->id();

  if (!digest) {
    SetSessionHeaders(ex.res, name, id, upload->offset());
    SetEmpty(ex.res, 202);
    return quay::Status::Ok();
  }

  // Monolithic upload: the session id never reaches the client, so any
  // failure cancels it rather than leaving an orphan for the cleanup worker.
  quay::Status status = AppendBody(ex, *upload);
  std::optional<quay::BlobInfo> info;
  if (status.ok()) {
    quay::Result<quay::BlobInfo> committed = upload->Commit(*digest);
    if (committed.ok()) {
      info = *committed;
    } else {
      status = committed.status();
    }
  }
  if (!status.ok()) {
    upload.reset();  // releases the session so it can be cancelled
    (void)ex.registry.CancelUpload(name, id);
    return status;
  }
  ex.res.set_header("Location", BlobLocation(name, info->digest));
  ex.res.set_header("Docker-Content-Digest", info->digest.str());
  SetEmpty(ex.res, 201);
  return quay::Status::Ok();
}

quay::Status HandleUploadStatus(Exchange& ex) {
  quay::Result<quay::UploadState> state = ex.registry.GetUpload(ex.match.name, ex.match.argument);
  if (!state.ok()) return state.status();
  SetSessionHeaders(ex.res, ex.match.name, state->id, state->offset);
  SetEmpty(ex.res, 204);
  return quay::Status::Ok();
}

quay::Status HandleUploadChunk(Exchange& ex) {
  quay::Result<std::unique_ptr<quay::BlobUpload>> resumed =
      ex.registry.ResumeUpload(ex.match.name, ex.match.argument);
  if (!resumed.ok()) return resumed.status();
  quay::BlobUpload& upload = **resumed;
  const uint64_t before = upload.offset();

  quay::Status status = AppendBody(ex, upload);
  if (status.ok()) status = upload.Save();
  if (!status.ok()) {
    if (status.code() == quay::Code::kRangeInvalid) {
      // Tell the client where to resume.
      SetSessionHeaders(ex.res, ex.match.name, upload.id(), before);
    }
    return status;
  }
  SetSessionHeaders(ex.res, ex.match.name, upload.id(), upload.offset());
  SetEmpty(ex.res, 202);
  return quay::Status::Ok();
}

quay::Status HandleUploadFinish(Exchange& ex) {
  quay::Result<quay::Digest> digest = DigestParam(ex.req);
  if (!digest.ok()) return digest.status();
  quay::Result<std::unique_ptr<quay::BlobUpload>> resumed =
      ex.registry.ResumeUpload(ex.match.name, ex.match.argument);
  if (!resumed.ok()) return resumed.status();
  quay::BlobUpload& upload = **resumed;
  const uint64_t before = upload.offset();

  quay::Status status = AppendBody(ex, upload);
  if (!status.ok()) {
    if (status.code() == quay::Code::kRangeInvalid) {
      SetSessionHeaders(ex.res, ex.match.name, upload.id(), before);
    }
    return status;
  }
  quay::Result<quay::BlobInfo> committed = upload.Commit(*digest);
  if (!committed.ok()) return committed.status();
  ex.res.set_header("Location", BlobLocation(ex.match.name, committed->digest));
  ex.res.set_header("Docker-Content-Digest", committed->digest.str());
  SetEmpty(ex.res, 201);
  return quay::Status::Ok();
}

quay::Status HandleUploadCancel(Exchange& ex) {
  quay::Status status = ex.registry.CancelUpload(ex.match.name, ex.match.argument);
  if (!status.ok()) return status;
  SetEmpty(ex.res, 204);
  return quay::Status::Ok();
}

}  // namespace quayd
