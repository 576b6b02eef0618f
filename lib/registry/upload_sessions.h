// Bookkeeping for open upload sessions inside one process: which sessions a
// request currently holds (one at a time per session), and the hash state of
// idle sessions so a chunked upload hashes each byte exactly once.
//
// Hash state is a cache, not the truth: the database's offset is. After a
// restart (or when a request fails mid-body) the state is rebuilt by hashing
// the bytes the store holds up to the saved offset.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "quay/digest.h"

namespace quay::registry {

class UploadSessions {
 public:
  // False if another request holds the session.
  bool TryAcquire(const std::string& id);
  void Release(const std::string& id);

  // Parks the hash of the first `offset` bytes of session `id`.
  void Park(const std::string& id, uint64_t offset, Digester digester);
  // The parked hash state if it covers exactly `offset` bytes; forgets it either way.
  std::optional<Digester> Take(const std::string& id, uint64_t offset);
  void Forget(const std::string& id);

 private:
  struct Parked {
    uint64_t offset;
    Digester digester;
  };
  std::mutex mu_;
  std::unordered_set<std::string> busy_;
  std::unordered_map<std::string, Parked> parked_;
};

}  // namespace quay::registry
