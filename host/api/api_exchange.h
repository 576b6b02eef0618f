// What an /api/v1 or /oauth handler gets for one request: the HTTP request and
// response, the matched route and path parameters, who is asking (already
// authenticated and checked against the route's Need by the dispatcher), the
// parsed JSON body, and the library services it calls.
#pragma once

#include <rapidjson/document.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/api/render_memo.h"
#include "host/auth/session.h"
#include "host/net/body_budget.h"
#include "host/route/path_trie.h"
#include "host/route/route_table.h"
#include "quay/access.h"
#include "quay/audit.h"
#include "quay/clock.h"
#include "quay/identity.h"
#include "quay/logger.h"
#include "quay/login_throttle.h"
#include "quay/registry.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace quayd {

// The Quay configuration the API surfaces read (config keys in parentheses).
struct ApiOptions {
  // Feature flags that show or hide routes, indexed by Feature.
  std::array<bool, kFeatureCount> features = {
      true,   // kAlways
      true,   // FEATURE_USER_CREATION
      false,  // FEATURE_USER_INITIALIZE
      true,   // FEATURE_DIRECT_LOGIN
      true,   // FEATURE_APP_SPECIFIC_TOKENS
      true,   // FEATURE_SUPER_USERS
      false,  // FEATURE_ASSIGN_OAUTH_TOKEN (Quay: true; off until asked for)
      true,   // FEATURE_AGGREGATED_LOG_COUNT_RETRIEVAL
      false,  // FEATURE_IMMUTABLE_TAGS (Quay's default; Options::tag_policies must agree)
      false,  // FEATURE_AUTO_PRUNE (likewise)
      false,  // FEATURE_QUOTA_MANAGEMENT (Quay's default)
  };
  bool read_only = false;  // REGISTRY_STATE: readonly
  // FRESH_LOGIN_TIMEOUT: a session login older than this may not run the
  // routes marked fresh_login. Default: 10 minutes.
  std::chrono::seconds fresh_login_timeout{600};
  // SERVER_HOSTNAME / PREFERRED_URL_SCHEME: the base of error type URLs,
  // redirects and pull commands; empty hostname: the request's Host.
  std::string server_hostname;
  std::string url_scheme = "http";
  // FEATURE_SUPERUSERS_ORG_CREATION_ONLY
  bool superusers_org_creation_only = false;
  // The superuser lists (SUPER_USERS, GLOBAL_READONLY_SUPER_USERS) are the
  // IdentityService's; it answers SuperuserOf().
  std::vector<std::string> trusted_proxies;
  // Most bytes of a JSON request body. Default: 1 MiB.
  size_t max_body_bytes = 1 << 20;
  // The memory budget request bodies share with /v2 manifest PUTs
  // (host/net/body_budget.h); the Server sets it. Null: no budget.
  std::shared_ptr<BodyBudget> body_budget;
};

struct ApiServices {
  quay::Registry& registry;
  quay::IdentityService& identity;
  quay::Logger& logger;
  const ApiOptions& options;
  const SessionCodec& sessions;
  std::shared_ptr<quay::Clock> clock;
  // The failed-login back-off shared with /v2/auth (null: none).
  quay::LoginThrottle* throttle = nullptr;
  // Rendered JSON of shared pages (tag pages, log pages).
  std::shared_ptr<RenderMemo> rendered = std::make_shared<RenderMemo>();
};

struct ApiExchange {
  const httplib::Request& req;
  httplib::Response& res;
  const ApiRoute& route;
  const PathParams& params;
  ApiServices& svc;
  quay::Principal principal;       // anonymous when no credentials
  std::optional<Session> session;  // set when a session cookie authenticated
  std::string ip;                  // the client's address
  rapidjson::Document body;        // the JSON body (an object), or null
  // An /oauth route's application/x-www-form-urlencoded body, in order.
  std::vector<std::pair<std::string, std::string>> form;

  quay::Actor actor() const;
  std::string_view Param(std::string_view name) const { return params.Get(name); }
  // A query parameter's value, or empty.
  std::string Query(std::string_view name) const;
  bool HasQuery(std::string_view name) const;
  // A form field (the body of an /oauth POST), or empty.
  std::string Form(std::string_view name) const;
  // "true"/"1" as Quay's boolean query arguments.
  bool QueryFlag(std::string_view name) const;
  // "http://host".
  std::string Base() const;
  int64_t Now() const;  // seconds since the epoch (the injected clock)
  // The signed-in user (a session, a password, or a token's user); empty for
  // anonymous principals and robots.
  std::string_view UserName() const;
};

}  // namespace quayd
