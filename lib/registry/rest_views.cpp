// The Registry calls behind Quay's REST API (/api/v1): the tag history
// listing, PutTag, manifest details, repository stats and manifest labels.
#include <algorithm>
#include <chrono>
#include <string>

#include "api/service_state.h"
#include "core/manifest.h"
#include "core/str_cat.h"
#include "db/connection.h"
#include "quay/reference.h"
#include "registry/registry_impl.h"
#include "registry/upload_id.h"

namespace quay::registry {
namespace {

constexpr size_t kMaxTagPageRows = 100;  // Quay's cap on `limit`
constexpr size_t kMaxLabelKeyBytes = 255;
// Image configs read at push time for their labels; larger ones (long
// histories) give none rather than a slow push.
constexpr uint64_t kMaxLabelledConfigBytes = 64 * 1024;
constexpr std::string_view kDockerImageConfig = "application/vnd.docker.container.image.v1+json";
constexpr std::string_view kOciImageConfig = "application/vnd.oci.image.config.v1+json";

Clock::TimePoint At(int64_t micros) { return Clock::TimePoint(std::chrono::microseconds(micros)); }

bool IsIndexMediaType(std::string_view media_type) {
  return media_type == media_type::kOciIndex || media_type == media_type::kDockerManifestList;
}

Status UnknownRepository(std::string_view repository) {
  return Status::NotFound(Subject::kRepository,
                          core::StrCat({"repository ", repository, " is unknown"}));
}

// Appends `text` so that no two different inputs give the same key.
void AppendKeyPart(std::string& key, std::string_view text) {
  key += std::to_string(text.size());
  key += ':';
  key.append(text);
}

// The cursor-cache key of one page of one listing.
std::string TagPageKey(std::string_view repository, const TagListQuery& q, size_t limit,
                       size_t page) {
  std::string key;
  AppendKeyPart(key, repository);
  key += q.only_active ? 'a' : 'h';
  if (q.specific_tag) {
    key += 's';
    AppendKeyPart(key, *q.specific_tag);
  }
  if (q.name_filter) {
    key += q.name_filter->kind == TagNameFilter::Kind::kLike ? 'l' : 'e';
    AppendKeyPart(key, q.name_filter->text);
  }
  key += std::to_string(limit);
  key += '/';
  key += std::to_string(page);
  return key;
}

// Quay's label key rule (util/validation.py): lower-case alphanumerics,
// single '.' or '-' between them, at most 255 bytes.
bool IsValidLabelKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxLabelKeyBytes) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(key.front()) || !alnum(key.back())) return false;
  for (size_t i = 1; i < key.size(); ++i) {
    const char c = key[i];
    if (alnum(c)) continue;
    if (c != '.' && c != '-') return false;
    if (!alnum(key[i - 1])) return false;  // no two separators in a row
  }
  return true;
}

// Quay reserves "quay." for labels it interprets itself (label_validator.py).
bool HasReservedPrefix(std::string_view key) { return key.starts_with("quay."); }

bool IsLabelMediaType(std::string_view media_type) {
  return media_type == "text/plain" || media_type == "application/json" ||
         media_type == "text/markdown";
}

Label ToLabel(db::LabelRow row) {
  Label label;
  label.id = std::move(row.uuid);
  label.key = std::move(row.key);
  label.value = std::move(row.value);
  label.media_type = std::move(row.media_type);
  label.source = row.source == "manifest" ? LabelSource::kManifest
                 : row.source == "api"    ? LabelSource::kApi
                                          : LabelSource::kInternal;
  label.created = At(row.created_at);
  return label;
}

}  // namespace

