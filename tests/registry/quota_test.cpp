// Namespace quotas (quay/quotas.h): usage counted once per blob per
// namespace and kept incrementally, the Reject threshold refusing a blob
// commit or mount, thresholds in the report, and the CRUD rules.
#include <doctest/doctest.h>

#include "registry_test_support.h"

using namespace quay;
using quay::testing::OpenRegistry;

namespace {

const Actor kAdmin{};

struct World {
  std::unique_ptr<Registry> registry = OpenRegistry();
  std::unique_ptr<IdentityService> identity;
  std::unique_ptr<Quotas> quotas;

  World() {
    Options o;
    o.identity.password_hash_cost = PasswordHashCost::kMinimum;
    auto id = IdentityService::Open(o, *registry);
    REQUIRE_MESSAGE(id.ok(), id.status().ToString());
    identity = std::move(*id);
    REQUIRE(identity->CreateUser(kAdmin, "acme", "acme@example.com", "pw-pw-pw-pw").ok());
    REQUIRE(identity->CreateUser(kAdmin, "other", "other@example.com", "pw-pw-pw-pw").ok());
    auto q = Quotas::Open(*registry);
    REQUIRE(q.ok());
    quotas = std::move(*q);
  }

  uint64_t Used(std::string_view ns) {
    auto r = quotas->Report(ns);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    return r->used_bytes;
  }

  // Commits `bytes` to `repo`; the status of the upload's start or commit.
  Status Push(std::string_view repo, const std::string& bytes) {
    auto upload = registry->StartUpload(repo);
    if (!upload.ok()) return upload.status();
    REQUIRE((*upload)->Write(bytes.data(), bytes.size()).ok());
    return (*upload)->Commit(Digest::Of(bytes)).status();
  }
};

}  // namespace

TEST_CASE("usage counts each blob once per namespace and follows links incrementally") {
  World w;
  const std::string a(100, 'a');
  const std::string b(250, 'b');
  CHECK(w.Used("acme") == 0);
  REQUIRE(w.Push("acme/one", a).ok());
  CHECK(w.Used("acme") == 100);
  REQUIRE(w.Push("acme/two", a).ok());  // the same digest in another repository
  CHECK(w.Used("acme") == 100);
  REQUIRE(w.Push("acme/one", a).ok());  // pushed again
  CHECK(w.Used("acme") == 100);
  REQUIRE(w.Push("acme/two", b).ok());
  CHECK(w.Used("acme") == 350);
  REQUIRE(w.registry->MountBlob("acme/three", Digest::Of(b), "acme/two").ok());
  CHECK(w.Used("acme") == 350);
  // Another namespace counts its own copy.
  REQUIRE(w.Push("other/app", a).ok());
  CHECK(w.Used("other") == 100);
  CHECK(w.Used("acme") == 350);

  REQUIRE(w.registry->DeleteBlob("acme/one", Digest::Of(a)).ok());
  CHECK(w.Used("acme") == 350);  // acme/two still holds it
  REQUIRE(w.registry->DeleteBlob("acme/two", Digest::Of(a)).ok());
  CHECK(w.Used("acme") == 250);
  REQUIRE(w.registry->DeleteRepository("acme/two").ok());
  CHECK(w.Used("acme") == 250);  // acme/three still holds b
  REQUIRE(w.registry->DeleteRepository("acme/three").ok());
  CHECK(w.Used("acme") == 0);
  CHECK(w.quotas->Report("nobody").status().IsNotFound());
}

