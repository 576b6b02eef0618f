#include "host/auth/registry_auth.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace quayd {
namespace {

using quay::Action;
using quay::Principal;
using quay::auth::JwtAccess;
using quay::auth::JwtClaims;

constexpr std::string_view kAnonymousSubject = "(anonymous)";
constexpr size_t kMaxCachedTokens = 4096;

int64_t EpochSeconds(quay::Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string Rfc3339(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", tm);
}

// The principal as the token's `context` claim (Quay puts the entity kind
// and its entity_reference, the account's uuid, there too). Never a secret:
// token ids and account uuids are public ids.
std::map<std::string, std::string> ContextOf(const Principal& who) {
  std::map<std::string, std::string> context;
  context["kind"] = std::string(quay::ToString(who.kind));
  if (!who.account_uuid.empty()) context["entity_reference"] = who.account_uuid;
  if (who.kind == Principal::Kind::kToken) {
    context["token_kind"] = who.token_kind == Principal::TokenKind::kOAuth ? "oauth" : "app";
    context["token_id"] = who.token_id;
    if (!who.token_title.empty()) context["token_title"] = who.token_title;
  }
  if (!(who.scopes == quay::ScopeSet::All())) context["scopes"] = who.scopes.ToString();
  return context;
}

quay::Result<Principal> PrincipalOf(const JwtClaims& claims) {
  auto field = [&](const char* key) -> std::string {
    auto it = claims.context.find(key);
    return it == claims.context.end() ? std::string() : it->second;
  };
  const std::string kind = field("kind");
  Principal who;
  if (kind == "anonymous") return who;
  if (kind == "user") {
    who.kind = Principal::Kind::kUser;
  } else if (kind == "robot") {
    who.kind = Principal::Kind::kRobot;
  } else if (kind == "token") {
    who.kind = Principal::Kind::kToken;
    const std::string token_kind = field("token_kind");
    if (token_kind == "oauth") {
      who.token_kind = Principal::TokenKind::kOAuth;
    } else if (token_kind == "app") {
      who.token_kind = Principal::TokenKind::kAppSpecific;
    } else {
      return quay::Status::Unauthenticated("invalid token: unknown token kind");
    }
    who.token_id = field("token_id");
    who.token_title = field("token_title");
  } else {
    return quay::Status::Unauthenticated("invalid token: unknown principal kind");
  }
  if (claims.subject.empty() || claims.subject == kAnonymousSubject) {
    return quay::Status::Unauthenticated("invalid token: no subject");
  }
  who.name = claims.subject;
  // Absent from tokens issued before accounts had uuids: CheckCurrent
  // refuses those.
  who.account_uuid = field("entity_reference");
  if (std::string scopes = field("scopes"); !scopes.empty()) {
    quay::Result<quay::ScopeSet> parsed = quay::ScopeSet::Parse(scopes);
    if (!parsed.ok()) return quay::Status::Unauthenticated("invalid token: bad scopes");
    who.scopes = *parsed;
  }
  return who;
}

// Not granted (as opposed to a failure to decide).
bool IsRefusal(const quay::Status& s) {
  return s.code() == quay::Code::kDenied || s.code() == quay::Code::kUnauthenticated ||
         s.code() == quay::Code::kNotFound;
}

}  // namespace

// ---- VerifiedToken / TokenAuthorizer ----

uint8_t VerifiedToken::GrantOn(std::string_view repository) const {
  uint8_t bits = 0;
  for (const auto& [name, granted] : grants) {
    if (name == repository) bits |= granted;
  }
  return bits;
}

quay::Status TokenAuthorizer::Check(const Principal& who, std::string_view repository,
                                    Action action) const {
  // The catalog is identity-based (Quay lists what the token's user may
  // see, whatever its scopes); repository actions need the token's grant.
  if (token_ != nullptr && action != Action::kCatalog &&
      !GrantCovers(token_->GrantOn(repository), action)) {
    return quay::Status::Unauthenticated("the token does not grant this action");
  }
  return inner_.Check(who, repository, action);
}

quay::Status TokenAuthorizer::CheckNamespace(const Principal& who, std::string_view namespace_name,
                                             quay::NamespaceAction action) const {
  return inner_.CheckNamespace(who, namespace_name, action);
}

// ---- RegistryAuth ----

RegistryAuth::RegistryAuth(quay::IdentityService& identity, RegistryAuthOptions options,
                           std::shared_ptr<quay::Clock> clock, std::shared_ptr<quay::Logger> logger)
    : identity_(identity),
      options_(std::move(options)),
      clock_(clock ? std::move(clock) : quay::Clock::System()),
      logger_(logger ? std::move(logger) : quay::Logger::Discard()),
      authorizer_(identity.authorizer()),
      throttle_(quay::LoginThrottle::New(options_.login_throttle, clock_)) {}

RegistryAuth::~RegistryAuth() {
  if (appender_) {
    quay::Status flushed = appender_->Flush();
    if (!flushed.ok()) {
      logger_->Log(quay::LogLevel::kError, "audit", "failed to write audit rows",
                   {{"error", flushed.ToString()}});
    }
    appender_.reset();
  }
}

quay::Result<std::unique_ptr<RegistryAuth>> RegistryAuth::Open(
    quay::IdentityService& identity, RegistryAuthOptions options,
    std::shared_ptr<quay::Clock> clock, std::shared_ptr<quay::Logger> logger) {
  std::unique_ptr<RegistryAuth> auth(
      new RegistryAuth(identity, std::move(options), std::move(clock), std::move(logger)));
  quay::Result<std::unique_ptr<TokenKeys>> keys =
      TokenKeys::Open(identity.signing_keys(), auth->options_.keys, auth->clock_, auth->logger_);
  if (!keys.ok()) return keys.status();
  auth->keys_ = std::move(keys).value();
  auth->appender_ = identity.audit().NewAppender(auth->options_.audit_appender);
  return auth;
}

std::string RegistryAuth::Service(std::string_view host_header) const {
  if (!options_.server_hostname.empty()) return options_.server_hostname;
  if (IsSaneHost(host_header)) return std::string(host_header);
  return "localhost";
}

std::string RegistryAuth::Realm(std::string_view host_header) const {
  return fmt::format("{}://{}/v2/auth", options_.url_scheme, Service(host_header));
}

std::string RegistryAuth::Challenge(std::string_view host_header, std::string_view repository,
                                    Action action) const {
  return BearerChallenge(Realm(host_header), Service(host_header),
                         ChallengeScope(repository, action));
}

quay::Result<std::shared_ptr<const VerifiedToken>> RegistryAuth::VerifyBearer(
    std::string_view token, std::string_view service) {
  const int64_t now = EpochSeconds(clock_->Now());
  const int64_t leeway = options_.leeway.count();
  std::string key(service);
  key += '\n';
  key += token;
  std::shared_ptr<const VerifiedToken> verified;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (now - leeway < it->second->expires_at) {
        verified = it->second;
      } else {
        cache_.erase(it);
      }
    }
  }
  if (!verified) {
    quay::Result<std::shared_ptr<const VerifiedToken>> fresh = Verify(token, service);
    if (!fresh.ok()) return fresh;
    verified = std::move(fresh).value();
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_.size() >= kMaxCachedTokens) {
      std::erase_if(cache_, [&](const auto& kv) { return now - leeway >= kv.second->expires_at; });
      if (cache_.size() >= kMaxCachedTokens) cache_.clear();
    }
    cache_.emplace(std::move(key), verified);
  }
  // The cache holds the signature check only: whether the account (and the
  // app or OAuth token) behind the token is still the one it was issued to
  // is the library's answer now, on every request.
  if (quay::Status current = identity_.CheckCurrent(verified->principal); !current.ok()) {
    return current;
  }
  return verified;
}

