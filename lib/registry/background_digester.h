// Hashes an upload's bytes on a second thread while the request thread
// writes them to the upload area and receives the next chunk.
//
// One stream is bounded by the sum of its per-byte costs when a single thread
// receives, hashes and writes: without SHA extensions SHA-256 is the largest
// of them (~2.7 ms per MiB here), about as much as receiving and writing
// together. Overlapping the two nearly halves the time per byte of a large
// push. Small blobs do not gain (the handoff costs more than it saves, and
// concurrent small pushes already keep every core busy), so BlobUploadImpl
// starts one only past a size threshold.
//
// Update copies the chunk (a memcpy is far cheaper than hashing it) so the
// caller may reuse its buffer at once. Up to kQueued chunks wait for the
// hasher, so that neither side stalls on the other's jitter (one slot made
// each wait for the other at every chunk: issue 15); that bounds memory to
// kQueued chunks.
//
// Thread safety: one caller thread; the hashing thread is internal.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "quay/digest.h"

namespace quay::registry {

class BackgroundDigester {
 public:
  // Continues from `digester`'s state.
  explicit BackgroundDigester(Digester digester);
  ~BackgroundDigester();  // stops the thread; the state is discarded
  BackgroundDigester(const BackgroundDigester&) = delete;
  BackgroundDigester& operator=(const BackgroundDigester&) = delete;

  // Queues `n` bytes for hashing, after every byte queued before.
  void Update(const char* data, size_t n);
  // Waits until every queued byte is hashed, stops the thread and returns the
  // digester. The object is spent afterwards.
  Digester Take();

 private:
  void Loop();
  void Stop();

  static constexpr size_t kQueued = 4;

  Digester digester_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<char>> queue_;   // chunks not yet hashed; guarded by mu_
  std::vector<std::vector<char>> spare_;  // hashed chunks to reuse; guarded by mu_
  bool hashing_ = false;                  // the thread holds a chunk; guarded by mu_
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace quay::registry
