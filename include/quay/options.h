// Options for opening a Registry. A plain struct: every field documents its
// default. The library never reads files or environment variables for these.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "quay/clock.h"
#include "quay/logger.h"
#include "quay/storage.h"

namespace quay {

// How costly password hashes are (argon2id). Verification reads the cost from
// the stored hash, so changing this affects only new hashes.
enum class PasswordHashCost : unsigned char {
  kInteractive,  // libsodium's OPSLIMIT/MEMLIMIT_INTERACTIVE (64 MiB, ~0.1 s)
  kModerate,     // libsodium's MODERATE (256 MiB, ~0.7 s)
  kMinimum,      // the smallest argon2id allows: for tests only, never production
};

// The identity layer's settings (IdentityService and its Authorizer; the
// Registry ignores them). Names in comments are Quay's config keys.
struct IdentityOptions {
  // SUPER_USERS. Default: none.
  std::vector<std::string> super_users;
  // GLOBAL_READONLY_SUPER_USERS; wins over super_users. Default: none.
  std::vector<std::string> global_readonly_super_users;
  // FEATURE_SUPERUSERS_FULL_ACCESS: superusers pass every repository and
  // namespace check. Default: false (superuser panel only).
  bool superusers_full_access = false;
  // FEATURE_ANONYMOUS_ACCESS: anonymous principals may pull public
  // repositories. Default: true.
  bool anonymous_access = true;
  // FEATURE_PUBLIC_CATALOG: anonymous principals may list (public)
  // repositories. Default: false.
  bool public_catalog = false;
  // CREATE_PRIVATE_REPO_ON_PUSH: repositories created by a push are private.
  // Default: true.
  bool create_private_repo_on_push = true;
  // CREATE_NAMESPACE_ON_PUSH: a push into a namespace that does not exist
  // creates an organization of that name owned by the pusher (its "owners"
  // team), then the repository. Only users and their tokens (OAuth tokens
  // with repo:create) may; robots and anonymous principals never. Default:
  // false (such a push is refused).
  bool create_namespace_on_push = false;
  // APP_SPECIFIC_TOKEN_EXPIRATION; zero means app-specific tokens never
  // expire. Default: 0.
  std::chrono::seconds app_token_lifetime{0};
  // Lifetime of issued OAuth access tokens (Quay: 10 years). Default: 10 years.
  std::chrono::seconds oauth_token_lifetime = std::chrono::hours(24 * 3650);
  // Default: kInteractive.
  PasswordHashCost password_hash_cost = PasswordHashCost::kInteractive;
  // DATABASE_SECRET_KEY: the secret that private signing keys are encrypted
  // under in the database (AES-256-GCM, key derived with HKDF-SHA256). Every
  // process on one database must use the same secret; a wrong one makes the
  // signing-key calls fail with an error naming DATABASE_SECRET_KEY. Empty:
  // the text of "<data_dir>/database_secret_key" (or beside the database
  // file), a random secret created on first use; for an in-memory database,
  // a random secret of the process. Never logged. Default: "".
  std::string database_secret_key;
};

// Tag policies (quay/tag_policy.h; names in comments are Quay's config keys).
struct TagPolicyOptions {
  // FEATURE_IMMUTABLE_TAGS: SetTagImmutable, the quay.immutable label and
  // immutability policies make tags immutable. A tag already immutable is
  // refused a move or a delete either way. Default: false (Quay's default).
  bool immutable_tags = false;
  // FEATURE_IMMUTABLE_TAGS_CAN_EXPIRE: an immutable tag may carry an
  // expiration (otherwise making a tag immutable clears its expiration and
  // SetTagExpiration refuses it). Default: false.
  bool immutable_tags_can_expire = false;
  // FEATURE_AUTO_PRUNE: auto-prune policies may be created and
  // RunAutoPrune applies them. Default: false.
  bool auto_prune = false;
  // With auto_prune, Registry::Open starts one thread that calls
  // RunAutoPrune this often (the only thread tag policies start; it waits on
  // the system's steady clock between passes, each pass reads the injected
  // clock). Zero: no thread; the embedder calls RunAutoPrune. Default: 0.
  std::chrono::seconds auto_prune_interval{0};
};

struct Options {
  // Folder holding quay.db and the blob store; created if missing. Empty means
  // "in memory": a memory blob store and an in-memory SQLite database.
  // Default: "" (in memory).
  std::string data_dir;

  // SQLite file. Empty derives it: "<data_dir>/quay.db", or in-memory when
  // data_dir is empty. Default: "".
  std::string database_path;

  // Blob store to use instead of the one derived from data_dir (e.g. a
  // FaultInjectingBlobStore in tests). Default: null (derived).
  std::shared_ptr<BlobStore> blob_store;

  // fsync blobs and the database before acknowledging writes. Default: true.
  bool durable = true;

  // Largest manifest body accepted by PutManifest. Default: 4 MiB.
  uint64_t max_manifest_bytes = 4ull << 20;

  // Largest blob accepted by an upload. Default: 20 GiB (Quay's MAXIMUM_LAYER_SIZE).
  uint64_t max_blob_bytes = 20ull << 30;

  // How long a moved or deleted tag stays restorable, and its manifest
  // pullable by digest. Default: 14 days.
  std::chrono::seconds tag_recovery_window = std::chrono::hours(24 * 14);

  // How long a blob or manifest that nothing references yet is kept (a push
  // in progress uploads layers before its manifest). Default: 1 hour.
  std::chrono::seconds gc_protection_window = std::chrono::hours(1);

  // Upload sessions untouched this long are abandoned and removed by GC.
  // Default: 2 days (Quay's BLOBUPLOAD_DELETION_DATE_THRESHOLD).
  std::chrono::seconds upload_expiry = std::chrono::hours(48);

  // Open() removes what a crash between the two steps of starting or ending
  // an upload leaves behind: upload areas without a session row and session
  // rows without an area. Only the process that owns the data folder may do
  // that. A second process opening the folder while the owner runs (quayd gc
  // beside quayd serve) must set this to false: it could catch one of the
  // owner's uploads between its two steps and break it. The owner repairs
  // at its next start. Default: true.
  bool reconcile_uploads = true;

  // Time source. Default: null (the system clock).
  std::shared_ptr<Clock> clock;

  // Log sink. Default: null (discard).
  std::shared_ptr<Logger> logger;

  // Expiration, immutability and auto-prune (Registry). Default: see above.
  TagPolicyOptions tag_policies;

  // Users, permissions and tokens (IdentityService only). Default: see above.
  IdentityOptions identity;
};

}  // namespace quay
