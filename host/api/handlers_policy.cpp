// Tag immutability and auto-prune policies of an organization, the
// signed-in user or a repository (Quay's immutability_policy.py and
// policy.py). The scope comes from the path; the rules, their audit rows
// and the tags they touch are the Registry's.
#include <httplib.h>

#include <string>

#include "host/api/handlers.h"
#include "host/api/json.h"
#include "quay/reference.h"
#include "quay/tag_policy.h"

namespace quayd {
namespace {

using quay::Status;

quay::PolicyScope Scope(const ApiExchange& ex) {
  quay::PolicyScope scope;
  if (std::string_view repo = ex.Param("repository"); !repo.empty()) {
    scope.repository = std::string(repo);
    scope.namespace_name = std::string(quay::NamespaceOf(repo));
  } else if (std::string_view org = ex.Param("orgname"); !org.empty()) {
    scope.namespace_name = std::string(org);
  } else {
    scope.namespace_name = std::string(ex.UserName());
  }
  return scope;
}

// An unknown namespace or policy answers 404 as Quay's NotFound.
Status Mapped(const Status& s) {
  if (s.code() == quay::Code::kNotFound) return Status::NotFound(quay::Subject::kNone, "Not Found");
  return s;
}

void ReplyUuid(ApiExchange& ex, int status, std::string_view uuid) {
  if (status == 204) {
    ReplyEmpty(ex.res, 204);
    return;
  }
  Json j;
  j.Object().Field("uuid", uuid).End();
  Reply(ex.res, status, j);
}

// ---- immutability: {"tagPattern", "tagPatternMatches"} ----

void WriteImmutability(Json& j, const quay::ImmutabilityPolicy& p) {
  j.Object().Field("uuid", p.uuid).Field("tagPattern", p.tag_pattern);
  j.Field("tagPatternMatches", p.tag_pattern_matches).End();
}

quay::Result<quay::ImmutabilityPolicy> ReadImmutability(const ApiExchange& ex) {
  quay::ImmutabilityPolicy p;
  auto pattern = OptString(ex.body, "tagPattern");
  if (!pattern || pattern->empty()) {
    return Status::InvalidArgument(quay::Subject::kNone,
                                   "tag_pattern is required and must be a non-empty string");
  }
  // Quay strips the pattern.
  const size_t first = pattern->find_first_not_of(" \t\r\n");
  const size_t last = pattern->find_last_not_of(" \t\r\n");
  p.tag_pattern = first == std::string::npos ? "" : pattern->substr(first, last - first + 1);
  if (ex.body.IsObject() && ex.body.HasMember("tagPatternMatches")) {
    auto matches = OptBool(ex.body, "tagPatternMatches");
    if (!matches) {
      return Status::InvalidArgument(quay::Subject::kNone, "tag_pattern_matches must be a boolean");
    }
    p.tag_pattern_matches = *matches;
  }
  return p;
}

// ---- auto-prune: {"method", "value", "tagPattern", "tagPatternMatches"} ----

void WriteAutoPrune(Json& j, const quay::AutoPrunePolicy& p) {
  j.Object().Field("uuid", p.uuid).Field("method", quay::AutoPruneMethodName(p.method));
  if (p.method == quay::AutoPruneMethod::kNumberOfTags) {
    j.Field("value", static_cast<int64_t>(std::stoll(p.value)));
  } else {
    j.Field("value", p.value);
  }
  if (p.tag_pattern) {
    j.Field("tagPattern", *p.tag_pattern);
  } else {
    j.NullField("tagPattern");
  }
  j.Field("tagPatternMatches", p.tag_pattern_matches).End();
}

quay::Result<quay::AutoPrunePolicy> ReadAutoPrune(const ApiExchange& ex) {
  const rapidjson::Value& b = ex.body;
  if (!b.IsObject() || !b.HasMember("method") || !b.HasMember("value") || b["value"].IsNull()) {
    return Status::InvalidArgument(quay::Subject::kNone,
                                   "Missing the following parameters: method, value");
  }
  quay::AutoPrunePolicy p;
  const std::string method = OptString(b, "method").value_or("");
  if (method == "number_of_tags") {
    p.method = quay::AutoPruneMethod::kNumberOfTags;
    if (!b["value"].IsInt64()) {
      return Status::InvalidArgument(quay::Subject::kNone,
                                     "Invalid value given for method number_of_tags");
    }
    p.value = std::to_string(b["value"].GetInt64());
  } else if (method == "creation_date") {
    p.method = quay::AutoPruneMethod::kCreationDate;
    if (!b["value"].IsString()) {
      return Status::InvalidArgument(quay::Subject::kNone,
                                     "Invalid value given for method creation_date");
    }
    p.value = b["value"].GetString();
  } else {
    return Status::InvalidArgument(quay::Subject::kNone, "Invalid method provided: " + method);
  }
  if (b.HasMember("tagPattern") && !b["tagPattern"].IsNull()) {
    if (!b["tagPattern"].IsString()) {
      return Status::InvalidArgument(quay::Subject::kNone, "tag_pattern must be string");
    }
    p.tag_pattern = b["tagPattern"].GetString();
  }
  if (b.HasMember("tagPatternMatches") && !b["tagPatternMatches"].IsNull()) {
    if (!b["tagPatternMatches"].IsBool()) {
      return Status::InvalidArgument(quay::Subject::kNone, "tag_pattern_matches must be bool");
    }
    p.tag_pattern_matches = b["tagPatternMatches"].GetBool();
  }
  return p;
}

}  // namespace

Status HandleListImmutabilityPolicies(ApiExchange& ex) {
  auto policies = ex.svc.registry.ListImmutabilityPolicies(Scope(ex));
  if (!policies.ok()) return Mapped(policies.status());
  Json j;
  j.Object().Key("policies").Array();
  for (const quay::ImmutabilityPolicy& p : *policies) WriteImmutability(j, p);
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleCreateImmutabilityPolicy(ApiExchange& ex) {
  auto policy = ReadImmutability(ex);
  if (!policy.ok()) return policy.status();
  auto created = ex.svc.registry.CreateImmutabilityPolicy(Scope(ex), *policy, ex.actor());
  if (!created.ok()) return Mapped(created.status());
  ReplyUuid(ex, 201, created->uuid);
  return Status::Ok();
}

Status HandleGetImmutabilityPolicy(ApiExchange& ex) {
  auto policy = ex.svc.registry.GetImmutabilityPolicy(Scope(ex), ex.Param("policy_uuid"));
  if (!policy.ok()) return Mapped(policy.status());
  Json j;
  WriteImmutability(j, *policy);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleUpdateImmutabilityPolicy(ApiExchange& ex) {
  auto policy = ReadImmutability(ex);
  if (!policy.ok()) return policy.status();
  policy->uuid = std::string(ex.Param("policy_uuid"));
  if (Status s = ex.svc.registry.UpdateImmutabilityPolicy(Scope(ex), *policy, ex.actor()); !s.ok())
    return Mapped(s);
  ReplyUuid(ex, 204, policy->uuid);
  return Status::Ok();
}

Status HandleDeleteImmutabilityPolicy(ApiExchange& ex) {
  const std::string uuid(ex.Param("policy_uuid"));
  if (Status s = ex.svc.registry.DeleteImmutabilityPolicy(Scope(ex), uuid, ex.actor()); !s.ok())
    return Mapped(s);
  ReplyUuid(ex, 200, uuid);
  return Status::Ok();
}

Status HandleListAutoPrunePolicies(ApiExchange& ex) {
  auto policies = ex.svc.registry.ListAutoPrunePolicies(Scope(ex));
  if (!policies.ok()) return Mapped(policies.status());
  Json j;
  j.Object().Key("policies").Array();
  for (const quay::AutoPrunePolicy& p : *policies) WriteAutoPrune(j, p);
  j.EndArray().End();
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleCreateAutoPrunePolicy(ApiExchange& ex) {
  auto policy = ReadAutoPrune(ex);
  if (!policy.ok()) return policy.status();
  auto created = ex.svc.registry.CreateAutoPrunePolicy(Scope(ex), *policy, ex.actor());
  if (!created.ok()) return Mapped(created.status());
  ReplyUuid(ex, 201, created->uuid);
  return Status::Ok();
}

Status HandleGetAutoPrunePolicy(ApiExchange& ex) {
  auto policy = ex.svc.registry.GetAutoPrunePolicy(Scope(ex), ex.Param("policy_uuid"));
  if (!policy.ok()) return Mapped(policy.status());
  Json j;
  WriteAutoPrune(j, *policy);
  Reply(ex.res, 200, j);
  return Status::Ok();
}

Status HandleUpdateAutoPrunePolicy(ApiExchange& ex) {
  auto policy = ReadAutoPrune(ex);
  if (!policy.ok()) return policy.status();
  policy->uuid = std::string(ex.Param("policy_uuid"));
  if (Status s = ex.svc.registry.UpdateAutoPrunePolicy(Scope(ex), *policy, ex.actor()); !s.ok())
    return Mapped(s);
  ReplyUuid(ex, 204, policy->uuid);
  return Status::Ok();
}

Status HandleDeleteAutoPrunePolicy(ApiExchange& ex) {
  const std::string uuid(ex.Param("policy_uuid"));
  if (Status s = ex.svc.registry.DeleteAutoPrunePolicy(Scope(ex), uuid, ex.actor()); !s.ok())
    return Mapped(s);
  ReplyUuid(ex, 200, uuid);
  return Status::Ok();
}

}  // namespace quayd
