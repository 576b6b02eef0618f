#include "api/database_authorizer.h"

#include "api/access_facts.h"
#include "auth/access_rules.h"

namespace quay::api {

Status DatabaseAuthorizer::Check(const Principal& who, std::string_view repository,
                                 Action action) const {
  auto facts = GatherFacts(*state_, who, repository, NamespaceOf(repository));
  if (!facts.ok()) return facts.status();
  return auth::Decide(*facts, PolicyOf(state_->options.identity), action);
}

Status DatabaseAuthorizer::CheckNamespace(const Principal& who, std::string_view namespace_name,
                                          NamespaceAction action) const {
  auto facts = GatherFacts(*state_, who, {}, namespace_name);
  if (!facts.ok()) return facts.status();
  return auth::DecideNamespace(*facts, action);
}

}  // namespace quay::api
