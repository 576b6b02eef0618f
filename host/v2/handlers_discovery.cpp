// Content discovery: the tag list, the catalog and the referrers index. Lists
// are paged the OCI way (?n=<count>&last=<exclusive start>, lexical order, a
// Link header with rel="next" while more remain).

#include <fmt/format.h>
#include <httplib.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "host/auth/registry_auth.h"
#include "host/net/http_ranges.h"
#include "host/v2/handlers.h"
#include "quay/digest.h"
#include "quay/identity.h"

namespace quayd {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";

void WriteString(JsonWriter& writer, std::string_view s) {
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

struct PageRequest {
  size_t limit = 0;
  std::string last;  // exclusive; empty = from the start
};

// ?n= and ?last=. Without n a page holds HostLimits::max_page_names names (the
// spec's "everything" is capped so one request cannot list a million tags;
// the Link header carries the client on). A larger n is clamped to it. An n
// that is not a plain decimal is InvalidArgument.
quay::Result<PageRequest> ParsePageRequest(const Exchange& ex) {
  const httplib::Request& req = ex.req;
  const size_t max_page = ex.limits.max_page_names;
  PageRequest page;
  page.limit = max_page;
  if (req.has_param("n")) {
    std::optional<uint64_t> n = ParseDecimal(req.get_param_value("n"));
    if (!n) {
      return quay::Status::InvalidArgument(quay::Subject::kNone,
                                           "n must be a non-negative decimal number");
    }
    page.limit = static_cast<size_t>(std::min<uint64_t>(*n, max_page));
  }
  if (req.has_param("last")) page.last = req.get_param_value("last");
  return page;
}

// Percent-encodes a query value. Names and tags only hold [a-z0-9._/-] and
// [A-Za-z0-9_.-], so this normally copies; `last` echoes what we listed.
std::string QueryEscape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// Trims a page to the requested size (the library promises at most `limit`;
// this keeps the Link header right even if it gave more) and sets the Link
// header when names after the page exist. n=0 never links: its next page
// would be the same empty page.
void FinishPage(httplib::Response& res, std::string_view path, const PageRequest& request,
                quay::NamePage& page) {
  if (page.names.size() > request.limit) {
    page.names.resize(request.limit);
    page.more = true;
  }
  if (!page.more || request.limit == 0 || page.names.empty()) return;
  res.set_header("Link", fmt::format("<{}?n={}&last={}>; rel=\"next\"", path, request.limit,
                                     QueryEscape(page.names.back())));
}

void WriteNames(JsonWriter& writer, const std::vector<std::string>& names) {
  writer.StartArray();
  for (const std::string& name : names) WriteString(writer, name);
  writer.EndArray();
}

void WriteDescriptor(JsonWriter& writer, const quay::Descriptor& d) {
  writer.StartObject();
  writer.Key("mediaType");
  WriteString(writer, d.media_type);
  writer.Key("digest");
  WriteString(writer, d.digest.str());
  writer.Key("size");
  writer.Uint64(d.size);
  if (!d.artifact_type.empty()) {
    writer.Key("artifactType");
    WriteString(writer, d.artifact_type);
  }
  if (!d.annotations.empty()) {
    writer.Key("annotations");
    writer.StartObject();
    for (const auto& [key, value] : d.annotations) {
      WriteString(writer, key);
      WriteString(writer, value);
    }
    writer.EndObject();
  }
  writer.EndObject();
}

void SetJson(httplib::Response& res, const rapidjson::StringBuffer& buffer,
             const char* content_type) {
  res.status = 200;
  res.set_content(std::string(buffer.GetString(), buffer.GetSize()), content_type);
}

// With identities, the catalog lists what the principal may pull (Quay);
// without, every repository.
quay::Result<quay::NamePage> ListCatalog(Exchange& ex, const PageRequest& request) {
  if (ex.auth == nullptr) return ex.registry.ListRepositories(request.limit, request.last);
  quay::Result<quay::AccountPage> visible =
      ex.auth->identity().ListVisibleRepositories(ex.principal, request.limit, request.last);
  if (!visible.ok()) return visible.status();
  quay::NamePage page;
  page.names = std::move(visible->names);
  page.more = visible->more;
  return page;
}

}  // namespace

quay::Status HandleTagList(Exchange& ex) {
  quay::Result<PageRequest> request = ParsePageRequest(ex);
  if (!request.ok()) return request.status();
  quay::Result<quay::NamePage> page =
      ex.registry.ListTags(ex.match.name, request->limit, request->last);
  if (!page.ok()) return page.status();
  FinishPage(ex.res, fmt::format("/v2/{}/tags/list", ex.match.name), *request, *page);

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("name");
  WriteString(writer, ex.match.name);
  writer.Key("tags");
  WriteNames(writer, page->names);
  writer.EndObject();
  SetJson(ex.res, buffer, "application/json");
  return quay::Status::Ok();
}

quay::Status HandleCatalog(Exchange& ex) {
  quay::Result<PageRequest> request = ParsePageRequest(ex);
  if (!request.ok()) return request.status();
  quay::Result<quay::NamePage> page = ListCatalog(ex, *request);
  if (!page.ok()) return page.status();
  FinishPage(ex.res, "/v2/_catalog", *request, *page);

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("repositories");
  WriteNames(writer, page->names);
  writer.EndObject();
  SetJson(ex.res, buffer, "application/json");
  return quay::Status::Ok();
}

quay::Status HandleReferrers(Exchange& ex) {
  quay::Result<quay::Digest> subject = quay::Digest::Parse(ex.match.argument);
  if (!subject.ok()) return subject.status();
  const std::string artifact_type =
      ex.req.has_param("artifactType") ? ex.req.get_param_value("artifactType") : std::string();

  quay::Result<std::vector<quay::Descriptor>> referrers =
      ex.registry.ListReferrers(ex.match.name, *subject, artifact_type);
  std::vector<quay::Descriptor> found;
  if (referrers.ok()) {
    found = std::move(referrers).value();
  } else if (!(referrers.status().IsNotFound() &&
               referrers.status().subject() == quay::Subject::kRepository)) {
    // The spec forbids a 404 here (clients read it as "no referrers API" and
    // fall back to tag schemes), so an unknown repository, like an unknown
    // subject, has an empty index.
    return referrers.status();
  }

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("schemaVersion");
  writer.Int(2);
  writer.Key("mediaType");
  writer.String(kOciIndex);
  writer.Key("manifests");
  writer.StartArray();
  for (const quay::Descriptor& d : found) WriteDescriptor(writer, d);
  writer.EndArray();
  writer.EndObject();
  if (!artifact_type.empty()) ex.res.set_header("OCI-Filters-Applied", "artifactType");
  SetJson(ex.res, buffer, kOciIndex);
  return quay::Status::Ok();
}

}  // namespace quayd
