#include "quay/digest.h"

#include <openssl/evp.h>

#include <cstring>
#include <string>

namespace quay {
namespace {

constexpr std::string_view kSha256Name = "sha256";
constexpr std::string_view kSha512Name = "sha512";
constexpr size_t kSha256HexLength = 64;
constexpr size_t kSha512HexLength = 128;

// Error messages quote untrusted input; cap it so a hostile client cannot make
// us build (and log) megabyte-long messages.
constexpr size_t kMaxQuoted = 64;

std::string Quote(std::string_view s) {
  std::string out = "\"";
  out.append(s.substr(0, kMaxQuoted));
  if (s.size() > kMaxQuoted) out += "...";
  out += '"';
  return out;
}

const EVP_MD* Md(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kSha512 ? EVP_sha512() : EVP_sha256();
}

std::string_view Name(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kSha512 ? kSha512Name : kSha256Name;
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// OCI: algorithm-component (algorithm-separator algorithm-component)*,
// component = [a-z0-9]+, separator = [+._-].
bool IsWellFormedAlgorithm(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (IsLowerAlnum(c)) continue;
    if (c != '+' && c != '.' && c != '_' && c != '-') return false;
    if (!IsLowerAlnum(s[i - 1])) return false;  // two separators in a row
  }
  return true;
}

// OCI: encoded = [a-zA-Z0-9=_-]+
bool IsWellFormedEncoded(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '=' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status CheckHex(std::string_view algorithm, std::string_view hex, size_t want) {
  if (hex.size() != want) {
    return Status::InvalidArgument(
        Subject::kDigest, std::string(algorithm) + " digest must have " + std::to_string(want) +
                              " hex characters, got " + std::to_string(hex.size()));
  }
  for (char c : hex) {
    if (!IsLowerHex(c)) {
      return Status::InvalidArgument(
          Subject::kDigest,
          std::string(algorithm) + " digest must be lower-case hex: " + Quote(hex));
    }
  }
  return Status::Ok();
}

// Writes "algorithm:" followed by the lower-case hex of `raw` into one string,
// allocated once at its final size.
std::string Format(DigestAlgorithm algorithm, const unsigned char* raw, size_t n) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string_view name = Name(algorithm);
  std::string out(name.size() + 1 + 2 * n, '\0');
  std::memcpy(out.data(), name.data(), name.size());
  out[name.size()] = ':';
  char* p = out.data() + name.size() + 1;
  for (size_t i = 0; i < n; ++i) {
    *p++ = kHexDigits[raw[i] >> 4];
    *p++ = kHexDigits[raw[i] & 0x0f];
  }
  return out;
}

}  // namespace

Result<Digest> Digest::Parse(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument(Subject::kDigest, "digest must not be empty");
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument(Subject::kDigest,
                                   "digest must have the form algorithm:hex, got " + Quote(text));
  }
  std::string_view algorithm = text.substr(0, colon);
  std::string_view encoded = text.substr(colon + 1);

  if (algorithm == kSha256Name) {
    if (Status s = CheckHex(algorithm, encoded, kSha256HexLength); !s.ok()) return s;
    return Digest(DigestAlgorithm::kSha256, std::string(text));
  }
  if (algorithm == kSha512Name) {
    if (Status s = CheckHex(algorithm, encoded, kSha512HexLength); !s.ok()) return s;
    return Digest(DigestAlgorithm::kSha512, std::string(text));
  }
  if (!IsWellFormedAlgorithm(algorithm)) {
    return Status::InvalidArgument(Subject::kDigest,
                                   "digest algorithm " + Quote(algorithm) + " is malformed");
  }
  if (!IsWellFormedEncoded(encoded)) {
    return Status::InvalidArgument(Subject::kDigest, "digest encoding " + Quote(encoded) +
                                                         " has characters outside [a-zA-Z0-9=_-]");
  }
  // Well-formed per OCI, so the client is not wrong; we just cannot verify it.
  return Status::Unsupported(Subject::kDigest,
                             "digest algorithm " + Quote(algorithm) + " is not supported");
}

Digest Digest::Of(std::string_view data, DigestAlgorithm algorithm) {
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), raw, &n, Md(algorithm), nullptr) != 1) return Digest();
  return Digest(algorithm, Format(algorithm, raw, n));
}

std::string_view Digest::algorithm_name() const { return Name(algorithm_); }

std::string_view Digest::hex() const {
  size_t colon = value_.find(':');
  if (colon == std::string::npos) return {};
  return std::string_view(value_).substr(colon + 1);
}

// The context is created once per Digester and re-initialised in place by
// Reset(), so the per-chunk path (Update) never allocates.
struct Digester::State {
  EVP_MD_CTX* ctx = nullptr;
  bool ready = false;  // false after an OpenSSL failure or once Finish() ran

  State() : ctx(EVP_MD_CTX_new()) {}
  ~State() { EVP_MD_CTX_free(ctx); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
};

Digester::Digester(DigestAlgorithm algorithm)
    : algorithm_(algorithm), state_(std::make_unique<State>()) {
  Reset();
}

Digester::~Digester() = default;
Digester::Digester(Digester&&) noexcept = default;
Digester& Digester::operator=(Digester&&) noexcept = default;

void Digester::Update(const void* data, size_t size) {
  bytes_ += size;
  if (!state_ || !state_->ready) return;
  if (EVP_DigestUpdate(state_->ctx, data, size) != 1) state_->ready = false;
}

Digest Digester::Finish() {
  // An empty Digest equals no real digest, so a caller comparing it against a
  // claimed one reports a mismatch instead of accepting unverified bytes.
  if (!state_ || !state_->ready) return Digest();
  state_->ready = false;
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(state_->ctx, raw, &n) != 1) return Digest();
  return Digest(algorithm_, Format(algorithm_, raw, n));
}

void Digester::Reset() {
  bytes_ = 0;
  if (!state_) state_ = std::make_unique<State>();
  state_->ready =
      state_->ctx != nullptr && EVP_DigestInit_ex(state_->ctx, Md(algorithm_), nullptr) == 1;
}

}  // namespace quay
