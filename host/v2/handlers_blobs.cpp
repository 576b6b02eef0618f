// Blob reads. GET streams from the blob store in pieces of at most 1 MiB (the
// blob is never held in memory) and honours one byte range; HEAD only stats.
// DELETE unlinks the blob from the repository (the bytes go with GC).

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "host/net/http_ranges.h"
#include "host/net/request_body.h"
#include "host/v2/handlers.h"
#include "quay/digest.h"

namespace quayd {
namespace {

constexpr char kBlobContentType[] = "application/octet-stream";
// How long a redirected client may take to start its download.
constexpr std::chrono::seconds kBlobRedirectLifetime{600};

void SetBlobHeaders(httplib::Response& res, const quay::Digest& digest) {
  res.set_header("Docker-Content-Digest", digest.str());
  res.set_header("ETag", fmt::format("\"{}\"", digest.str()));
  res.set_header("Accept-Ranges", "bytes");
  // Content-addressed: the bytes behind a digest never change.
  res.set_header("Cache-Control", "max-age=31536000");
}

// The reader and its buffer live as long as cpp-httplib keeps the provider.
struct BlobStream {
  std::unique_ptr<quay::BlobReader> reader;
  uint64_t base = 0;  // first byte served
  std::vector<char> buffer;
  quay::Logger* logger = nullptr;
  quay::Digest digest;
};

}  // namespace

quay::Status HandleBlobHead(Exchange& ex) {
  quay::Result<quay::Digest> digest = quay::Digest::Parse(ex.match.argument);
  if (!digest.ok()) return digest.status();
  quay::Result<quay::BlobInfo> info = ex.registry.StatBlob(ex.match.name, *digest);
  if (!info.ok()) return info.status();
  SetBlobHeaders(ex.res, info->digest);
  ex.res.set_header("Content-Type", kBlobContentType);
  ex.res.set_header("Content-Length", std::to_string(info->size));
  ex.res.status = 200;
  return quay::Status::Ok();
}

quay::Status HandleBlobGet(Exchange& ex) {
  quay::Result<quay::Digest> digest = quay::Digest::Parse(ex.match.argument);
  if (!digest.ok()) return digest.status();
  if (ex.limits.blob_redirects) {
    // The client fetches the bytes from the store itself (and sends its
    // Range there); a store without direct URLs streams as usual.
    quay::Result<std::string> url =
        ex.registry.BlobUrl(ex.match.name, *digest, kBlobRedirectLifetime);
    if (url.ok()) {
      SetBlobHeaders(ex.res, *digest);
      ex.res.set_header("Location", *url);
      ex.res.status = 307;
      return quay::Status::Ok();
    }
    if (url.status().code() != quay::Code::kUnsupported) return url.status();
  }
  quay::Result<std::unique_ptr<quay::BlobReader>> opened =
      ex.registry.OpenBlob(ex.match.name, *digest);
  if (!opened.ok()) return opened.status();

  const uint64_t size = (*opened)->size();
  SetBlobHeaders(ex.res, *digest);
  RangeRequest range{};
  if (ex.req.has_header("Range")) range = ResolveRange(ex.req.get_header_value("Range"), size);

  ByteRange served{0, size == 0 ? 0 : size - 1};
  switch (range.kind) {
    case RangeRequest::Kind::kUnsatisfiable:
      ex.res.set_header("Content-Range", fmt::format("bytes */{}", size));
      return quay::Status::RangeInvalid(quay::Subject::kRange,
                                        fmt::format("the blob has {} bytes", size));
    case RangeRequest::Kind::kPartial:
      served = range.range;
      ex.res.status = 206;
      ex.res.set_header("Content-Range", ContentRangeHeader(served, size));
      break;
    case RangeRequest::Kind::kFull:
      ex.res.status = 200;
      break;
  }

  if (size == 0) {
    ex.res.set_header("Content-Type", kBlobContentType);
    ex.res.set_header("Content-Length", "0");
    return quay::Status::Ok();
  }

  auto stream = std::make_shared<BlobStream>();
  stream->reader = std::move(opened).value();
  stream->base = served.first;
  stream->logger = &ex.logger;
  stream->digest = *digest;
  const uint64_t length = served.length();
  stream->buffer.resize(static_cast<size_t>(std::min<uint64_t>(length, RequestBody::kBufferSize)));

  ex.res.set_content_provider(
      static_cast<size_t>(length), kBlobContentType,
      [stream](size_t offset, size_t want, httplib::DataSink& sink) {
        const size_t n = std::min(want, stream->buffer.size());
        quay::Result<size_t> got =
            stream->reader->ReadAt(stream->base + offset, stream->buffer.data(), n);
        if (!got.ok() || *got == 0) {
          // Headers are gone already; failing the provider drops the
          // connection so the client sees a short body, not wrong bytes.
          stream->logger->Log(
              quay::LogLevel::kError, "http", "failed to read blob",
              {{"digest", stream->digest.str()},
               {"offset", std::to_string(stream->base + offset)},
               {"error", got.ok() ? "unexpected end of blob" : got.status().ToString()}});
          return false;
        }
        return sink.write(stream->buffer.data(), *got);
      });
  return quay::Status::Ok();
}

quay::Status HandleBlobDelete(Exchange& ex) {
  quay::Result<quay::Digest> digest = quay::Digest::Parse(ex.match.argument);
  if (!digest.ok()) return digest.status();
  if (quay::Status deleted = ex.registry.DeleteBlob(ex.match.name, *digest); !deleted.ok()) {
    return deleted;
  }
  ex.res.status = 202;
  ex.res.set_header("Content-Length", "0");
  return quay::Status::Ok();
}

}  // namespace quayd
