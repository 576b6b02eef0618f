// The signing-key store: what several quayd instances share to verify each
// other's registry tokens.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "api/database_secret.h"
#include "auth/field_cipher.h"
#include "identity_test_support.h"
#include "test_database.h"

using namespace quay;
using quay::testing::AdminActor;
using quay::testing::FastIdentityOptions;
using quay::testing::OpenIdentity;
using quay::testing::TempDir;

namespace {

SigningKey Key(std::string kid, std::optional<Clock::TimePoint> expires = std::nullopt) {
  SigningKey k;
  k.kid = std::move(kid);
  k.service = "quay";
  k.algorithm = "RS256";
  k.private_key_pem = "-----BEGIN PRIVATE KEY-----\n" + k.kid + "\n-----END PRIVATE KEY-----\n";
  k.public_key_pem = "-----BEGIN PUBLIC KEY-----\n" + k.kid + "\n-----END PUBLIC KEY-----\n";
  k.expires_at = expires;
  return k;
}

std::string DatabaseFile(const std::string& dir) {
  return (std::filesystem::path(dir) / "quay.db").string();
}

// The signing_key.private_key_pem column as stored, read past the library.
std::string StoredPrivateKey(const std::string& dir, const std::string& kid) {
  auto db = quay::testing::TestConnection(DatabaseFile(dir));
  auto q = db->Prepare("SELECT private_key_pem FROM signing_key WHERE kid = ?");
  q->bind(1, kid);
  REQUIRE(q->executeStep());
  return q->getColumn(0).getString();
}

void SetStoredPrivateKey(const std::string& dir, const std::string& kid, const std::string& value) {
  auto db = quay::testing::TestConnection(DatabaseFile(dir));
  auto q = db->Prepare("UPDATE signing_key SET private_key_pem = ? WHERE kid = ?");
  q->bind(1, value);
  q->bind(2, kid);
  REQUIRE(q->exec() == 1);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A signing-key call that failed for the reason `why`, naming the setting.
void CheckKeyError(const Status& s, std::string_view why) {
  CHECK(s.code() == Code::kInternal);
  CHECK_MESSAGE(s.message().find("DATABASE_SECRET_KEY") != std::string::npos, s.message());
  CHECK_MESSAGE(s.message().find(why) != std::string::npos, s.message());
}

}  // namespace

TEST_CASE("signing keys: insert, find, current, retire, expire; shared between instances") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>();
  Options options = FastIdentityOptions(dir.path());
  options.clock = clock;
  auto one = OpenIdentity(options);
  auto two = OpenIdentity(options);  // another instance on the same database
  const Actor a = AdminActor();

  SigningKey bad = Key("");
  CHECK(one->signing_keys().Insert(a, bad).code() == Code::kInvalidArgument);
  CHECK(one->signing_keys().Current("quay")->has_value() == false);

  REQUIRE(one->signing_keys().Insert(a, Key("k1", clock->Now() + std::chrono::hours(2))).ok());
  CHECK(one->signing_keys().Insert(a, Key("k1")).code() == Code::kConflict);
  auto found = two->signing_keys().Find("k1");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->algorithm == "RS256");
  CHECK((*found)->public_key_pem.find("k1") != std::string::npos);
  CHECK((*found)->created_at == clock->Now());
  CHECK((*two->signing_keys().Current("quay"))->kid == "k1");

  clock->Advance(std::chrono::minutes(55));
  REQUIRE(two->signing_keys().Insert(a, Key("k2", clock->Now() + std::chrono::hours(2))).ok());
  CHECK((*one->signing_keys().Current("quay"))->kid == "k2");  // newest signs
  REQUIRE(two->signing_keys().Retire(a, "k1", std::nullopt).ok());
  CHECK(two->signing_keys().Retire(a, "nope", std::nullopt).code() == Code::kNotFound);
  auto listed = one->signing_keys().List("quay", false);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);  // a retired key still verifies until it expires
  CHECK((*listed)[0].kid == "k2");
  CHECK((*listed)[1].rotated_at.has_value());

  clock->Advance(std::chrono::minutes(70));  // k1 expired, k2 not
  listed = one->signing_keys().List("", false);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].kid == "k2");
  CHECK(one->signing_keys().List("quay", true)->size() == 2);
  auto removed = one->signing_keys().DeleteExpired(a);
  REQUIRE(removed.ok());
  CHECK(*removed == 1);
  CHECK_FALSE(two->signing_keys().Find("k1")->has_value());

  // Retiring the current key leaves nothing to sign with: the host makes one.
  REQUIRE(one->signing_keys().Retire(a, "k2", clock->Now() + std::chrono::minutes(5)).ok());
  CHECK_FALSE(one->signing_keys().Current("quay")->has_value());

  AuditQuery q;
  q.kinds = {"service_key_create", "service_key_rotate", "service_key_delete"};
  auto page = one->audit().Query(q);
  REQUIRE(page.ok());
  CHECK(page->events.size() == 5);
}

