#include "quay/manifest.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/manifest.h"

namespace quay {
namespace {

using rapidjson::Value;

constexpr std::string_view kDockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

// Untrusted strings end up in error messages; keep them short.
constexpr size_t kMaxQuoted = 128;

std::string Quote(std::string_view s) {
  std::string out = "\"";
  out.append(s.substr(0, kMaxQuoted));
  if (s.size() > kMaxQuoted) out += "...";
  out += '"';
  return out;
}

Status Invalid(std::string msg) {
  return Status::InvalidArgument(Subject::kManifest, std::move(msg));
}

// Media types compare case-insensitively and may carry parameters
// ("...+json; charset=utf-8"), so only the bare lower-cased type is compared.
std::string NormalizeContentType(std::string_view ct) {
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && (ct.front() == ' ' || ct.front() == '\t')) ct.remove_prefix(1);
  while (!ct.empty() && (ct.back() == ' ' || ct.back() == '\t')) ct.remove_suffix(1);
  std::string out(ct);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Clients that do not know the manifest type send these; the body decides then.
bool IsGenericContentType(std::string_view ct) { return ct.empty() || ct == "application/json"; }

bool IsSchema1(std::string_view mt) { return mt == kDockerSchema1 || mt == kDockerSchema1Signed; }

bool IsIndexType(std::string_view mt) {
  return mt == media_type::kOciIndex || mt == media_type::kDockerManifestList;
}

bool IsImageType(std::string_view mt) {
  return mt == media_type::kOciManifest || mt == media_type::kDockerManifest;
}

bool IsDockerType(std::string_view mt) {
  return mt == media_type::kDockerManifest || mt == media_type::kDockerManifestList;
}

// JSON null counts as absent: some encoders write null for unset optional fields.
const Value* Find(const Value& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

std::string AsString(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

Status GetString(const Value& object, const char* key, const std::string& path, bool required,
                 std::string* out) {
  const Value* v = Find(object, key);
  if (v == nullptr) return required ? Invalid(path + key + " is required") : Status::Ok();
  if (!v->IsString()) return Invalid(path + key + " must be a string");
  *out = AsString(*v);
  return Status::Ok();
}

Status ParseAnnotations(const Value& object, const std::string& path,
                        std::map<std::string, std::string>* out) {
  const Value* v = Find(object, "annotations");
  if (v == nullptr) return Status::Ok();
  if (!v->IsObject()) return Invalid(path + "annotations must be an object");
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    if (!it->value.IsString()) {
      return Invalid(path + "annotations[" + Quote(AsString(it->name)) + "] must be a string");
    }
    (*out)[AsString(it->name)] = AsString(it->value);
  }
  return Status::Ok();
}

Status ParsePlatform(const Value& v, const std::string& path, Platform* out) {
  if (!v.IsObject()) return Invalid(path + " must be an object");
  std::string prefix = path + ".";
  if (Status s = GetString(v, "architecture", prefix, true, &out->architecture); !s.ok()) return s;
  if (Status s = GetString(v, "os", prefix, true, &out->os); !s.ok()) return s;
  return GetString(v, "variant", prefix, false, &out->variant);
}

Status ParseSize(const Value& object, const std::string& prefix, uint64_t* out) {
  const Value* v = Find(object, "size");
  if (v == nullptr) return Invalid(prefix + "size is required");
  if (!v->IsNumber()) return Invalid(prefix + "size must be a non-negative integer");
  if (v->IsUint64()) {
    // Sizes are stored as signed 64-bit integers further down.
    if (v->GetUint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Invalid(prefix + "size is too large");
    }
    *out = v->GetUint64();
    return Status::Ok();
  }
  if (v->IsInt64() || v->GetDouble() < 0) return Invalid(prefix + "size must not be negative");
  return Invalid(prefix + "size must be an integer");
}

// `path` names the descriptor in errors ("config", "layers[2]").
Status ParseDescriptor(const Value& v, const std::string& path, bool index_entry, Descriptor* out) {
  if (!v.IsObject()) return Invalid(path + " must be an object");
  std::string prefix = path + ".";

  if (Status s = GetString(v, "mediaType", prefix, true, &out->media_type); !s.ok()) return s;
  if (out->media_type.empty()) return Invalid(prefix + "mediaType must not be empty");

  std::string digest_text;
  if (Status s = GetString(v, "digest", prefix, true, &digest_text); !s.ok()) return s;
  Result<Digest> digest = Digest::Parse(digest_text);
  if (!digest.ok()) return Invalid(prefix + "digest: " + digest.status().message());
  out->digest = std::move(digest).value();

  if (Status s = ParseSize(v, prefix, &out->size); !s.ok()) return s;
  if (Status s = GetString(v, "artifactType", prefix, false, &out->artifact_type); !s.ok()) {
    return s;
  }
  if (Status s = ParseAnnotations(v, prefix, &out->annotations); !s.ok()) return s;

  // urls are validated for shape only: this registry never fetches foreign layers.
  if (const Value* urls = Find(v, "urls")) {
    if (!urls->IsArray()) return Invalid(prefix + "urls must be an array");
    for (const Value& url : urls->GetArray()) {
      if (!url.IsString()) return Invalid(prefix + "urls entries must be strings");
      out->urls.push_back(AsString(url));
    }
  }

  if (index_entry) {
    if (const Value* platform = Find(v, "platform")) {
      Platform p;
      if (Status s = ParsePlatform(*platform, prefix + "platform", &p); !s.ok()) return s;
      out->platform = std::move(p);
    }
  }
  return Status::Ok();
}

Status ParseDescriptorArray(const Value& object, const char* key, bool index_entries,
                            std::vector<Descriptor>* out) {
  const Value* v = Find(object, key);
  if (v == nullptr) return Invalid(std::string(key) + " is required");
  if (!v->IsArray()) return Invalid(std::string(key) + " must be an array");
  out->reserve(v->Size());
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    Descriptor d;
    std::string path = std::string(key) + "[" + std::to_string(i) + "]";
    if (Status s = ParseDescriptor((*v)[i], path, index_entries, &d); !s.ok()) return s;
    out->push_back(std::move(d));
  }
  return Status::Ok();
}

// Schema 1 bodies never carry mediaType, so "schemaVersion": 1 without one is
// a schema 1 manifest (Unsupported); with one it is a malformed manifest.
Status CheckSchemaVersion(const Value& root, bool body_has_type) {
  const Value* v = Find(root, "schemaVersion");
  if (v == nullptr) return Invalid("schemaVersion is required");
  if (v->IsInt64() && v->GetInt64() == 1 && !body_has_type) {
    return Status::Unsupported(Subject::kMediaType,
                               "Docker schema 1 manifests are not supported; push schema 2 or OCI");
  }
  if (!v->IsInt64() || v->GetInt64() != 2) return Invalid("schemaVersion must be 2");
  return Status::Ok();
}

// Picks the media type the manifest is stored under. The body's mediaType wins;
// a specific Content-Type must agree with it; with neither, the shape decides.
Result<std::string> EffectiveMediaType(const Value& root, const std::string& body_type,
                                       bool body_has_type, const std::string& content_type) {
  bool generic = IsGenericContentType(content_type);
  if (body_has_type) {
    if (!IsImageType(body_type) && !IsIndexType(body_type)) {
      return Invalid("mediaType " + Quote(body_type) + " is not a manifest or index media type");
    }
    if (!generic && content_type != body_type) {
      return Invalid("mediaType " + Quote(body_type) + " does not match Content-Type " +
                     Quote(content_type));
    }
    return body_type;
  }
  if (!generic) {
    if (!IsImageType(content_type) && !IsIndexType(content_type)) {
      return Invalid("Content-Type " + Quote(content_type) +
                     " is not a manifest or index media type");
    }
    // Docker's formats always carry mediaType; one without it is not Docker's.
    if (IsDockerType(content_type)) {
      return Invalid("mediaType is required for " + Quote(content_type));
    }
    return content_type;
  }
  bool has_manifests = Find(root, "manifests") != nullptr;
  bool has_config = Find(root, "config") != nullptr;
  if (has_manifests && !has_config) return std::string(media_type::kOciIndex);
  if (has_config && !has_manifests) return std::string(media_type::kOciManifest);
  if (has_config) return Invalid("manifest has both config and manifests; set mediaType");
  return Invalid("cannot tell the manifest type: no mediaType, config or manifests");
}

// Readers disagree on what a duplicate key means (RapidJSON's FindMember
// takes the first, Go's encoding/json the last), so a document with one could
// be validated here as one manifest and pulled by a Go client as another.
// Walks the whole document without recursion (the parse is iterative too, so
// nesting depth is unbounded); objects with many members are checked through
// a sorted copy of their keys so that a hostile body costs O(n log n).
Status CheckNoDuplicateKeys(const Value& root) {
  std::vector<const Value*> pending{&root};
  std::vector<std::string_view> keys;
  while (!pending.empty()) {
    const Value* v = pending.back();
    pending.pop_back();
    if (v->IsArray()) {
      for (const Value& item : v->GetArray()) {
        if (item.IsObject() || item.IsArray()) pending.push_back(&item);
      }
      continue;
    }
    if (!v->IsObject()) continue;
    keys.clear();
    for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
      keys.emplace_back(it->name.GetString(), it->name.GetStringLength());
      if (it->value.IsObject() || it->value.IsArray()) pending.push_back(&it->value);
    }
    std::sort(keys.begin(), keys.end());
    auto dup = std::adjacent_find(keys.begin(), keys.end());
    if (dup != keys.end()) return Invalid("duplicate object key " + Quote(*dup));
  }
  return Status::Ok();
}

}  // namespace

