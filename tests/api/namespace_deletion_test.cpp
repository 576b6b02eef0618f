// DeleteNamespace (quay/identity.h): a namespace's repositories and its
// account go in one transaction - everything or nothing - and only that
// namespace's (not a namesake prefix's).
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "identity_test_support.h"

using namespace quay;
using quay::testing::AdminActor;
using quay::testing::FastIdentityOptions;
using quay::testing::TempDir;

namespace {

struct Fixture {
  TempDir dir;
  std::unique_ptr<Registry> registry;
  std::unique_ptr<IdentityService> identity;
  Fixture() {
    const Options o = FastIdentityOptions(dir.path());
    registry = quay::testing::OpenRegistry(o);
    auto id = IdentityService::Open(o, *registry);
    REQUIRE_MESSAGE(id.ok(), id.status().ToString());
    identity = std::move(*id);
    const Actor a = AdminActor();
    QUAY_REQUIRE_OK(identity->CreateUser(a, "alice", "a@example.com", "pw"));
    QUAY_REQUIRE_OK(identity->CreateUser(a, "alicex", "x@example.com", "pw"));
    QUAY_REQUIRE_OK(identity->CreateOrganization(a, "acme", "acme@example.com", "alice"));
    // alice's repositories (one with a nested name), and namesakes that
    // share her name as a prefix and must survive.
    for (const char* repo :
         {"alice/app", "alice/team/tool", "alicex/app", "alice-b/app", "acme/app"}) {
      quay::testing::PushImage(*registry, repo, repo, "latest");
    }
    QUAY_REQUIRE_OK(identity->SetVisibility(a, "alice/app", Visibility::kPublic));
    QUAY_REQUIRE_OK(identity->stars().Star("alicex", "alice/app"));
  }
  bool Exists(std::string_view repo) { return registry->GetManifest(repo, "latest").ok(); }
};

void BreakAuditLog(const std::string& data_dir) {
  quay::testing::BreakTable((std::filesystem::path(data_dir) / "quay.db").string(), "audit_log");
}

}  // namespace

TEST_CASE("DeleteNamespace: a user's repositories, uploads and account go together") {
  Fixture f;
  auto upload = f.registry->StartUpload("alice/team/tool");
  REQUIRE(upload.ok());
  const std::string upload_id = (*upload)->id();
  upload->reset();

  QUAY_REQUIRE_OK(
      DeleteNamespace(*f.registry, *f.identity, AdminActor(), "alice", NamespaceDeletion::kUser));
  CHECK_FALSE(f.Exists("alice/app"));
  CHECK_FALSE(f.Exists("alice/team/tool"));
  CHECK(f.identity->GetRepository("alice/app").status().IsNotFound());
  CHECK(f.registry->ResumeUpload("alice/team/tool", upload_id).status().IsNotFound());
  CHECK(f.identity->GetUser("alice").status().IsNotFound());
  CHECK(f.identity->stars().ListStarred("alicex", 10, "")->names.empty());
  // Namesakes and other namespaces stay.
  CHECK(f.Exists("alicex/app"));
  CHECK(f.Exists("alice-b/app"));
  CHECK(f.Exists("acme/app"));
  auto page = f.registry->ListRepositories(100, "");
  REQUIRE(page.ok());
  CHECK(page->names == std::vector<std::string>{"acme/app", "alice-b/app", "alicex/app"});
  // One audit row, the account's, as DeleteUser writes it.
  AuditQuery q;
  q.kinds = {"user_delete"};
  auto rows = f.identity->audit().Query(q);
  REQUIRE(rows.ok());
  REQUIRE(rows->events.size() == 1);
  CHECK(rows->events[0].namespace_name == "alice");

  // A namesake created later inherits nothing.
  QUAY_REQUIRE_OK(f.identity->CreateUser(AdminActor(), "alice", "new@example.com", "pw"));
  CHECK_FALSE(f.Exists("alice/app"));
}

TEST_CASE("DeleteNamespace: organizations, repositories only, and unknown accounts") {
  Fixture f;
  QUAY_REQUIRE_OK(DeleteNamespace(*f.registry, *f.identity, AdminActor(), "acme",
                                  NamespaceDeletion::kOrganization));
  CHECK_FALSE(f.Exists("acme/app"));
  CHECK(f.identity->GetOrganization("acme").status().IsNotFound());

  QUAY_REQUIRE_OK(DeleteNamespace(*f.registry, *f.identity, AdminActor(), "alicex",
                                  NamespaceDeletion::kRepositoriesOnly));
  CHECK_FALSE(f.Exists("alicex/app"));
  CHECK(f.identity->GetUser("alicex").ok());

  // The wrong kind, or no such account: NotFound, and nothing is deleted.
  CHECK(DeleteNamespace(*f.registry, *f.identity, AdminActor(), "alice",
                        NamespaceDeletion::kOrganization)
            .IsNotFound());
  CHECK(f.Exists("alice/app"));
  CHECK(DeleteNamespace(*f.registry, *f.identity, AdminActor(), "nobody", NamespaceDeletion::kUser)
            .IsNotFound());
  CHECK(DeleteNamespace(*f.registry, *f.identity, AdminActor(), "Bad Name",
                        NamespaceDeletion::kRepositoriesOnly)
            .code() == Code::kInvalidArgument);
}

// The last write of the transaction (the audit row) fails: the repository
// deletes before it are rolled back with it, so a failure - or a crash - at
// any point leaves the namespace as it was.
TEST_CASE("DeleteNamespace: all or nothing when the transaction fails at its last write") {
  Fixture f;
  BreakAuditLog(f.dir.path());
  const Status s =
      DeleteNamespace(*f.registry, *f.identity, AdminActor(), "alice", NamespaceDeletion::kUser);
  CHECK_FALSE(s.ok());
  CHECK(f.Exists("alice/app"));
  CHECK(f.Exists("alice/team/tool"));
  CHECK(f.identity->GetUser("alice").ok());
  CHECK(f.identity->GetRepository("alice/app")->visibility == Visibility::kPublic);
  CHECK(f.identity->stars().ListStarred("alicex", 10, "")->names.size() == 1);
}