Result<std::shared_ptr<const TagListPage>> RegistryImpl::SharedTagRows(std::string_view repository,
                                                                       const TagListQuery& query) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  const size_t limit = std::clamp<size_t>(query.limit, 1, kMaxTagPageRows);
  const size_t page = std::max<size_t>(query.page, 1);

  db::TagPageQuery q;
  q.only_active = query.only_active;
  q.limit = limit;
  if (query.specific_tag) q.name = *query.specific_tag;
  if (query.name_filter) {
    const TagNameFilter& f = *query.name_filter;
    if (f.kind == TagNameFilter::Kind::kEq) {
      // Both an exact tag and an eq filter: a different name matches
      // nothing, and no tag is named "".
      q.name = (q.name && *q.name != f.text) ? std::string() : f.text;
    } else {
      q.like = f.text;
    }
  }

  // Quay pages by number. Page N continues from the last row of page N-1
  // when this process served that page under the current cache generation
  // (no write since): the same rows OFFSET would give, found by keyset.
  // Otherwise it skips (N-1) * limit rows.
  const uint64_t generation = ctx_->db->connections().CacheGeneration();
  const std::string key = TagPageKey(repository, query, limit, page);
  if (auto hit = ctx_->tag_row_pages.Get(key, generation)) return std::move(*hit);
  if (page > 1) {
    const std::string previous = TagPageKey(repository, query, limit, page - 1);
    if (auto cursor = ctx_->tag_row_cursors.Get(previous, generation)) {
      q.before = *cursor;
    } else {
      const size_t max_pages = SIZE_MAX / limit;
      q.offset = (page - 1 > max_pages ? max_pages : page - 1) * limit;
    }
  }

  auto rows = ctx_->db->ListTagPage(repository, q);
  if (!rows.ok()) return rows.status();
  if (!*rows) return UnknownRepository(repository);
  if (!(*rows)->rows.empty()) {
    const db::TagPageRow& last = (*rows)->rows.back();
    ctx_->tag_row_cursors.Put(key, generation, {last.start_at, last.id}, 2 * sizeof(int64_t));
  }

  TagListPage out;
  out.has_additional = (*rows)->more;
  out.rows.reserve((*rows)->rows.size());
  for (db::TagPageRow& row : (*rows)->rows) {
    TagListRow r;
    r.name = std::move(row.name);
    r.manifest_digest = std::move(row.manifest);
    r.is_manifest_list = IsIndexMediaType(row.media_type);
    r.manifest_media_type = std::move(row.media_type);
    if (!r.is_manifest_list) r.size = row.layers_size;
    r.start = At(row.start_at);
    if (row.end_at) r.end = At(*row.end_at);
    if (row.expires_at && !row.end_at) r.expiration = At(*row.expires_at);
    r.immutable = row.immutable;
    r.last_modified = r.start;
    out.rows.push_back(std::move(r));
  }
  auto shared = std::make_shared<const TagListPage>(std::move(out));
  size_t cost = sizeof(TagListPage) + key.size();
  for (const TagListRow& r : shared->rows) {
    cost += sizeof(TagListRow) + r.name.size() + r.manifest_media_type.size() + 80;
  }
  ctx_->tag_row_pages.Put(key, generation, shared, cost);
  return shared;
}

Result<std::optional<Digest>> RegistryImpl::PutTag(std::string_view repository,
                                                   std::string_view tag, const Digest& manifest) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = ValidateTag(tag); !s.ok()) return s;
  if (manifest.empty()) return Status::InvalidArgument(Subject::kDigest, "digest missing");
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  return ctx_->db->PutTag(repository, tag, manifest, ctx_->NowMicros());
}

Result<std::optional<Digest>> RegistryImpl::PutTag(std::string_view repository,
                                                   std::string_view tag, const Digest& manifest,
                                                   const Actor& actor) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = ValidateTag(tag); !s.ok()) return s;
  if (manifest.empty()) return Status::InvalidArgument(Subject::kDigest, "digest missing");
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  const int64_t now = ctx_->NowMicros();
  // Quay's metadata keys (endpoints/api/tag.py): create_tag, or move_tag
  // with the digest the tag left.
  auto audit = [&](const std::optional<Digest>& previous) -> std::optional<db::AuditRow> {
    if (previous && *previous == manifest) return std::nullopt;
    const std::string_view ns = NamespaceOf(repository);
    const std::string_view repo = repository.substr(std::min(repository.size(), ns.size() + 1));
    const std::string digest = manifest.str();
    std::string metadata =
        previous
            ? AuditMetadata({{"tag", tag},
                             {"repo", repo},
                             {"namespace", ns},
                             {"manifest_digest", digest},
                             {"original_manifest_digest", previous->str()}})
            : AuditMetadata(
                  {{"tag", tag}, {"repo", repo}, {"namespace", ns}, {"manifest_digest", digest}});
    return api::ToAuditRow(AuditEvent::By(actor, previous ? "move_tag" : "create_tag",
                                          std::string(repository), std::move(metadata)),
                           now);
  };
  return ctx_->db->PutTag(repository, tag, manifest, now, audit);
}