Result<Manifest> Manifest::Parse(std::string_view bytes, std::string_view content_type) {
  // RapidJSON skips a UTF-8 byte-order mark silently; Go's encoding/json (and
  // RFC 8259 for networked JSON) does not accept one.
  if (bytes.starts_with("\xEF\xBB\xBF")) {
    return Invalid("manifest must not start with a byte-order mark");
  }
  rapidjson::Document doc;
  // Iterative parsing: a hostile body of nested brackets must not exhaust the stack.
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(bytes.data(),
                                                                                    bytes.size());
  if (doc.HasParseError()) {
    return Invalid(std::string("manifest is not valid JSON: ") +
                   rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                   std::to_string(doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return Invalid("manifest must be a JSON object");
  if (Status s = CheckNoDuplicateKeys(doc); !s.ok()) return s;

  std::string ct = NormalizeContentType(content_type);
  if (IsSchema1(ct)) {
    return Status::Unsupported(Subject::kMediaType,
                               "Docker schema 1 manifests are not supported; push schema 2 or OCI");
  }

  std::string body_type;
  const Value* body_type_value = Find(doc, "mediaType");
  if (body_type_value != nullptr) {
    if (!body_type_value->IsString()) return Invalid("mediaType must be a string");
    body_type = AsString(*body_type_value);
    if (IsSchema1(body_type)) {
      return Status::Unsupported(
          Subject::kMediaType, "Docker schema 1 manifests are not supported; push schema 2 or OCI");
    }
  }
  if (Status s = CheckSchemaVersion(doc, body_type_value != nullptr); !s.ok()) return s;

  Result<std::string> effective =
      EffectiveMediaType(doc, body_type, body_type_value != nullptr, ct);
  if (!effective.ok()) return effective.status();

  Manifest m;
  m.media_type = std::move(effective).value();
  m.kind = IsIndexType(m.media_type) ? ManifestKind::kIndex : ManifestKind::kImage;

  if (m.kind == ManifestKind::kIndex) {
    // A body shaped like the other kind is a client bug that would otherwise be
    // stored under the wrong type and break pulls later.
    if (Find(doc, "config") != nullptr || Find(doc, "layers") != nullptr) {
      return Invalid("an index (" + m.media_type + ") must not have config or layers");
    }
    if (Status s = ParseDescriptorArray(doc, "manifests", true, &m.manifests); !s.ok()) return s;
  } else {
    if (Find(doc, "manifests") != nullptr) {
      return Invalid("an image manifest (" + m.media_type + ") must not have manifests");
    }
    const Value* config = Find(doc, "config");
    if (config == nullptr) return Invalid("config is required");
    Descriptor c;
    if (Status s = ParseDescriptor(*config, "config", false, &c); !s.ok()) return s;
    m.config = std::move(c);
    if (Status s = ParseDescriptorArray(doc, "layers", false, &m.layers); !s.ok()) return s;
  }

  if (Status s = GetString(doc, "artifactType", "", false, &m.artifact_type); !s.ok()) return s;
  if (const Value* subject = Find(doc, "subject")) {
    Descriptor d;
    if (Status s = ParseDescriptor(*subject, "subject", false, &d); !s.ok()) return s;
    m.subject = std::move(d);
  }
  if (Status s = ParseAnnotations(doc, "", &m.annotations); !s.ok()) return s;
  return m;
}

bool Descriptor::non_distributable() const {
  constexpr std::string_view kOciNonDistributable =
      "application/vnd.oci.image.layer.nondistributable.v1.tar";
  constexpr std::string_view kDockerForeign =
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
  // The OCI type has +gzip and +zstd variants.
  return !urls.empty() || media_type == kDockerForeign ||
         (media_type.starts_with(kOciNonDistributable) &&
          (media_type.size() == kOciNonDistributable.size() ||
           media_type[kOciNonDistributable.size()] == '+'));
}

std::vector<Descriptor> Manifest::BlobReferences() const {
  std::vector<Descriptor> refs;
  if (kind != ManifestKind::kImage) return refs;
  refs.reserve(layers.size() + (config ? 1 : 0));
  if (config) refs.push_back(*config);
  refs.insert(refs.end(), layers.begin(), layers.end());
  return refs;
}

}  // namespace quay

namespace quay::core {

bool IsJsonText(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(),
                                                                                    text.size());
  return !doc.HasParseError();
}

std::vector<std::pair<std::string, std::string>> ImageConfigLabels(std::string_view config) {
  std::vector<std::pair<std::string, std::string>> out;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(config.data(),
                                                                                    config.size());
  if (doc.HasParseError() || !doc.IsObject()) return out;
  auto inner = doc.FindMember("config");
  if (inner == doc.MemberEnd() || !inner->value.IsObject()) return out;
  auto labels = inner->value.FindMember("Labels");
  if (labels == inner->value.MemberEnd() || !labels->value.IsObject()) return out;
  for (const auto& entry : labels->value.GetObject()) {
    if (!entry.value.IsString()) continue;
    out.emplace_back(AsString(entry.name), AsString(entry.value));
  }
  return out;
}

}  // namespace quay::core