TEST_CASE("a blob past the Reject threshold is refused; a Warning threshold only reports") {
  World w;
  auto quota = w.quotas->Create("acme", 1000, kAdmin);
  REQUIRE_MESSAGE(quota.ok(), quota.status().ToString());
  CHECK(w.quotas->Create("acme", 5000, kAdmin).status().code() == Code::kInvalidArgument);
  REQUIRE(w.quotas->AddLimit("acme", quota->id, QuotaLimit::Kind::kWarning, 50, kAdmin).ok());
  // No Reject limit yet: nothing is refused.
  REQUIRE(w.Push("acme/app", std::string(600, 'x')).ok());
  auto report = w.quotas->Report("acme");
  REQUIRE(report.ok());
  CHECK(report->over_warning);
  CHECK(!report->over_reject);

  auto reject = w.quotas->AddLimit("acme", quota->id, QuotaLimit::Kind::kReject, 100, kAdmin);
  REQUIRE(reject.ok());
  CHECK(w.quotas->AddLimit("acme", quota->id, QuotaLimit::Kind::kReject, 90, kAdmin)
            .status()
            .code() == Code::kInvalidArgument);
  CHECK(w.quotas->AddLimit("acme", quota->id, QuotaLimit::Kind::kWarning, 50, kAdmin)
            .status()
            .code() == Code::kInvalidArgument);
  CHECK(w.quotas->AddLimit("acme", quota->id, QuotaLimit::Kind::kWarning, 0, kAdmin)
            .status()
            .code() == Code::kInvalidArgument);

  const std::string big(600, 'y');
  Status refused = w.Push("acme/app", big);
  CHECK(refused.code() == Code::kDenied);
  CHECK(refused.message() == "Quota has been exceeded on namespace");
  CHECK(w.Used("acme") == 600);
  CHECK(w.registry->StatBlob("acme/app", Digest::Of(big)).status().IsNotFound());
  // A blob the namespace already holds costs nothing, and another
  // namespace is not limited.
  REQUIRE(w.Push("acme/other", std::string(600, 'x')).ok());
  REQUIRE(w.Push("other/app", big).ok());
  // Mounting into the namespace is refused the same way.
  CHECK(w.registry->MountBlob("acme/app", Digest::Of(big), "other/app").status().code() ==
        Code::kDenied);
  // Raising the limit lets it in.
  REQUIRE(w.quotas->Change("acme", quota->id, 2000, kAdmin).ok());
  REQUIRE(w.Push("acme/app", big).ok());
  CHECK(w.Used("acme") == 1200);
  // Lowering the threshold refuses the next new blob; deleting the quota
  // lifts every limit.
  REQUIRE(
      w.quotas->ChangeLimit("acme", quota->id, reject->id, QuotaLimit::Kind::kReject, 10, kAdmin)
          .ok());
  CHECK(w.Push("acme/app", "tiny").code() == Code::kDenied);
  CHECK(w.quotas->Report("acme")->over_reject);
  // Already over it: even starting an upload is refused (Quay's POST), in
  // this namespace only.
  CHECK(w.registry->StartUpload("acme/app").status().code() == Code::kDenied);
  CHECK(w.registry->StartUpload("other/app").ok());
  REQUIRE(w.quotas->DeleteLimit("acme", quota->id, reject->id, kAdmin).ok());
  REQUIRE(w.Push("acme/app", "tiny").ok());
  REQUIRE(w.quotas->Delete("acme", quota->id, kAdmin).ok());
  CHECK(!*w.quotas->Find("acme"));
  CHECK(w.quotas->Delete("acme", quota->id, kAdmin).IsNotFound());
}

TEST_CASE("quota sizes render and parse as Quay's bitmath strings") {
  CHECK(HumanBytes(0) == "0.0 Byte");
  CHECK(HumanBytes(1536) == "1.5 KiB");
  CHECK(HumanBytes(10ull << 30) == "10.0 GiB");
  CHECK(ParseHumanBytes("10 GiB") == (10ull << 30));
  CHECK(ParseHumanBytes("1.5MiB") == 1572864);
  CHECK(ParseHumanBytes("500 MB") == 500000000);
  CHECK(ParseHumanBytes("42") == 42);
  CHECK(!ParseHumanBytes("lots"));
  CHECK(!ParseHumanBytes("10 parsecs"));
}
