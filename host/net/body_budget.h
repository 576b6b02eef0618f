// The memory that request bodies held whole in memory (manifest PUTs, /api/v1
// JSON and /oauth forms) may take at once: a total and a share per client
// address. A request reserves its declared Content-Length (or its route's cap
// when chunked) before reading a byte; past either limit it is refused (429)
// without reading the body, so slow clients claiming large bodies cannot
// exhaust memory or starve other clients. Streamed bodies (blob uploads) are
// not counted: they never sit in memory.
//
// Thread-safe. Leases give their bytes back when destroyed.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace quayd {

class BodyBudget {
 public:
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { Release(); }

    explicit operator bool() const { return granted_; }
    void Release();

   private:
    friend class BodyBudget;
    BodyBudget* budget_ = nullptr;  // null: nothing reserved (a zero-byte lease)
    std::string client_;
    uint64_t bytes_ = 0;
    bool granted_ = false;
  };

  // 0 for either limit means unlimited.
  BodyBudget(uint64_t total_bytes, uint64_t per_client_bytes)
      : total_limit_(total_bytes), per_client_limit_(per_client_bytes) {}
  BodyBudget(const BodyBudget&) = delete;
  BodyBudget& operator=(const BodyBudget&) = delete;

  // Reserves `bytes` for `client`; a false lease when the total or the
  // client's share would be exceeded.
  Lease Reserve(std::string_view client, uint64_t bytes);

  uint64_t in_use() const;
  uint64_t in_use(std::string_view client) const;

 private:
  void Give(const std::string& client, uint64_t bytes);

  const uint64_t total_limit_;
  const uint64_t per_client_limit_;
  mutable std::mutex mu_;
  uint64_t total_ = 0;
  std::unordered_map<std::string, uint64_t> per_client_;  // only clients holding bytes
};

}  // namespace quayd
