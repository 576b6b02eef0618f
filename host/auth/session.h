// Browser sessions of /api/v1 and /oauth: a signed cookie and Quay's CSRF rule.
//
// The cookie (HttpOnly, SameSite=Lax, Path=/, Secure under https) holds the
// user and its account's uuid (so that an account re-created under the same
// name does not inherit the session), the login time (for fresh-login checks), the session's CSRF
// token and an expiry, signed with HMAC-SHA256 under the session key (SECRET_KEY, or a random key
// kept in DATA_DIR/session_secret_key, mode 0600): every instance sharing the key accepts it, and
// nothing about it is stored server-side. A cookie without a user is an anonymous session that only
// carries a CSRF token (GET /csrf_token before signing in).
//
// Thread safety: SessionCodec is immutable after construction.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quayd {

inline constexpr std::string_view kSessionCookie = "quay_session";

struct Session {
  std::string user;          // empty: anonymous session
  std::string account_uuid;  // the user's account uuid (Accounts::CheckCurrent)
  int64_t login_time = 0;    // seconds since the epoch
  std::string csrf_token;
  int64_t expires_at = 0;
};

class SessionCodec {
 public:
  // `key` is at least 32 bytes of secret.
  explicit SessionCodec(std::string key,
                        std::chrono::seconds lifetime = std::chrono::hours(24 * 7));

  std::string Encode(const Session& session) const;
  // The session in a cookie value, or nullopt if forged, malformed or expired.
  std::optional<Session> Decode(std::string_view cookie, int64_t now) const;
  // A new session for `user`, whose account has uuid `account_uuid` (a
  // fresh CSRF token). Both empty: an anonymous session.
  Session Start(std::string user, std::string account_uuid, int64_t now) const;
  // "quay_session=...; HttpOnly; SameSite=Lax; Path=/" (+ Secure, Max-Age).
  std::string SetCookie(const Session& session, bool secure) const;
  static std::string ClearCookie();

  // An opaque, tamper-proof token for `payload` (pagination cursors bound
  // to their listing and caller), and its payload back, or nullopt.
  std::string Seal(std::string_view payload) const;
  std::optional<std::string> Unseal(std::string_view token) const;

 private:
  std::string Sign(std::string_view payload) const;
  std::string key_;
  std::chrono::seconds lifetime_;
};

// The value of cookie `name` in a Cookie header, or empty.
std::string_view FindCookie(std::string_view header, std::string_view name);

// 32 random bytes, base64url without padding.
std::string RandomToken();

// Reads DATA_DIR/session_secret_key, creating it (0600) with a random key.
std::optional<std::string> LoadOrCreateSessionKey(const std::string& data_dir);

// Constant-time equality of two secrets.
bool SecretEquals(std::string_view a, std::string_view b);

}  // namespace quayd
