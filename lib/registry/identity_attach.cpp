// IdentityService::Open(options, registry): the identity layer on the
// registry's own database, and DeleteNamespace (rows by the identity side,
// upload areas by the registry). They live here, in the layer above lib/api,
// because only the registry can hand out its database and its uploads.
#include "api/new_identity_service.h"
#include "quay/identity.h"
#include "registry/registry_impl.h"

namespace quay {

Result<std::unique_ptr<IdentityService>> IdentityService::Open(const Options& options,
                                                               Registry& registry) {
  auto* impl = dynamic_cast<registry::RegistryImpl*>(&registry);
  if (impl == nullptr) {
    return Status::InvalidArgument(Subject::kNone, "the registry was not opened by Registry::Open");
  }
  return api::NewIdentityService(options, impl->database());
}

Status DeleteNamespace(Registry& registry, IdentityService& identity, const Actor& actor,
                       std::string_view name, NamespaceDeletion what) {
  auto* impl = dynamic_cast<registry::RegistryImpl*>(&registry);
  if (impl == nullptr) {
    return Status::InvalidArgument(Subject::kNone, "the registry was not opened by Registry::Open");
  }
  auto uploads = api::DeleteNamespaceRows(identity, actor, name, what);
  if (!uploads.ok()) return uploads.status();
  impl->ForgetUploads(*uploads);
  return Status::Ok();
}

}  // namespace quay