quay::Result<std::shared_ptr<const VerifiedToken>> RegistryAuth::Verify(std::string_view token,
                                                                        std::string_view service) {
  quay::auth::JwtVerifyOptions verify;
  verify.issuer = options_.keys.service;
  verify.audience = std::string(service);
  verify.now = EpochSeconds(clock_->Now());
  verify.leeway_seconds = options_.leeway.count();
  // A token we issued never lives longer than the configured lifetime; one
  // that claims to was not minted by this configuration.
  verify.max_lifetime_seconds = options_.keys.token_lifetime.count() + options_.leeway.count();
  quay::Result<JwtClaims> claims = quay::auth::VerifyJwt(
      token, verify, [this](std::string_view kid) { return keys_->Lookup(kid); });
  if (!claims.ok()) return claims.status();

  quay::Result<Principal> who = PrincipalOf(*claims);
  if (!who.ok()) return who.status();
  auto out = std::make_shared<VerifiedToken>();
  out->principal = std::move(who).value();
  if (!out->principal.anonymous())
    out->principal.superuser = identity_.SuperuserOf(out->principal.name);
  out->expires_at = claims->expires_at;
  for (const JwtAccess& access : claims->access) {
    if (access.type != "repository") continue;
    // Scopes may name the repository with the server hostname in front.
    std::string_view name = access.name;
    if (name.size() > service.size() + 1 && name.substr(0, service.size()) == service &&
        name[service.size()] == '/') {
      name.remove_prefix(service.size() + 1);
    }
    uint8_t bits = 0;
    for (const std::string& action : access.actions) bits |= ParseScopeAction(action);
    if (bits != 0) out->grants.emplace_back(std::string(name), bits);
  }
  return std::shared_ptr<const VerifiedToken>(std::move(out));
}

