// Tag listing (Quay's history view, paged by page/limit) and tag changes
// through the API, and the manifest view with its labels.
#include <httplib.h>

#include <chrono>
#include <optional>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "host/api/views.h"
#include "quay/digest.h"

namespace quayd {
namespace {

using quay::Status;

quay::Result<quay::Digest> ManifestRef(const ApiExchange& ex) {
  auto digest = quay::Digest::Parse(ex.Param("manifestref"));
  if (!digest.ok()) return Status::NotFound(quay::Subject::kManifest, "Not Found");
  return digest;
}

void WriteLabel(Json& j, const quay::Label& l) {
  j.Object().Field("id", l.id).Field("key", l.key).Field("value", l.value);
  j.Field("source_type", quay::LabelSourceName(l.source)).Field("media_type", l.media_type);
  j.End();
}

// manifest_label_add / manifest_label_delete with Quay's metadata keys.
Status AuditLabel(ApiExchange& ex, std::string kind, const std::string& repository,
                  const quay::Label& label, const quay::Digest& digest) {
  return AuditRepository(ex, std::move(kind), repository,
                         {{"id", label.id},
                          {"key", label.key},
                          {"value", label.value},
                          {"manifest_digest", digest.str()},
                          {"namespace", quay::NamespaceOf(repository)},
                          {"repo", ShortName(repository)}});
}

size_t ParseCount(const std::string& text, size_t fallback) {
  if (text.empty()) return fallback;
  try {
    long long v = std::stoll(text);
    return v < 1 ? fallback : static_cast<size_t>(v);
  } catch (...) {
    return fallback;
  }
}

}  // namespace

Status HandleListTags(ApiExchange& ex) {
  quay::TagListQuery query;
  query.only_active = ex.QueryFlag("onlyActiveTags");
  if (std::string tag = ex.Query("specificTag"); !tag.empty()) query.specific_tag = tag;
  if (std::string filter = ex.Query("filter_tag_name"); !filter.empty()) {
    quay::TagNameFilter f;
    if (filter.starts_with("like:")) {
      f.kind = quay::TagNameFilter::Kind::kLike;
    } else if (filter.starts_with("eq:")) {
      f.kind = quay::TagNameFilter::Kind::kEq;
    } else {
      return Status::InvalidArgument(quay::Subject::kNone,
                                     "filter_tag_name must be like:<text> or eq:<text>");
    }
    f.text = filter.substr(filter.find(':') + 1);
    query.name_filter = f;
  }
  query.page = ParseCount(ex.Query("page"), 1);
  query.limit = std::min<size_t>(ParseCount(ex.Query("limit"), 50), 100);
  auto page = ex.svc.registry.SharedTagRows(ex.Param("repository"), query);
  if (!page.ok()) return page.status();
  auto tags =
      ex.svc.rendered->Render(*page, RenderMemo::View::kTagList, [](const quay::TagListPage& p) {
        Json j;
        j.Array();
        for (const quay::TagListRow& row : p.rows) {
          j.Object().Field("name", row.name).Field("reversion", false);
          j.Field("start_ts", Seconds(row.start));
          // An ended row, or a live one with an expiration (Quay's future
          // lifetime_end).
          if (row.end) {
            j.Field("end_ts", Seconds(*row.end)).Field("expiration", Rfc2822(*row.end));
          } else if (row.expiration) {
            j.Field("end_ts", Seconds(*row.expiration));
            j.Field("expiration", Rfc2822(*row.expiration));
          }
          j.Field("immutable", row.immutable);
          j.Field("manifest_digest", row.manifest_digest.str());
          j.Field("is_manifest_list", row.is_manifest_list);
          if (row.size)
            j.Field("size", static_cast<int64_t>(*row.size));
          else
            j.NullField("size");
          j.Field("last_modified", Rfc2822(row.last_modified)).End();
        }
        j.EndArray();
        return j.str();
      });
  Json j;
  j.Object().Key("tags").Raw(*tags);
  j.Field("page", query.page).Field("has_additional", (*page)->has_additional).End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// Quay's changeTag: `expiration`, then `immutable`, then `manifest_digest`,
// each optional, each applied by the Registry with its own audit row.
Status HandleChangeTag(ApiExchange& ex) {
  const std::string repository(ex.Param("repository"));
  const std::string tag(ex.Param("tag"));
  const rapidjson::Value& body = ex.body;
  const bool has_expiration = body.IsObject() && body.HasMember("expiration");
  const bool has_immutable = body.IsObject() && body.HasMember("immutable") &&
                             ex.svc.options.features[static_cast<size_t>(Feature::kImmutableTags)];
  auto digest_text = OptString(body, "manifest_digest");
  if (!digest_text && !has_expiration && !has_immutable) {
    return Status::InvalidArgument(quay::Subject::kNone, "'manifest_digest' is required");
  }
  if (has_expiration) {
    const rapidjson::Value& v = body["expiration"];
    std::optional<quay::Clock::TimePoint> when;
    // The clock's nanoseconds end in 2262; later dates are refused, not wrapped.
    if (v.IsNumber() && (v.GetDouble() < 0 || v.GetDouble() > 9e9)) {
      return Status::InvalidArgument(quay::Subject::kNone, "expiration is out of range");
    }
    if (v.IsNumber()) {
      when = quay::Clock::TimePoint(std::chrono::duration_cast<quay::Clock::TimePoint::duration>(
          std::chrono::duration<double>(v.GetDouble())));
    } else if (!v.IsNull()) {
      return Status::InvalidArgument(quay::Subject::kNone, "expiration must be a number or null");
    }
    auto previous = ex.svc.registry.SetTagExpiration(repository, tag, when, ex.actor());
    if (!previous.ok()) return previous.status();
  }
  if (has_immutable) {
    auto immutable = OptBool(body, "immutable");
    if (!immutable) {
      return Status::InvalidArgument(quay::Subject::kNone, "immutable must be a boolean");
    }
    // Write may set it; only an administrator may take it away (Quay).
    if (!*immutable) {
      auto state = ex.svc.registry.GetTagState(repository, tag);
      if (!state.ok()) return state.status();
      if (state->immutable) {
        if (Status admin =
                ex.svc.identity.authorizer()->Check(ex.principal, repository, quay::Action::kAdmin);
            !admin.ok()) {
          return admin;
        }
      }
    }
    auto previous = ex.svc.registry.SetTagImmutable(repository, tag, *immutable, ex.actor());
    if (!previous.ok()) return previous.status();
  }
  if (digest_text) {
    auto digest = quay::Digest::Parse(*digest_text);
    if (!digest.ok())
      return Status::InvalidArgument(quay::Subject::kDigest, "invalid manifest_digest");
    // The create_tag / move_tag row commits with the tag (Registry::PutTag).
    auto previous = ex.svc.registry.PutTag(repository, tag, *digest, ex.actor());
    if (!previous.ok()) {
      if (previous.status().code() == quay::Code::kNotFound &&
          previous.status().subject() == quay::Subject::kManifest) {
        return Status::NotFound(quay::Subject::kManifest, "Could not find manifest");
      }
      return previous.status();
    }
  }
  ex.res.status = 201;
  ex.res.set_content("\"Updated\"", "application/json");
  return Status::Ok();
}

Status HandleGetManifest(ApiExchange& ex) {
  auto digest = ManifestRef(ex);
  if (!digest.ok()) return digest.status();
  auto info = ex.svc.registry.GetManifestInfo(ex.Param("repository"), *digest);
  if (!info.ok()) return info.status();
  Json j;
  j.Object().Field("digest", info->digest.str()).Field("is_manifest_list", info->is_manifest_list);
  j.Field("manifest_data", info->bytes).Field("media_type", info->media_type);
  j.Field("size", static_cast<int64_t>(info->size));
  j.Field("created", Rfc2822(info->created));
  if (info->config)
    j.Field("config_media_type", info->config->media_type);
  else
    j.NullField("config_media_type");
  if (info->layers_size)
    j.Field("layers_compressed_size", static_cast<int64_t>(*info->layers_size));
  else
    j.NullField("layers_compressed_size");
  if (info->is_manifest_list) {
    j.NullField("layers");
  } else {
    j.Key("layers").Array();
    for (size_t i = 0; i < info->layers.size(); ++i) {
      const quay::Descriptor& layer = info->layers[i];
      j.Object().Field("index", i).Field("compressed_size", static_cast<int64_t>(layer.size));
      j.Field("is_remote", false).NullField("urls").NullField("command").NullField("comment");
      j.NullField("author").Field("blob_digest", layer.digest.str());
      j.Field("media_type", layer.media_type).NullField("created_datetime").End();
    }
    j.EndArray();
  }
  if (info->subject) j.Field("subject", info->subject->str());
  j.End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

// Not a Quay route: what /v2/<repo>/referrers/<digest> lists, as JSON
// rows (optionally only one artifactType), so the UI needs no /v2 token.
Status HandleListManifestReferrers(ApiExchange& ex) {
  auto digest = ManifestRef(ex);
  if (!digest.ok()) return digest.status();
  auto refs =
      ex.svc.registry.ListReferrers(ex.Param("repository"), *digest, ex.Query("artifactType"));
  if (!refs.ok()) return refs.status();
  Json j;
  j.Object().Key("referrers").Array();
  for (const quay::Descriptor& d : *refs) {
    j.Object().Field("digest", d.digest.str()).Field("media_type", d.media_type);
    j.Field("artifact_type", d.artifact_type).Field("size", static_cast<int64_t>(d.size));
    j.Key("annotations").Object();
    for (const auto& [key, value] : d.annotations) j.Field(key, value);
    j.End().End();
  }
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleListLabels(ApiExchange& ex) {
  auto digest = ManifestRef(ex);
  if (!digest.ok()) return digest.status();
  auto labels = ex.svc.registry.ListLabels(ex.Param("repository"), *digest, ex.Query("filter"));
  if (!labels.ok()) return labels.status();
  Json j;
  j.Object().Key("labels").Array();
  for (const quay::Label& l : *labels) WriteLabel(j, l);
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleAddLabel(ApiExchange& ex) {
  auto digest = ManifestRef(ex);
  if (!digest.ok()) return digest.status();
  auto key = RequireString(ex.body, "key");
  if (!key.ok()) return key.status();
  auto value = RequireString(ex.body, "value");
  if (!value.ok()) return value.status();
  const std::string repository(ex.Param("repository"));
  auto label = ex.svc.registry.AddLabel(repository, *digest, *key, *value,
                                        OptString(ex.body, "media_type").value_or(""));
  if (!label.ok()) return label.status();
  if (Status a = AuditLabel(ex, "manifest_label_add", repository, *label, *digest); !a.ok())
    return a;
  ex.res.set_header("Location", "/api/v1/repository/" + repository + "/manifest/" + digest->str() +
                                    "/labels/" + label->id);
  Json j;
  j.Object().Key("label");
  WriteLabel(j, *label);
  j.End();
  Reply(ex.res, 201, j);
  return Status::Ok();
}

Status HandleGetLabel(ApiExchange& ex) {
  auto digest = ManifestRef(ex);
  if (!digest.ok()) return digest.status();
  auto label = ex.svc.registry.GetLabel(ex.Param("repository"), *digest, ex.Param("labelid"));
  if (!label.ok()) return label.status();
  Json j;
  WriteLabel(j, *label);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleDeleteLabel(ApiExchange& ex) {
  auto digest = ManifestRef(ex);
  if (!digest.ok()) return digest.status();
  const std::string repository(ex.Param("repository"));
  auto label = ex.svc.registry.DeleteLabel(repository, *digest, ex.Param("labelid"));
  if (!label.ok()) return label.status();
  if (Status a = AuditLabel(ex, "manifest_label_delete", repository, *label, *digest); !a.ok()) {
    return a;
  }
  ReplyEmpty(ex.res, 204);
  return Status::Ok();
}

}  // namespace quayd
