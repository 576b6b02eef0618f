#include "api/database_authorizer.h"

#include "api/access_facts.h"
#include "auth/access_rules.h"
#include "db/connection.h"

namespace quay::api {
namespace {

// Decisions are small; 2 MiB holds tens of thousands of them.
constexpr size_t kDecisionCacheBytes = 2u << 20;

// Everything a decision depends on besides the database: who (kind, name,
// scopes; token ids and titles do not change the facts), what and where.
// Fields are separated by a byte no name contains.
std::string DecisionKey(char what, const Principal& who, std::string_view target,
                        unsigned char action) {
  std::string key;
  key.reserve(8 + who.name.size() + target.size());
  key += what;
  key += static_cast<char>(who.kind);
  key += static_cast<char>(who.scopes.bits() & 0xff);
  key += static_cast<char>(action);
  key += who.name;
  key += '\0';
  key += target;
  return key;
}

// Decisions worth remembering: a grant or a refusal. Errors (the database
// was busy, broken) must be retried.
bool IsDecision(const Status& s) {
  return s.ok() || s.code() == Code::kDenied || s.code() == Code::kUnauthenticated ||
         s.code() == Code::kNotFound;
}

}  // namespace

DatabaseAuthorizer::DatabaseAuthorizer(std::shared_ptr<ServiceState> state)
    : state_(std::move(state)), decisions_(kDecisionCacheBytes) {}

template <typename F>
Status DatabaseAuthorizer::Cached(const std::string& key, F&& decide) const {
  const uint64_t generation = state_->db->connections().CacheGeneration();
  if (std::optional<Status> hit = decisions_.Get(key, generation)) return *hit;
  Status decided = decide();
  if (IsDecision(decided)) {
    const size_t cost = sizeof(Status) + decided.message().size();
    decisions_.Put(key, generation, decided, cost);
  }
  return decided;
}

Status DatabaseAuthorizer::Check(const Principal& who, std::string_view repository,
                                 Action action) const {
  return Cached(DecisionKey('R', who, repository, static_cast<unsigned char>(action)), [&] {
    auto facts = GatherFacts(*state_, who, repository, NamespaceOf(repository));
    if (!facts.ok()) return facts.status();
    return auth::Decide(*facts, PolicyOf(state_->options.identity), action);
  });
}

Status DatabaseAuthorizer::CheckNamespace(const Principal& who, std::string_view namespace_name,
                                          NamespaceAction action) const {
  return Cached(DecisionKey('N', who, namespace_name, static_cast<unsigned char>(action)), [&] {
    auto facts = GatherFacts(*state_, who, {}, namespace_name);
    if (!facts.ok()) return facts.status();
    return auth::DecideNamespace(*facts, action);
  });
}

}  // namespace quay::api
