#include "host/auth/auth_parsing.h"

#include <fmt/format.h>
#include <strings.h>

#include "quay/reference.h"

namespace quayd {
namespace {

quay::Status Bad(std::string message) {
  return quay::Status::InvalidArgument(quay::Subject::kNone, std::move(message));
}

bool StartsWithScheme(std::string_view header, std::string_view scheme) {
  return header.size() > scheme.size() && header[scheme.size()] == ' ' &&
         strncasecmp(header.data(), scheme.data(), scheme.size()) == 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Standard base64 (RFC 4648 section 4) with optional padding, as HTTP Basic
// uses it. Empty result on malformed input.
bool DecodeBase64(std::string_view text, std::string& out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return false;
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return false;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return true;
}

// RFC 6750 token68 characters (what a JWT is made of, plus a few).
bool IsToken68(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
    if (!ok) return false;
  }
  return true;
}

constexpr size_t kMaxCredentialBytes = 8192;

}  // namespace

quay::Result<Credentials> ParseAuthorization(std::string_view header) {
  Credentials out;
  header = Trim(header);
  if (header.empty()) return out;
  if (header.size() > kMaxCredentialBytes) return Bad("the Authorization header is too long");
  if (StartsWithScheme(header, "Basic")) {
    std::string decoded;
    if (!DecodeBase64(Trim(header.substr(6)), decoded)) {
      return Bad("Basic credentials are not base64");
    }
    size_t colon = decoded.find(':');
    if (colon == std::string::npos) return Bad("Basic credentials lack a ':'");
    if (decoded.find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos) {
      return Bad("Basic credentials contain control characters");
    }
    out.kind = Credentials::Kind::kBasic;
    out.username = decoded.substr(0, colon);
    out.secret = decoded.substr(colon + 1);
    return out;
  }
  if (StartsWithScheme(header, "Bearer")) {
    std::string_view token = Trim(header.substr(7));
    if (!IsToken68(token)) return Bad("malformed Bearer token");
    out.kind = Credentials::Kind::kBearer;
    out.secret = std::string(token);
    return out;
  }
  auto is = [&](std::string_view scheme) {
    return header.size() == scheme.size() &&
           strncasecmp(header.data(), scheme.data(), scheme.size()) == 0;
  };
  if (is("Basic") || is("Bearer")) return Bad("empty credentials");
  out.kind = Credentials::Kind::kOther;
  return out;
}

uint8_t ParseScopeAction(std::string_view action) {
  if (action == "pull") return kScopePull;
  if (action == "push") return kScopePush;
  if (action == "delete") return kScopeDelete;
  if (action == "*") return kScopeAll;
  return 0;
}

std::string_view ScopeActionName(uint8_t bit) {
  switch (bit) {
    case kScopePull:
      return "pull";
    case kScopePush:
      return "push";
    case kScopeDelete:
      return "delete";
    case kScopeAll:
      return "*";
    default:
      return "";
  }
}

bool GrantCovers(uint8_t grant, quay::Action action) {
  switch (action) {
    case quay::Action::kPull:
      return (grant & (kScopePull | kScopeAll)) != 0;
    case quay::Action::kPush:
      return (grant & (kScopePush | kScopeAll)) != 0;
    case quay::Action::kDelete:
      return (grant & (kScopeDelete | kScopePush | kScopeAll)) != 0;
    case quay::Action::kAdmin:
      return (grant & kScopeAll) != 0;
    case quay::Action::kCatalog:
      return false;
  }
  return false;
}

quay::Result<std::vector<RequestedScope>> ParseScopes(const std::vector<std::string>& values,
                                                      std::string_view server_hostname,
                                                      size_t max_scopes) {
  std::vector<RequestedScope> out;
  for (const std::string& value : values) {
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t space = rest.find(' ');
      std::string_view text = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      if (text.empty()) continue;
      if (out.size() >= max_scopes) return Bad(fmt::format("more than {} scopes", max_scopes));

      const size_t first = text.find(':');
      const size_t last = text.rfind(':');
      if (first == std::string_view::npos || first == last) {
        return Bad("a scope is <type>:<name>:<actions>");
      }
      std::string_view type = text.substr(0, first);
      std::string_view name = text.substr(first + 1, last - first - 1);
      std::string_view actions = text.substr(last + 1);

      RequestedScope scope;
      if (type == "registry") {
        if (name != "catalog" || actions != "*") return Bad("unsupported registry scope");
        scope.type = RequestedScope::Type::kRegistry;
        scope.name = "catalog";
        scope.actions.push_back(kScopeAll);
        out.push_back(std::move(scope));
        continue;
      }
      if (type != "repository") return Bad("unsupported scope type");
      scope.name = std::string(name);
      std::string_view repository = name;
      if (!server_hostname.empty() && repository.size() > server_hostname.size() + 1 &&
          repository.substr(0, server_hostname.size()) == server_hostname &&
          repository[server_hostname.size()] == '/') {
        repository.remove_prefix(server_hostname.size() + 1);
      }
      if (!quay::ValidateRepositoryName(repository).ok()) {
        return Bad("invalid repository name in scope");
      }
      scope.repository = std::string(repository);
      if (actions.empty()) return Bad("a scope needs actions");
      size_t start = 0;
      while (start <= actions.size()) {
        size_t comma = actions.find(',', start);
        if (comma == std::string_view::npos) comma = actions.size();
        uint8_t bit = ParseScopeAction(actions.substr(start, comma - start));
        if (bit == 0) return Bad("unknown scope action");
        bool seen = false;
        for (uint8_t a : scope.actions) seen = seen || a == bit;
        if (!seen) scope.actions.push_back(bit);
        start = comma + 1;
      }
      out.push_back(std::move(scope));
    }
  }
  return out;
}

bool IsSaneHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

std::string BearerChallenge(std::string_view realm, std::string_view service,
                            std::string_view scope, std::string_view error) {
  std::string out = fmt::format("Bearer realm=\"{}\",service=\"{}\"", realm, service);
  if (!scope.empty()) out += fmt::format(",scope=\"{}\"", scope);
  if (!error.empty()) out += fmt::format(",error=\"{}\"", error);
  return out;
}

std::string ChallengeScope(std::string_view repository, quay::Action action) {
  if (repository.empty()) {
    return action == quay::Action::kCatalog ? "registry:catalog:*" : "";
  }
  std::string_view actions = "pull";
  switch (action) {
    case quay::Action::kPull:
    case quay::Action::kCatalog:
      break;
    case quay::Action::kPush:
      actions = "pull,push";
      break;
    case quay::Action::kDelete:
      actions = "delete";
      break;
    case quay::Action::kAdmin:
      actions = "*";
      break;
  }
  return fmt::format("repository:{}:{}", repository, actions);
}

}  // namespace quayd
