// Content digests ("sha256:<64 hex>", "sha512:<128 hex>") and a streaming
// digester that hashes bytes once as they pass through.
//
// Thread safety: Digest is a value. A Digester is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "quay/export.h"
#include "quay/status.h"

namespace quay {

enum class DigestAlgorithm : unsigned char { kSha256, kSha512 };

class QUAY_EXPORT Digest {
 public:
  Digest() = default;  // empty; only useful as a placeholder

  // Parses "algorithm:hex" per the OCI grammar. Accepts sha256 (64 lower-case
  // hex) and sha512 (128 lower-case hex). Error: InvalidArgument(kDigest) for a
  // malformed string, Unsupported(kDigest) for another well-formed algorithm.
  static Result<Digest> Parse(std::string_view text);

  // Digest of a complete in-memory buffer (manifests; small data only).
  static Digest Of(std::string_view data, DigestAlgorithm algorithm = DigestAlgorithm::kSha256);

  bool empty() const { return value_.empty(); }
  DigestAlgorithm algorithm() const { return algorithm_; }
  std::string_view algorithm_name() const;           // "sha256"
  std::string_view hex() const;                      // the part after ':'
  const std::string& str() const { return value_; }  // "sha256:..."

  friend bool operator==(const Digest& a, const Digest& b) { return a.value_ == b.value_; }
  friend bool operator!=(const Digest& a, const Digest& b) { return a.value_ != b.value_; }
  friend bool operator<(const Digest& a, const Digest& b) { return a.value_ < b.value_; }

 private:
  Digest(DigestAlgorithm a, std::string v) : algorithm_(a), value_(std::move(v)) {}
  friend class Digester;

  DigestAlgorithm algorithm_ = DigestAlgorithm::kSha256;
  std::string value_;
};

// Incremental hashing. Feed bytes with Update(), read the result with Finish()
// (after which the digester is spent until Reset()).
class QUAY_EXPORT Digester {
 public:
  explicit Digester(DigestAlgorithm algorithm = DigestAlgorithm::kSha256);
  ~Digester();
  Digester(Digester&&) noexcept;
  Digester& operator=(Digester&&) noexcept;
  Digester(const Digester&) = delete;
  Digester& operator=(const Digester&) = delete;

  void Update(const void* data, size_t size);
  Digest Finish();
  void Reset();

  DigestAlgorithm algorithm() const { return algorithm_; }
  uint64_t bytes() const { return bytes_; }  // fed since construction / Reset()

 private:
  struct State;
  DigestAlgorithm algorithm_;
  uint64_t bytes_ = 0;
  std::unique_ptr<State> state_;
};

}  // namespace quay

template <>
struct std::hash<quay::Digest> {
  size_t operator()(const quay::Digest& d) const noexcept {
    return std::hash<std::string>()(d.str());
  }
};
