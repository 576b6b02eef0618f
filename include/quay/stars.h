// Stars: the repositories a user starred (Quay's Star). Part of
// IdentityService (quay/identity.h): identity.stars().
//
// Quay writes no audit row for stars, and neither does this.
//
// Thread safety: safe to use from many threads.
// Errors: NotFound (kNone) for an unknown user, NotFound (kRepository) for
// an unknown repository; Unavailable/Internal on database failure. Whether
// the user may see the repository is the caller's check (the Authorizer).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "quay/identity_types.h"

namespace quay {

class QUAY_EXPORT Stars {
 public:
  virtual ~Stars() = default;

  // Starring twice is OK (one star).
  virtual Status Star(std::string_view user, std::string_view repository) = 0;
  // Unstarring what is not starred is OK.
  virtual Status Unstar(std::string_view user, std::string_view repository) = 0;
  // Full names of the user's starred repositories, in name order after `after`.
  virtual Result<AccountPage> ListStarred(std::string_view user, size_t limit,
                                          std::string_view after) = 0;
  // For each of `repositories` (full names), whether `user` starred it, in
  // the same order (unknown repositories: false). One query.
  virtual Result<std::vector<bool>> AreStarred(std::string_view user,
                                               const std::vector<std::string>& repositories) = 0;
};

}  // namespace quay
