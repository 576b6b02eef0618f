#include <array>
#include <utility>

#include "core/str_cat.h"
#include "quay/access.h"

namespace quay {
namespace {

// Quay's scope names (auth/scopes.py), in Scope enum order.
constexpr std::array<std::pair<Scope, std::string_view>, 8> kScopeNames = {{
    {Scope::kRepoRead, "repo:read"},
    {Scope::kRepoWrite, "repo:write"},
    {Scope::kRepoAdmin, "repo:admin"},
    {Scope::kRepoCreate, "repo:create"},
    {Scope::kUserRead, "user:read"},
    {Scope::kUserAdmin, "user:admin"},
    {Scope::kOrgAdmin, "org:admin"},
    {Scope::kSuperUser, "super:user"},
}};

}  // namespace

Result<ScopeSet> ScopeSet::Parse(std::string_view text) {
  ScopeSet out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == ',') {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && text[end] != ' ' && text[end] != ',') ++end;
    const std::string_view word = text.substr(i, end - i);
    bool known = false;
    for (const auto& [scope, name] : kScopeNames) {
      if (name == word) {
        out.Add(scope);
        known = true;
        break;
      }
    }
    if (!known)
      return Status::InvalidArgument(Subject::kNone, core::StrCat({"unknown scope '", word, "'"}));
    i = end;
  }
  return out;
}

std::string ScopeSet::ToString() const {
  std::string out;
  for (const auto& [scope, name] : kScopeNames) {
    if (!Has(scope)) continue;
    if (!out.empty()) out += ' ';
    out += name;
  }
  return out;
}

}  // namespace quay
