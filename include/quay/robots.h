// Robots: robot accounts of a user or organization namespace. Part of
// IdentityService (quay/identity.h): identity.robots().
//
// Tokens. A robot token is random (64 characters) and stored only as its
// SHA-256, so it is returned exactly once - by CreateRobot and
// RegenerateRobotToken - and can never be shown again. Quay's
// GET .../robots?token=true (which returns stored tokens) cannot be served:
// a host answers it without tokens, or regenerates on the caller's request.
//
// Thread safety: safe to use from many threads.
// Errors: InvalidArgument for a malformed name; NotFound (kNone) for an
// unknown namespace or robot; Conflict for a name taken;
// Unavailable/Internal on database failure.
#pragma once

#include <string_view>
#include <vector>

#include "quay/accounts.h"
#include "quay/identity_types.h"

namespace quay {

class QUAY_EXPORT Robots {
 public:
  virtual ~Robots() = default;

  // (create_robot: robot, description) `namespace_name` is a user or an org.
  virtual Result<RobotCredentials> CreateRobot(const Actor& actor, std::string_view namespace_name,
                                               std::string_view short_name,
                                               std::string_view description) = 0;
  virtual Result<Robot> GetRobot(std::string_view robot_name) = 0;
  // The namespace's robots in name order, with description and created time.
  virtual Result<std::vector<Robot>> ListRobots(std::string_view namespace_name) = 0;
  // (regenerate_robot_token: robot) The old token stops working at once.
  virtual Result<RobotCredentials> RegenerateRobotToken(const Actor& actor,
                                                        std::string_view robot_name) = 0;
  // (delete_robot: robot)
  virtual Status DeleteRobot(const Actor& actor, std::string_view robot_name) = 0;
  // The robot's direct repository grants (and those of the org teams it is
  // in are not included), in repository name order.
  virtual Result<std::vector<RepositoryGrant>> ListRobotPermissions(
      std::string_view robot_name) = 0;
};

}  // namespace quay
