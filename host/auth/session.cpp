#include "host/auth/session.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace quayd {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64Url(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  while (i + 2 < in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
    i += 3;
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> UnBase64Url(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = c ? std::char_traits<char>::find(kB64, 64, c) : nullptr;
    if (p == nullptr) return std::nullopt;
    acc = (acc << 6) | uint32_t(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace

bool SecretEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no CSPRNG: nothing is safe
  return Base64Url(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

SessionCodec::SessionCodec(std::string key, std::chrono::seconds lifetime)
    : key_(std::move(key)), lifetime_(lifetime) {}

std::string SessionCodec::Sign(std::string_view payload) const {
  unsigned char mac[32];
  unsigned int len = sizeof mac;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  return Base64Url(std::string_view(reinterpret_cast<char*>(mac), len));
}

std::string SessionCodec::Encode(const Session& s) const {
  std::string payload =
      Base64Url(s.user + '\n' + s.account_uuid + '\n' + std::to_string(s.login_time) + '\n' +
                s.csrf_token + '\n' + std::to_string(s.expires_at));
  return payload + '.' + Sign(payload);
}

std::optional<Session> SessionCodec::Decode(std::string_view cookie, int64_t now) const {
  const size_t dot = cookie.find('.');
  if (dot == std::string_view::npos || cookie.size() > 4096) return std::nullopt;
  const std::string_view payload = cookie.substr(0, dot);
  if (!SecretEquals(Sign(payload), cookie.substr(dot + 1))) return std::nullopt;
  std::optional<std::string> text = UnBase64Url(payload);
  if (!text) return std::nullopt;
  std::vector<std::string> parts;
  std::stringstream in(*text);
  for (std::string part; std::getline(in, part, '\n');) parts.push_back(part);
  // Five fields; a four-field cookie predates the account uuid and is
  // refused (its user signs in again).
  if (parts.size() != 5) return std::nullopt;
  Session s;
  s.user = parts[0];
  s.account_uuid = parts[1];
  try {
    s.login_time = std::stoll(parts[2]);
    s.expires_at = std::stoll(parts[4]);
  } catch (...) {
    return std::nullopt;
  }
  s.csrf_token = parts[3];
  if (s.expires_at <= now || s.csrf_token.empty()) return std::nullopt;
  if (s.user.empty() != s.account_uuid.empty()) return std::nullopt;
  return s;
}

Session SessionCodec::Start(std::string user, std::string account_uuid, int64_t now) const {
  Session s;
  s.user = std::move(user);
  s.account_uuid = std::move(account_uuid);
  s.login_time = now;
  s.csrf_token = RandomToken();
  s.expires_at = now + lifetime_.count();
  return s;
}

std::string SessionCodec::SetCookie(const Session& session, bool secure) const {
  std::string out =
      std::string(kSessionCookie) + "=" + Encode(session) +
      "; HttpOnly; SameSite=Lax; Path=/; Max-Age=" + std::to_string(lifetime_.count());
  if (secure) out += "; Secure";
  return out;
}

std::string SessionCodec::ClearCookie() {
  return std::string(kSessionCookie) + "=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0";
}

std::string SessionCodec::Seal(std::string_view payload) const {
  std::string body = Base64Url(payload);
  return body + '.' + Sign("page:" + body);
}

std::optional<std::string> SessionCodec::Unseal(std::string_view token) const {
  const size_t dot = token.find('.');
  if (dot == std::string_view::npos || token.size() > 4096) return std::nullopt;
  const std::string body(token.substr(0, dot));
  if (!SecretEquals(Sign("page:" + body), token.substr(dot + 1))) return std::nullopt;
  return UnBase64Url(body);
}

std::string_view FindCookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view pair = header.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
        pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    if (end == std::string_view::npos) break;
    header.remove_prefix(end + 1);
  }
  return {};
}

std::optional<std::string> LoadOrCreateSessionKey(const std::string& data_dir) {
  const std::string path = data_dir + "/session_secret_key";
  {
    std::ifstream in(path);
    std::string key;
    if (in && std::getline(in, key) && key.size() >= 32) return key;
  }
  std::string key = RandomToken();
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return std::nullopt;
  std::string line = key + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fdatasync(fd) == 0;
  ::close(fd);
  // link() fails if another process created it first: then read theirs.
  if (!ok) return std::nullopt;
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    std::ifstream in(path);
    std::string theirs;
    if (in && std::getline(in, theirs) && theirs.size() >= 32) return theirs;
    return std::nullopt;
  }
  ::unlink(tmp.c_str());
  return key;
}

}  // namespace quayd