Result<ManifestInfo> RegistryImpl::GetManifestInfo(std::string_view repository,
                                                   const Digest& digest) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "digest missing");
  auto row = ctx_->db->FindManifestDetail(repository, digest);
  if (!row.ok()) return row.status();
  if (!*row) {
    auto repo = ctx_->db->FindRepository(repository);
    if (!repo.ok()) return repo.status();
    if (!*repo) return UnknownRepository(repository);
    return Status::NotFound(Subject::kManifest, "manifest " + digest.str() + " is unknown");
  }
  db::ManifestDetailRow& m = **row;
  // The bytes were validated by this parser when they were pushed.
  auto parsed = Manifest::Parse(m.content, m.media_type);
  if (!parsed.ok()) {
    return Status::Internal("stored manifest " + m.digest.str() +
                            " no longer parses: " + parsed.status().ToString());
  }
  ManifestInfo info;
  info.digest = m.digest;
  info.media_type = std::move(m.media_type);
  info.size = m.content.size();
  info.is_manifest_list = parsed->kind == ManifestKind::kIndex;
  info.created = At(m.created_at);
  info.artifact_type = std::move(parsed->artifact_type);
  info.annotations = std::move(parsed->annotations);
  info.config = std::move(parsed->config);
  info.layers = std::move(parsed->layers);
  info.children = std::move(parsed->manifests);
  if (parsed->subject) info.subject = parsed->subject->digest;
  if (!info.is_manifest_list) {
    uint64_t total = 0;
    for (const Descriptor& layer : info.layers) total += layer.size;
    info.layers_size = total;
  }
  info.bytes = std::move(m.content);
  return info;
}

Result<RepositorySummary> RegistryImpl::RepositoryStats(std::string_view repository) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (auto s = EndExpiredTags(); !s.ok()) return s;
  const uint64_t generation = ctx_->db->connections().CacheGeneration();
  if (auto hit = ctx_->summaries.Get(repository, generation)) return *hit;
  auto row = ctx_->db->RepositoryStats(repository);
  if (!row.ok()) return row.status();
  if (!*row) return UnknownRepository(repository);
  RepositorySummary out;
  out.tag_count = (*row)->live_tags;
  if ((*row)->last_tag_change) out.last_modified = At(*(*row)->last_tag_change);
  ctx_->summaries.Put(repository, generation, out, sizeof(RepositorySummary) + repository.size());
  return out;
}

Result<uint64_t> RegistryImpl::TotalBlobBytes() { return ctx_->db->TotalBlobBytes(); }

Result<uint64_t> RegistryImpl::OpenUploadCount() { return ctx_->db->CountUploads(); }

Registry::DatabaseWait RegistryImpl::WriterWait() {
  db::ConnectionPool& pool = ctx_->db->connections();
  return DatabaseWait{pool.writer_waits(), std::chrono::nanoseconds(pool.writer_wait_nanos())};
}

Registry::HealthReport RegistryImpl::CheckHealth() {
  HealthReport report;
  report.database = ctx_->db->Ping();
  // A real write through the store: a full disk, a read-only mount or lost
  // permissions show here. The id is a fresh upload id, so a crash between
  // the two calls leaves an upload without a row, which the next start's
  // reconciliation removes.
  const std::string id = NewUploadId();
  Result<std::unique_ptr<UploadWriter>> writer = ctx_->store->CreateUpload(id);
  if (!writer.ok()) {
    report.storage = writer.status();
    return report;
  }
  report.storage = (*writer)->Append("q", 1);
  writer->reset();
  if (Status removed = ctx_->store->DeleteUpload(id); report.storage.ok()) report.storage = removed;
  return report;
}

// ---- manifest labels ----

