#include "quay/access.h"

namespace quay {

// An Authorizer written before namespaces existed (or one that only knows
// repositories) must not grant namespace-wide powers by accident.
Status Authorizer::CheckNamespace(const Principal&, std::string_view, NamespaceAction) const {
  return Status::Denied("namespace permissions are not supported by this authorizer");
}

}  // namespace quay
