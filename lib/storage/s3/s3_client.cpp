#include "storage/s3/s3_client.h"

#include <charconv>
#include <string>
#include <utility>

#include "core/str_cat.h"

namespace quay::storage::s3 {
namespace {

// SHA-256 of the empty string: the payload hash of every bodyless request.
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&apos;");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

bool ParseUint(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// "bytes 0-9/1234" or "bytes */1234" -> 1234.
bool ParseContentRangeTotal(std::string_view value, uint64_t* total) {
  const size_t slash = value.rfind('/');
  return slash != std::string_view::npos && ParseUint(value.substr(slash + 1), total);
}

}  // namespace

std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = core::StrCat({"<", tag, ">"});
  const std::string close = core::StrCat({"</", tag, ">"});
  size_t pos = 0;
  for (;;) {
    const size_t start = xml.find(open, pos);
    if (start == std::string_view::npos) break;
    const size_t inner = start + open.size();
    const size_t end = xml.find(close, inner);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(inner, end - inner));
    pos = end + close.size();
  }
  return out;
}

std::string XmlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    const size_t semi = text.find(';', i);
    if (semi == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    const std::string_view entity = text.substr(i + 1, semi - i - 1);
    if (entity == "amp") {
      out.push_back('&');
    } else if (entity == "lt") {
      out.push_back('<');
    } else if (entity == "gt") {
      out.push_back('>');
    } else if (entity == "quot") {
      out.push_back('"');
    } else if (entity == "apos") {
      out.push_back('\'');
    } else if (entity.size() > 1 && entity[0] == '#') {
      uint32_t cp = 0;
      const bool hex = entity[1] == 'x' || entity[1] == 'X';
      const std::string_view digits = entity.substr(hex ? 2 : 1);
      auto [end, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (ec != std::errc() || end != digits.data() + digits.size() || cp > 0x10ffff) {
        out.append(text.substr(i, semi - i + 1));
      } else if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
      } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
      } else {
        out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
      }
    } else {
      out.append(text.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

std::string XmlFirst(std::string_view xml, std::string_view tag) {
  auto all = XmlElements(xml, tag);
  return all.empty() ? std::string() : XmlDecode(all.front());
}

S3Client::S3Client(S3ClientConfig config, std::shared_ptr<HttpTransport> transport,
                   std::shared_ptr<Clock> clock)
    : config_(std::move(config)), transport_(std::move(transport)), clock_(std::move(clock)) {
  while (!config_.endpoint.empty() && config_.endpoint.back() == '/') config_.endpoint.pop_back();
  std::string_view authority = config_.endpoint;
  if (const size_t scheme = authority.find("://"); scheme != std::string_view::npos) {
    authority.remove_prefix(scheme + 3);
  }
  host_ = std::string(authority.substr(0, authority.find('/')));
}

std::string S3Client::PresignGet(std::string_view key, std::chrono::seconds lifetime) const {
  std::string path =
      core::StrCat({"/", UriEncode(config_.bucket, true), "/", UriEncode(key, false)});
  const std::string query =
      PresignV4Query(config_.credentials, AmzDate(clock_->Now()), "GET", path, host_, lifetime);
  return core::StrCat({config_.endpoint, path, "?", query});
}

Result<HttpResponse> S3Client::Send(const Call& call) const {
  std::string path = core::StrCat({"/", UriEncode(config_.bucket, true)});
  if (!call.key.empty()) path.append("/").append(UriEncode(call.key, false));

  SigV4Request to_sign;
  to_sign.method = call.method;
  to_sign.canonical_uri = path;
  to_sign.query = call.query;
  to_sign.payload_sha256 = call.body.empty() ? std::string(kEmptySha256) : Sha256Hex(call.body);
  const std::string amz_date = AmzDate(clock_->Now());
  to_sign.headers = call.headers;
  to_sign.headers.emplace_back("host", host_);
  to_sign.headers.emplace_back("x-amz-date", amz_date);
  to_sign.headers.emplace_back("x-amz-content-sha256", to_sign.payload_sha256);
  const SigV4Signature signature = SignV4(config_.credentials, amz_date, to_sign);

  HttpRequest request;
  request.method = call.method;
  request.url = config_.endpoint + path;
  if (const std::string query = CanonicalQuery(call.query); !query.empty()) {
    request.url.append("?").append(query);
  }
  request.headers = std::move(to_sign.headers);
  request.headers.emplace_back("authorization", signature.authorization);
  request.body = call.body;
  return transport_->Send(request);
}

Status S3Client::ErrorStatus(const Call& call, const HttpResponse& response,
                             Subject missing) const {
  const std::string code = XmlFirst(response.body, "Code");
  std::string msg = core::StrCat({"s3 ", call.method, " "});
  msg.append(call.key.empty() ? core::StrCat({"bucket ", config_.bucket}) : call.key)
      .append(" failed: HTTP ")
      .append(std::to_string(response.status));
  if (!code.empty()) msg.append(" ").append(code);
  if (const std::string id = XmlFirst(response.body, "RequestId"); !id.empty()) {
    msg.append(" (request ").append(id).append(")");
  }
  if (response.status == 404 || code == "NoSuchKey" || code == "NoSuchUpload") {
    return Status::NotFound(missing, std::move(msg));
  }
  if (response.status == 412) return Status::Conflict(missing, std::move(msg));
  if (response.status >= 500 || code == "SlowDown") return Status::Unavailable(std::move(msg));
  return Status::Internal(std::move(msg));
}

Status S3Client::CreateBucket() const {
  Call call{"PUT", "", {}, {}, {}};
  auto response = Send(call);
  if (!response.ok()) return response.status();
  if (response->status == 200) return Status::Ok();
  if (XmlFirst(response->body, "Code") == "BucketAlreadyOwnedByYou") return Status::Ok();
  return ErrorStatus(call, *response, Subject::kNone);
}

std::string S3Client::CopySource(std::string_view source_key) const {
  return core::StrCat({"/", UriEncode(config_.bucket, true), "/", UriEncode(source_key, false)});
}

Status S3Client::HeadBucket() const {
  Call call{"HEAD", "", {}, {}, {}};
  auto response = Send(call);
  if (!response.ok()) return response.status();
  if (response->status == 200) return Status::Ok();
  return ErrorStatus(call, *response, Subject::kNone);
}

Status S3Client::PutObject(std::string_view key, std::string_view body, bool if_absent) const {
  Call call{"PUT", std::string(key), {}, {}, body};
  call.headers.emplace_back("content-length", std::to_string(body.size()));
  if (if_absent) call.headers.emplace_back("if-none-match", "*");
  auto response = Send(call);
  if (!response.ok()) return response.status();
  if (response->status == 200) return Status::Ok();
  return ErrorStatus(call, *response, Subject::kNone);
}

Result<ObjectRange> S3Client::GetObjectRange(std::string_view key, uint64_t offset, uint64_t length,
                                             Subject missing) const {
  if (length == 0) {
    auto size = HeadObject(key, missing);
    if (!size.ok()) return size.status();
    return ObjectRange{{}, *size};
  }
  Call call{"GET", std::string(key), {}, {}, {}};
  call.headers.emplace_back("range", core::StrCat({"bytes=", std::to_string(offset), "-",
                                                   std::to_string(offset + length - 1)}));
  auto response = Send(call);
  if (!response.ok()) return response.status();
  ObjectRange out;
  if (response->status == 206) {
    if (!ParseContentRangeTotal(response->Header("content-range"), &out.object_size)) {
      return Status::Internal(core::StrCat({"s3 GET ", key, ": no Content-Range in the answer"}));
    }
    out.bytes = std::move(response->body);
    return out;
  }
  if (response->status == 200) {  // the whole object: the store ignored the range
    out.object_size = response->body.size();
    if (offset < response->body.size()) {
      out.bytes = response->body.substr(offset, length);
    }
    return out;
  }
  if (response->status == 416) {  // at or past the end (or an empty object)
    if (!ParseContentRangeTotal(response->Header("content-range"), &out.object_size)) {
      auto size = HeadObject(key, missing);
      if (!size.ok()) return size.status();
      out.object_size = *size;
    }
    return out;
  }
  return ErrorStatus(call, *response, missing);
}

Result<uint64_t> S3Client::HeadObject(std::string_view key, Subject missing) const {
  Call call{"HEAD", std::string(key), {}, {}, {}};
  auto response = Send(call);
  if (!response.ok()) return response.status();
  if (response->status != 200) return ErrorStatus(call, *response, missing);
  uint64_t size = 0;
  if (!ParseUint(response->Header("content-length"), &size)) {
    return Status::Internal(core::StrCat({"s3 HEAD ", key, ": no Content-Length in the answer"}));
  }
  return size;
}

Status S3Client::DeleteObject(std::string_view key) const {
  Call call{"DELETE", std::string(key), {}, {}, {}};
  auto response = Send(call);
  if (!response.ok()) return response.status();
  if (response->status == 204 || response->status == 200 || response->status == 404) {
    return Status::Ok();
  }
  return ErrorStatus(call, *response, Subject::kNone);
}

Status S3Client::CopyObject(std::string_view source_key, std::string_view key) const {
  Call call{"PUT", std::string(key), {}, {}, {}};
  call.headers.emplace_back("x-amz-copy-source", CopySource(source_key));
  auto response = Send(call);
  if (!response.ok()) return response.status();
  // A copy can fail after the 200 has been sent: the error is in the body.
  if (response->status == 200 && response->body.find("<Error>") == std::string::npos) {
    return Status::Ok();
  }
  if (response->status == 200) response->status = 500;
  return ErrorStatus(call, *response, Subject::kUpload);
}

Status S3Client::ListObjects(std::string_view prefix, std::string_view delimiter,
                             std::vector<ObjectInfo>* objects,
                             std::vector<std::string>* groups) const {
  std::string token;
  for (;;) {
    Call call{"GET", "", {{"list-type", "2"}, {"prefix", std::string(prefix)}}, {}, {}};
    if (!delimiter.empty()) call.query.emplace_back("delimiter", std::string(delimiter));
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    if (config_.list_page_size > 0) {
      call.query.emplace_back("max-keys", std::to_string(config_.list_page_size));
    }
    auto response = Send(call);
    if (!response.ok()) return response.status();
    if (response->status != 200) return ErrorStatus(call, *response, Subject::kNone);
    for (std::string_view contents : XmlElements(response->body, "Contents")) {
      ObjectInfo info;
      info.key = XmlFirst(contents, "Key");
      if (!ParseUint(XmlFirst(contents, "Size"), &info.size)) {
        return Status::Internal("s3 list: an object without a size");
      }
      if (objects != nullptr) objects->push_back(std::move(info));
    }
    for (std::string_view group : XmlElements(response->body, "CommonPrefixes")) {
      if (groups != nullptr) groups->push_back(XmlFirst(group, "Prefix"));
    }
    if (XmlFirst(response->body, "IsTruncated") != "true") return Status::Ok();
    token = XmlFirst(response->body, "NextContinuationToken");
    if (token.empty()) return Status::Internal("s3 list: truncated without a continuation token");
  }
}

Result<std::vector<ObjectInfo>> S3Client::ListObjects(std::string_view prefix) const {
  std::vector<ObjectInfo> objects;
  if (Status s = ListObjects(prefix, "", &objects, nullptr); !s.ok()) return s;
  return objects;
}

Result<std::string> S3Client::CreateMultipartUpload(std::string_view key) const {
  Call call{"POST", std::string(key), {{"uploads", ""}}, {}, {}};
  auto response = Send(call);
  if (!response.ok()) return response.status();
  if (response->status != 200) return ErrorStatus(call, *response, Subject::kNone);
  std::string id = XmlFirst(response->body, "UploadId");
  if (id.empty()) return Status::Internal("s3 create multipart upload: no UploadId");
  return id;
}

Result<std::string> S3Client::UploadPartCopy(std::string_view key, std::string_view upload_id,
                                             int part_number, std::string_view source_key,
                                             uint64_t first, uint64_t last) const {
  Call call{"PUT",
            std::string(key),
            {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}},
            {},
            {}};
  call.headers.emplace_back("x-amz-copy-source", CopySource(source_key));
  call.headers.emplace_back(
      "x-amz-copy-source-range",
      core::StrCat({"bytes=", std::to_string(first), "-", std::to_string(last)}));
  auto response = Send(call);
  if (!response.ok()) return response.status();
  if (response->status == 200 && response->body.find("<Error>") == std::string::npos) {
    std::string etag = XmlFirst(response->body, "ETag");
    if (etag.empty()) return Status::Internal("s3 upload part copy: no ETag");
    return etag;
  }
  if (response->status == 200) response->status = 500;
  return ErrorStatus(call, *response, Subject::kUpload);
}

Status S3Client::CompleteMultipartUpload(std::string_view key, std::string_view upload_id,
                                         const std::vector<std::string>& part_etags) const {
  std::string body = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < part_etags.size(); ++i) {
    body.append("<Part><PartNumber>")
        .append(std::to_string(i + 1))
        .append("</PartNumber><ETag>")
        .append(XmlEscape(part_etags[i]))
        .append("</ETag></Part>");
  }
  body.append("</CompleteMultipartUpload>");
  Call call{"POST", std::string(key), {{"uploadId", std::string(upload_id)}}, {}, body};
  call.headers.emplace_back("content-type", "application/xml");
  auto response = Send(call);
  if (!response.ok()) return response.status();
  if (response->status == 200 && response->body.find("<Error>") == std::string::npos) {
    return Status::Ok();
  }
  if (response->status == 200) response->status = 500;
  return ErrorStatus(call, *response, Subject::kUpload);
}

