// Appends to an upload file with O_DIRECT, through page-aligned staging
// buffers, for the filesystem store's durable writers (issue 15).
//
// Why not the page cache: the bytes of an upload are read back rarely (a
// pull reads the blob later, long after its pages would have been evicted
// by other pushes), and every byte written through the page cache costs a
// copy into a page that must be found first. On a virtual machine whose
// free memory the host has reclaimed (free page reporting), the first touch
// of such a page is a host page fault: buffered writes of new files ran at
// 250-300 MB/s there, O_DIRECT at 1.0-1.3 GB/s, on the same disk.
//
// Full buffers go to a writer thread (started at the second full buffer, so
// a small blob costs no thread) while the caller fills the next, so the
// disk works while the body is still arriving; at most kMaxBuffers are in
// use. Flush() writes what is left: whole 4 KiB blocks with O_DIRECT, the
// unaligned tail through the ordinary descriptor. Errors are sticky: after
// one, every call returns it.
//
// HashInto() hands the appender an upload's hash state: from then on each
// full buffer is also hashed, on a hashing thread, from the staging buffer
// itself while the writer thread writes it. The request thread then copies
// each byte once (into the staging buffer) instead of twice (for the hasher
// and for the disk); on two cores shared with the client, that copy was a
// tenth of a large push's CPU (issue 15).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "quay/digest.h"

namespace quay::storage {

class DirectAppender {
 public:
  // `direct_fd` is the file opened with O_DIRECT, `buffered_fd` the same file
  // opened without; neither is owned. The file holds `size` bytes. Returns
  // null (errno set) if the partial last block cannot be read back.
  static std::unique_ptr<DirectAppender> Open(int direct_fd, int buffered_fd, uint64_t size);
  ~DirectAppender();  // stops the thread; bytes not flushed are dropped
  DirectAppender(const DirectAppender&) = delete;
  DirectAppender& operator=(const DirectAppender&) = delete;

  // 0 or an errno value. The bytes are in the file once Flush() returns 0.
  int Append(const char* data, size_t n);
  int Flush();

  // Every byte appended from now on is fed to `digester` too.
  void HashInto(Digester digester);
  bool hashing() const { return digester_ != nullptr; }
  // The state after every byte appended so far (hashing those still
  // pending); the appender stops hashing. Only while hashing().
  Digester TakeDigester();

 private:
  struct Piece {
    char* buffer;
    uint64_t offset;  // file offset of buffer[0], block-aligned
  };
  struct HashPiece {
    char* buffer;
    size_t from;  // the bytes before it were hashed before HashInto()
  };

  DirectAppender(int direct_fd, int buffered_fd, uint64_t aligned_start);
  int TakeBuffer();  // fills current_, waiting for one if needed
  int Submit();      // hands a full current_ to the threads (or parks it)
  int WritePiece(const Piece& p, size_t length);  // on the calling thread
  void Run();                                     // the writer thread
  void HashRun();                                 // the hashing thread
  void Release(char* buffer);                     // a stage is done with `buffer`; mu_ held
  void WaitForHashing(std::unique_lock<std::mutex>& lock);

  const int direct_fd_;
  const int buffered_fd_;
  char* current_ = nullptr;   // being filled
  size_t filled_ = 0;         // bytes in current_
  size_t hashed_ = 0;         // bytes at the front of current_ already hashed
  uint64_t current_offset_;   // file offset of current_[0]
  std::vector<char*> owned_;  // every buffer this appender took from the pool

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Piece> queue_;                  // full buffers not yet written; guarded by mu_
  std::vector<char*> free_;                  // buffers no stage uses; guarded by mu_
  std::vector<std::pair<char*, int>> refs_;  // stages still using a buffer; guarded by mu_
  bool busy_ = false;                        // the writer thread is writing a piece; guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  int error_ = 0;                            // the first error; guarded by mu_
  std::thread thread_;
  // Hashing: digester_ is used by the hashing thread only while a piece is
  // queued or being hashed, by the caller only when neither is.
  std::unique_ptr<Digester> digester_;
  std::deque<HashPiece> hash_queue_;  // guarded by mu_
  bool hash_busy_ = false;            // guarded by mu_
  std::thread hash_thread_;
};

}  // namespace quay::storage