std::vector<db::LabelRow> RegistryImpl::ConfigLabels(const Manifest& manifest, int64_t now) {
  std::vector<db::LabelRow> rows;
  if (manifest.kind != ManifestKind::kImage || !manifest.config) return rows;
  const Descriptor& config = *manifest.config;
  if (config.media_type != kDockerImageConfig && config.media_type != kOciImageConfig) {
    return rows;
  }
  if (config.size == 0 || config.size > kMaxLabelledConfigBytes) return rows;
  // The push itself fails later if the config is not in the repository; a
  // config the store cannot read just gives no labels.
  auto reader = ctx_->store->OpenBlob(config.digest);
  if (!reader.ok() || (*reader)->size() != config.size) return rows;
  std::string bytes(config.size, '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    auto n = (*reader)->ReadAt(got, bytes.data() + got, bytes.size() - got);
    if (!n.ok() || *n == 0) return rows;
    got += *n;
  }
  for (auto& [key, value] : core::ImageConfigLabels(bytes)) {
    // Quay records image labels as they are; keys its label rule refuses
    // (upper case, '_', '/') are left out here instead of failing the push.
    if (!IsValidLabelKey(key)) continue;
    db::LabelRow row;
    row.uuid = NewUploadId();
    // Quay: a value that looks like a JSON object or array and parses is
    // application/json, anything else text/plain.
    const bool json = ((value.starts_with('{') && value.ends_with('}')) ||
                       (value.starts_with('[') && value.ends_with(']'))) &&
                      core::IsJsonText(value);
    row.media_type = json ? "application/json" : "text/plain";
    row.key = std::move(key);
    row.value = std::move(value);
    row.source = "manifest";
    row.created_at = now;
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<Label>> RegistryImpl::ListLabels(std::string_view repository,
                                                    const Digest& manifest,
                                                    std::string_view key_prefix) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (manifest.empty()) return Status::InvalidArgument(Subject::kDigest, "digest missing");
  auto rows = ctx_->db->ListLabels(repository, manifest, key_prefix);
  if (!rows.ok()) return rows.status();
  std::vector<Label> out;
  out.reserve(rows->size());
  for (db::LabelRow& row : *rows) out.push_back(ToLabel(std::move(row)));
  return out;
}

Result<Label> RegistryImpl::GetLabel(std::string_view repository, const Digest& manifest,
                                     std::string_view label_id) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (manifest.empty()) return Status::InvalidArgument(Subject::kDigest, "digest missing");
  auto row = ctx_->db->FindLabel(repository, manifest, label_id);
  if (!row.ok()) return row.status();
  return ToLabel(std::move(*row));
}

Result<Label> RegistryImpl::AddLabel(std::string_view repository, const Digest& manifest,
                                     std::string_view key, std::string_view value,
                                     std::string_view media_type) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (manifest.empty()) return Status::InvalidArgument(Subject::kDigest, "digest missing");
  if (!IsValidLabelKey(key)) {
    return Status::InvalidArgument(Subject::kNone, "invalid label key");
  }
  if (HasReservedPrefix(key)) {
    return Status::InvalidArgument(Subject::kNone, "label has a reserved prefix");
  }
  if (media_type.empty()) media_type = "text/plain";
  if (!IsLabelMediaType(media_type)) {
    return Status::InvalidArgument(Subject::kNone,
                                   "label media type must be text/plain, application/json or "
                                   "text/markdown");
  }
  if (media_type == "application/json" && !core::IsJsonText(value)) {
    return Status::InvalidArgument(Subject::kNone, "label value is not valid JSON");
  }
  db::LabelRow row;
  row.uuid = NewUploadId();  // a random UUID v4
  row.key = std::string(key);
  row.value = std::string(value);
  row.media_type = std::string(media_type);
  row.source = "api";
  row.created_at = ctx_->NowMicros();
  if (auto s = ctx_->db->InsertLabel(repository, manifest, row); !s.ok()) return s;
  return ToLabel(std::move(row));
}

Result<Label> RegistryImpl::DeleteLabel(std::string_view repository, const Digest& manifest,
                                        std::string_view label_id) {
  if (auto s = ValidateRepositoryName(repository); !s.ok()) return s;
  if (manifest.empty()) return Status::InvalidArgument(Subject::kDigest, "digest missing");
  auto row = ctx_->db->DeleteApiLabel(repository, manifest, label_id);
  if (!row.ok()) return row.status();
  return ToLabel(std::move(*row));
}

}  // namespace quay::registry
