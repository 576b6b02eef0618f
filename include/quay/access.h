// Who is asking, and the one decision point for "may they do this". Every
// protocol binding asks the Authorizer before calling the Registry. Until
// identities exist, AllowAll() grants everything to everyone (anonymous push is
// the registry core's contract); the token-auth issue replaces it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "quay/export.h"
#include "quay/status.h"

namespace quay {

enum class Action : unsigned char {
  kPull,    // read manifests and blobs
  kPush,    // upload blobs, put manifests (may create the repository)
  kDelete,  // delete manifests, tags, blobs
  kAdmin,   // repository administration
  kCatalog, // list repositories
};

struct Principal {
  enum class Kind : unsigned char { kAnonymous, kUser, kRobot, kToken };
  Kind kind = Kind::kAnonymous;
  std::string name;  // empty for anonymous
};

class QUAY_EXPORT Authorizer {
 public:
  virtual ~Authorizer() = default;
  // OK, or Unauthenticated (credentials needed) / Denied (not allowed).
  // `repository` is empty for registry-wide actions (kCatalog).
  virtual Status Check(const Principal& who, std::string_view repository, Action action) const = 0;

  static std::shared_ptr<Authorizer> AllowAll();
};

}  // namespace quay