TEST_CASE("signing keys: private keys are encrypted at rest and round-trip") {
  TempDir dir;
  Options options = FastIdentityOptions(dir.path());
  auto service = OpenIdentity(options);
  // Nothing needs the secret yet: no file (the admin commands never make one).
  const std::string secret_file = dir.path() + "/database_secret_key";
  CHECK_FALSE(std::filesystem::exists(secret_file));

  const SigningKey key = Key("k1");
  REQUIRE(service->signing_keys().Insert(AdminActor(), key).ok());

  // The row holds a sealed value: neither the PEM nor any part of it.
  const std::string stored = StoredPrivateKey(dir.path(), "k1");
  CHECK(stored.rfind("qenc1.", 0) == 0);
  CHECK(stored.find("PRIVATE KEY") == std::string::npos);
  CHECK(stored.find("k1\n") == std::string::npos);
  CHECK(stored != key.private_key_pem);
  // Public keys stay as they are (verifiers read them without the secret).
  auto found = service->signing_keys().Find("k1");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->private_key_pem == key.private_key_pem);
  CHECK((*found)->public_key_pem == key.public_key_pem);
  CHECK((*service->signing_keys().Current("quay"))->private_key_pem == key.private_key_pem);
  CHECK(service->signing_keys().List("quay", false)->at(0).private_key_pem == key.private_key_pem);

  // Each value has its own nonce: the same PEM seals differently.
  SigningKey twin = Key("k2");
  twin.private_key_pem = key.private_key_pem;
  REQUIRE(service->signing_keys().Insert(AdminActor(), twin).ok());
  const std::string stored_twin = StoredPrivateKey(dir.path(), "k2");
  CHECK(stored_twin.substr(0, 23) == stored.substr(0, 23));  // "qenc1.<key id>."
  CHECK(stored_twin.substr(23) != stored.substr(23));

  // A verify-only key stays empty (Current skips it).
  SigningKey verify_only = Key("k3");
  verify_only.private_key_pem.clear();
  REQUIRE(service->signing_keys().Insert(AdminActor(), verify_only).ok());
  CHECK(StoredPrivateKey(dir.path(), "k3").empty());
  CHECK((*service->signing_keys().Find("k3"))->private_key_pem.empty());

  // The generated secret: 32 random bytes as hex, owner-only.
  const std::string secret = ReadFile(secret_file);
  CHECK(secret.size() == 65);
  CHECK(secret.back() == '\n');
  CHECK(secret.find_first_not_of("0123456789abcdef\n") == std::string::npos);
  struct stat st {};
  REQUIRE(::stat(secret_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // Another process on the folder reads the same file and the same keys;
  // the file's text works exactly like a configured DATABASE_SECRET_KEY.
  auto other = OpenIdentity(options);
  CHECK((*other->signing_keys().Find("k1"))->private_key_pem == key.private_key_pem);
  Options configured = options;
  configured.identity.database_secret_key = secret.substr(0, 64);
  auto with_config = OpenIdentity(configured);
  CHECK((*with_config->signing_keys().Find("k2"))->private_key_pem == key.private_key_pem);
}

TEST_CASE("signing keys: a wrong DATABASE_SECRET_KEY is a clear error, never a wrong key") {
  TempDir dir;
  Options options = FastIdentityOptions(dir.path());
  options.identity.database_secret_key = "the-right-secret";
  auto right = OpenIdentity(options);
  REQUIRE(right->signing_keys().Insert(AdminActor(), Key("k1")).ok());
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/database_secret_key"));

  Options wrong_options = options;
  wrong_options.identity.database_secret_key = "a-wrong-secret";
  auto wrong = OpenIdentity(wrong_options);
  auto found = wrong->signing_keys().Find("k1");
  REQUIRE_FALSE(found.ok());
  CheckKeyError(found.status(), "different DATABASE_SECRET_KEY");
  CHECK(found.status().message().find("a-wrong-secret") == std::string::npos);
  CHECK(found.status().message().find("the-right-secret") == std::string::npos);
  CheckKeyError(wrong->signing_keys().Current("quay").status(), "different");
  CheckKeyError(wrong->signing_keys().List("", true).status(), "different");
  // Without a configured secret the folder's file is used: also wrong here.
  Options no_secret = options;
  no_secret.identity.database_secret_key.clear();
  CheckKeyError(OpenIdentity(no_secret)->signing_keys().Find("k1").status(), "different");

  // The right secret still reads it; what does not touch private keys works.
  CHECK((*right->signing_keys().Find("k1"))->private_key_pem == Key("k1").private_key_pem);
  CHECK(wrong->signing_keys().Retire(AdminActor(), "k1", std::nullopt).ok());
}

TEST_CASE("signing keys: a tampered or moved ciphertext fails to decrypt") {
  TempDir dir;
  Options options = FastIdentityOptions(dir.path());
  auto service = OpenIdentity(options);
  REQUIRE(service->signing_keys().Insert(AdminActor(), Key("k1")).ok());
  REQUIRE(service->signing_keys().Insert(AdminActor(), Key("k2")).ok());
  const std::string k1 = StoredPrivateKey(dir.path(), "k1");

  // One character of the ciphertext changed.
  std::string flipped = k1;
  char& c = flipped[flipped.size() / 2 + 12];
  c = c == 'A' ? 'B' : 'A';
  SetStoredPrivateKey(dir.path(), "k1", flipped);
  CheckKeyError(service->signing_keys().Find("k1").status(), "modified or damaged");
  // Truncated.
  SetStoredPrivateKey(dir.path(), "k1", k1.substr(0, k1.size() - 10));
  CheckKeyError(service->signing_keys().Find("k1").status(), "modified or damaged");
  // k1's sealed value copied onto k2's row: bound to its kid, it does not open.
  SetStoredPrivateKey(dir.path(), "k2", k1);
  CheckKeyError(service->signing_keys().Find("k2").status(), "modified or damaged");
  // A format from the future.
  SetStoredPrivateKey(dir.path(), "k2", "qenc9." + k1.substr(6));
  auto future = service->signing_keys().Find("k2");
  REQUIRE_FALSE(future.ok());
  CHECK(future.status().message().find("format") != std::string::npos);

  // Put back, it opens again.
  SetStoredPrivateKey(dir.path(), "k1", k1);
  CHECK((*service->signing_keys().Find("k1"))->private_key_pem == Key("k1").private_key_pem);
}

TEST_CASE("signing keys: plaintext rows of older versions are read, then encrypted") {
  TempDir dir;
  Options options = FastIdentityOptions(dir.path());
  {
    // An old database: the schema, and a key row with the PEM in clear.
    auto old = OpenIdentity(options);
    REQUIRE(old->signing_keys().Insert(AdminActor(), Key("old")).ok());
  }
  const std::string pem = Key("old").private_key_pem;
  SetStoredPrivateKey(dir.path(), "old", pem);
  std::filesystem::remove(dir.path() + "/database_secret_key");

  auto service = OpenIdentity(options);
  auto current = service->signing_keys().Current("quay");
  REQUIRE(current.ok());
  REQUIRE(current->has_value());
  CHECK((*current)->private_key_pem == pem);
  // The first use sealed it in place.
  const std::string stored = StoredPrivateKey(dir.path(), "old");
  CHECK(stored.rfind("qenc1.", 0) == 0);
  CHECK(stored.find("PRIVATE KEY") == std::string::npos);
  CHECK((*service->signing_keys().Find("old"))->private_key_pem == pem);
  CHECK((*OpenIdentity(options)->signing_keys().Find("old"))->private_key_pem == pem);
  // Sealing is a storage change, not an event: no audit row beyond the insert.
  AuditQuery q;
  q.kinds = {"service_key_create", "service_key_rotate"};
  CHECK(service->audit().Query(q)->events.size() == 1);
}

TEST_CASE("database secret file: concurrent creators agree on one secret") {
  TempDir dir;
  const std::string path = dir.path() + "/database_secret_key";
  auto logger = Logger::Discard();
  constexpr int kThreads = 8;
  std::vector<std::string> seen(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto secret = api::LoadOrCreateSecretFile(path, *logger);
      if (secret.ok()) seen[i] = *secret;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(seen[0].size() == 64);
  for (const std::string& s : seen) CHECK(s == seen[0]);
  // No temporary file is left behind.
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  CHECK(files == 1);

  // An empty file is never replaced silently.
  { std::ofstream(path, std::ios::trunc) << "\n"; }
  auto empty = api::LoadOrCreateSecretFile(path, *logger);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().message().find("DATABASE_SECRET_KEY") != std::string::npos);
}

TEST_CASE("field cipher: seal and open; key id, associated data and format checked") {
  auto a = auth::FieldCipher::FromSecret("secret a");
  auto b = auth::FieldCipher::FromSecret("secret b");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK_FALSE(auth::FieldCipher::FromSecret("").ok());
  auto sealed = a->Seal("hello", "row-1");
  REQUIRE(sealed.ok());
  CHECK(auth::FieldCipher::LooksSealed(*sealed));
  CHECK_FALSE(auth::FieldCipher::LooksSealed("-----BEGIN PRIVATE KEY-----"));
  auto opened = a->Open(*sealed, "row-1");
  CHECK(opened.error == auth::FieldCipher::OpenError::kNone);
  CHECK(opened.plaintext == "hello");
  CHECK(a->Open(*sealed, "row-2").error == auth::FieldCipher::OpenError::kCorrupt);
  CHECK(b->Open(*sealed, "row-1").error == auth::FieldCipher::OpenError::kWrongKey);
  CHECK(a->Open("qenc1.zz", "row-1").error == auth::FieldCipher::OpenError::kUnknownFormat);
  CHECK(a->Open("plain", "row-1").error == auth::FieldCipher::OpenError::kUnknownFormat);
  // Same secret, same derived key: another process opens it.
  CHECK(auth::FieldCipher::FromSecret("secret a")->Open(*sealed, "row-1").plaintext == "hello");
  auto empty = a->Seal("", "x");
  REQUIRE(empty.ok());
  CHECK(a->Open(*empty, "x").error == auth::FieldCipher::OpenError::kNone);
}

TEST_CASE("signing keys: services sharing an in-memory registry share its secret") {
  Options options = FastIdentityOptions();  // in memory
  auto registry = Registry::Open(quay::testing::WithTestDatabase(options));
  REQUIRE(registry.ok());
  auto one = IdentityService::Open(options, **registry);
  auto two = IdentityService::Open(options, **registry);
  REQUIRE(one.ok());
  REQUIRE(two.ok());
  REQUIRE((*one)->signing_keys().Insert(AdminActor(), Key("k1")).ok());
  auto found = (*two)->signing_keys().Find("k1");
  REQUIRE_MESSAGE(found.ok(), found.status().ToString());
  CHECK((*found)->private_key_pem == Key("k1").private_key_pem);
}