quay::Result<bool> RegistryAuth::Allowed(const Principal& who, std::string_view repository,
                                         Action action) const {
  quay::Status s = authorizer_->Check(who, repository, action);
  if (s.ok()) return true;
  if (IsRefusal(s)) return false;
  return s;
}

quay::Result<std::vector<std::string>> RegistryAuth::GrantActions(const quay::Actor& actor,
                                                                  const RequestedScope& scope) {
  const Principal& who = actor.principal;
  if (scope.type == RequestedScope::Type::kRegistry) {
    quay::Result<bool> catalog = Allowed(who, "", Action::kCatalog);
    if (!catalog.ok()) return catalog.status();
    if (*catalog) return std::vector<std::string>{"*"};
    return std::vector<std::string>{};
  }
  const std::string& repo = scope.repository;
  const bool wants_push = std::any_of(scope.actions.begin(), scope.actions.end(),
                                      [](uint8_t a) { return a == kScopePush || a == kScopeAll; });

  // Push-to-create (the library's rule): a granted push on a missing
  // repository creates it now, so the pushes that follow find it with its
  // visibility and prototypes.
  if (wants_push && !who.anonymous()) {
    quay::Result<quay::PushTarget> target = identity_.PushToCreate(actor, repo);
    if (!target.ok() && target.status().code() != quay::Code::kInvalidArgument) {
      return target.status();
    }
    if (target.ok() && *target == quay::PushTarget::kCreated) {
      logger_->Log(quay::LogLevel::kDebug, "auth", "created repository on push",
                   {{"repository", repo}});
    }
  }

  uint8_t granted = 0;
  std::vector<std::string> names;
  auto grant = [&](uint8_t bit, Action action) -> quay::Status {
    if (granted & bit) return quay::Status::Ok();
    quay::Result<bool> allowed = Allowed(who, repo, action);
    if (!allowed.ok()) return allowed.status();
    if (*allowed) {
      granted |= bit;
      names.emplace_back(ScopeActionName(bit));
    }
    return quay::Status::Ok();
  };
  for (uint8_t bit : scope.actions) {
    quay::Status s;
    switch (bit) {
      case kScopePull:
        s = grant(kScopePull, Action::kPull);
        break;
      case kScopePush:
        s = grant(kScopePush, Action::kPush);
        break;
      case kScopeDelete:
        s = grant(kScopeDelete, Action::kDelete);
        break;
      case kScopeAll: {
        s = grant(kScopeAll, Action::kAdmin);
        // Not an admin: "*" is downscoped to the actions the principal has
        // (Quay drops "*" whole; clients such as skopeo ask "*" to delete).
        if (s.ok() && !(granted & kScopeAll)) s = grant(kScopePull, Action::kPull);
        if (s.ok() && !(granted & kScopeAll)) s = grant(kScopePush, Action::kPush);
        if (s.ok() && !(granted & kScopeAll)) s = grant(kScopeDelete, Action::kDelete);
        break;
      }
      default:
        break;
    }
    if (!s.ok()) return s;
  }
  return names;
}