Status S3Client::AbortMultipartUpload(std::string_view key, std::string_view upload_id) const {
  Call call{"DELETE", std::string(key), {{"uploadId", std::string(upload_id)}}, {}, {}};
  auto response = Send(call);
  if (!response.ok()) return response.status();
  if (response->status == 204 || response->status == 200 || response->status == 404) {
    return Status::Ok();
  }
  return ErrorStatus(call, *response, Subject::kUpload);
}

Result<std::vector<MultipartUploadInfo>> S3Client::ListMultipartUploads(
    std::string_view prefix) const {
  std::vector<MultipartUploadInfo> out;
  std::string key_marker, id_marker;
  for (;;) {
    Call call{"GET", "", {{"uploads", ""}, {"prefix", std::string(prefix)}}, {}, {}};
    if (!key_marker.empty()) call.query.emplace_back("key-marker", key_marker);
    if (!id_marker.empty()) call.query.emplace_back("upload-id-marker", id_marker);
    if (config_.list_page_size > 0) {
      call.query.emplace_back("max-uploads", std::to_string(config_.list_page_size));
    }
    auto response = Send(call);
    if (!response.ok()) return response.status();
    if (response->status != 200) return ErrorStatus(call, *response, Subject::kNone);
    for (std::string_view upload : XmlElements(response->body, "Upload")) {
      out.push_back({XmlFirst(upload, "Key"), XmlFirst(upload, "UploadId")});
    }
    if (XmlFirst(response->body, "IsTruncated") != "true") return out;
    key_marker = XmlFirst(response->body, "NextKeyMarker");
    id_marker = XmlFirst(response->body, "NextUploadIdMarker");
    if (key_marker.empty()) return Status::Internal("s3 list uploads: truncated without a marker");
  }
}

}  // namespace quay::storage::s3