quay::Result<IssuedToken> RegistryAuth::Issue(const quay::Actor& actor,
                                              const std::vector<RequestedScope>& scopes,
                                              std::string_view service) {
  const Principal& who = actor.principal;
  JwtClaims claims;
  claims.issuer = options_.keys.service;
  claims.subject = who.anonymous() ? std::string(kAnonymousSubject) : who.name;
  claims.audience = std::string(service);
  const int64_t now = EpochSeconds(clock_->Now());
  claims.issued_at = now;
  claims.not_before = now;
  claims.expires_at = now + options_.keys.token_lifetime.count();
  claims.context = ContextOf(who);
  for (const RequestedScope& scope : scopes) {
    quay::Result<std::vector<std::string>> actions = GrantActions(actor, scope);
    if (!actions.ok()) return actions.status();
    JwtAccess access;
    access.type = scope.type == RequestedScope::Type::kRegistry ? "registry" : "repository";
    access.name = scope.name;
    access.actions = std::move(actions).value();
    claims.access.push_back(std::move(access));
  }
  std::shared_ptr<const quay::auth::JwtSigner> signer = keys_->signer();
  quay::Result<std::string> token = signer->Sign(claims);
  if (!token.ok()) return token.status();
  IssuedToken out;
  out.token = std::move(token).value();
  out.expires_in = options_.keys.token_lifetime.count();
  out.issued_at = Rfc3339(now);
  return out;
}

void RegistryAuth::RecordPull(const quay::ManifestAuditEvent& event) {
  if (!options_.pull_audit || !appender_) return;
  appender_->AppendView(event.view());
}

void RegistryAuth::RecordPush(const quay::ManifestAuditEvent& event) {
  if (!appender_) return;
  appender_->AppendView(event.view());
}

void RegistryAuth::RecordLogin(const quay::Actor& actor, bool success, std::string_view username,
                               std::string_view user_agent) {
  if (!appender_ || !(success ? options_.login_audit : options_.login_failure_audit)) return;
  user_agent = user_agent.substr(0, 256);
  username = username.substr(0, 255);
  quay::AuditEvent event = quay::AuditEvent::By(
      actor, success ? "login_success" : "login_failure", std::string(),
      success ? quay::AuditMetadata({{"type", "v2auth"},
                                     {"kind", quay::ToString(actor.principal.kind)},
                                     {"useragent", user_agent}})
              : quay::AuditMetadata(
                    {{"type", "v2auth"}, {"username", username}, {"useragent", user_agent}}));
  // The account the login belongs to: the user, or the robot's namespace.
  std::string_view account = success ? std::string_view(actor.principal.name) : username;
  event.namespace_name = std::string(account.substr(0, account.find('+')));
  appender_->Append(std::move(event));
}

quay::Status RegistryAuth::FlushAudit() {
  return appender_ ? appender_->Flush() : quay::Status::Ok();
}

}  // namespace quayd
