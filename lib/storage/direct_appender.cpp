#include "storage/direct_appender.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <system_error>

namespace quay::storage {
namespace {

// O_DIRECT wants buffer, offset and length aligned to the device's logical
// block; 4 KiB covers every disk we run on. A write the kernel still refuses
// (EINVAL) goes through the page cache instead.
constexpr uint64_t kBlock = 4096;
// Large enough that a request reaches the disk's sequential rate (1 MiB did
// as well as 4 or 8 MiB with dd oflag=direct here), small enough that a
// writer costs little memory.
constexpr size_t kBuffer = 1u << 20;
constexpr size_t kMaxBuffers = 4;
// Idle buffers kept for the next upload: their pages are already mapped, so
// a new upload does not fault in fresh memory (the cost this file avoids).
constexpr size_t kPoolKeep = 16;

class BufferPool {
 public:
  char* Take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        char* b = idle_.back();
        idle_.pop_back();
        return b;
      }
    }
    return static_cast<char*>(std::aligned_alloc(kBlock, kBuffer));
  }
  void Give(char* b) {
    {
      std::lock_guard lock(mu_);
      if (idle_.size() < kPoolKeep) {
        idle_.push_back(b);
        return;
      }
    }
    std::free(b);
  }

 private:
  std::mutex mu_;
  std::vector<char*> idle_;
};

BufferPool& Pool() {
  static BufferPool* pool = new BufferPool;  // never destroyed: used until exit
  return *pool;
}

// Runs `body` on `thread`, named for top -H and perf; false when no thread
// can be had (resource limits), and the caller does the work itself.
bool StartThread(std::thread& thread, const char* name, std::function<void()> body) {
  try {
    thread = std::thread([name, body = std::move(body)] {
      ::pthread_setname_np(::pthread_self(), name);
      body();
    });
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

int PwriteAll(int fd, const char* data, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return ENOSPC;  // no progress: treat as full
    data += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return 0;
}

}  // namespace

std::unique_ptr<DirectAppender> DirectAppender::Open(int direct_fd, int buffered_fd,
                                                     uint64_t size) {
  const uint64_t aligned = size & ~(kBlock - 1);
  std::unique_ptr<DirectAppender> a(new DirectAppender(direct_fd, buffered_fd, aligned));
  if (int rc = a->TakeBuffer(); rc != 0) {
    errno = rc;
    return nullptr;
  }
  if (size > aligned) {
    // The partial last block goes out again with the next aligned write.
    ssize_t r;
    do {
      r = ::pread(direct_fd, a->current_, kBlock, static_cast<off_t>(aligned));
    } while (r < 0 && errno == EINTR);
    if (r < 0) return nullptr;
    if (static_cast<uint64_t>(r) < size - aligned) {
      errno = EIO;
      return nullptr;
    }
    a->filled_ = static_cast<size_t>(size - aligned);
  }
  return a;
}

DirectAppender::DirectAppender(int direct_fd, int buffered_fd, uint64_t aligned_start)
    : direct_fd_(direct_fd), buffered_fd_(buffered_fd), current_offset_(aligned_start) {}

DirectAppender::~DirectAppender() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (hash_thread_.joinable()) hash_thread_.join();
  for (char* b : owned_) Pool().Give(b);
}

void DirectAppender::HashInto(Digester digester) {
  std::lock_guard lock(mu_);
  digester_ = std::make_unique<Digester>(std::move(digester));
  hashed_ = filled_;  // the bytes staged so far were hashed by the caller
}

void DirectAppender::WaitForHashing(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [this] { return hash_queue_.empty() && !hash_busy_; });
}

Digester DirectAppender::TakeDigester() {
  {
    std::unique_lock lock(mu_);
    WaitForHashing(lock);
  }
  if (current_ != nullptr) digester_->Update(current_ + hashed_, filled_ - hashed_);
  hashed_ = filled_;
  Digester d = std::move(*digester_);
  std::lock_guard lock(mu_);
  digester_.reset();
  return d;
}

void DirectAppender::Release(char* buffer) {
  for (auto it = refs_.begin(); it != refs_.end(); ++it) {
    if (it->first != buffer) continue;
    if (--it->second == 0) {
      refs_.erase(it);
      free_.push_back(buffer);
    }
    return;
  }
}

void DirectAppender::HashRun() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !hash_queue_.empty(); });
    if (hash_queue_.empty()) return;
    const HashPiece piece = hash_queue_.front();
    hash_queue_.pop_front();
    hash_busy_ = true;
    const bool skip = stop_;
    lock.unlock();
    if (!skip) digester_->Update(piece.buffer + piece.from, kBuffer - piece.from);
    lock.lock();
    hash_busy_ = false;
    Release(piece.buffer);
    cv_.notify_all();
  }
}

int DirectAppender::Append(const char* data, size_t n) {
  while (n > 0) {
    const size_t take = std::min(n, kBuffer - filled_);
    std::memcpy(current_ + filled_, data, take);
    filled_ += take;
    data += take;
    n -= take;
    if (filled_ == kBuffer) {
      if (int rc = Submit(); rc != 0) return rc;
    }
  }
  return 0;
}

int DirectAppender::Submit() {
  const Piece piece{current_, current_offset_};
  bool write_here = false;
  bool hash_here = false;
  {
    std::lock_guard lock(mu_);
    if (error_ != 0) return error_;
    queue_.push_back(piece);
    int refs = 1;
    if (digester_) {
      // No thread to be had: hash on this one.
      if (!hash_thread_.joinable())
        hash_here = !StartThread(hash_thread_, "quay-hash", [this] { HashRun(); });
      if (!hash_here) {
        hash_queue_.push_back({current_, hashed_});
        ++refs;
      }
    }
    refs_.emplace_back(current_, refs);
    // A hashed buffer is written at once, while it is hashed; otherwise the
    // thread waits for a second full buffer, so a small blob costs none.
    if (!thread_.joinable() && (queue_.size() >= 2 || digester_)) {
      write_here = !StartThread(thread_, "quay-write", [this] { Run(); });
    }
  }
  // Without the lock: no hashing thread runs (hash_here), so nothing else
  // touches digester_.
  if (hash_here) digester_->Update(current_ + hashed_, kBuffer - hashed_);
  cv_.notify_all();
  current_ = nullptr;
  filled_ = 0;
  hashed_ = 0;
  current_offset_ += kBuffer;
  if (int rc = TakeBuffer(); rc != 0) return rc;
  return write_here ? Flush() : 0;
}

int DirectAppender::TakeBuffer() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (error_ != 0) return error_;
    if (!free_.empty()) {
      current_ = free_.back();
      free_.pop_back();
      return 0;
    }
    if (owned_.size() < kMaxBuffers) {
      lock.unlock();
      char* b = Pool().Take();
      lock.lock();
      if (b == nullptr) {
        if (error_ == 0) error_ = ENOMEM;
        return error_;
      }
      owned_.push_back(b);
      current_ = b;
      return 0;
    }
    cv_.wait(lock);  // every buffer is queued: the thread returns one soon
  }
}

int DirectAppender::WritePiece(const Piece& p, size_t length) {
  size_t done = 0;
  while (done < length) {
    const ssize_t w =
        ::pwrite(direct_fd_, p.buffer + done, length - done, static_cast<off_t>(p.offset + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EINVAL) return errno;
      break;  // alignment refused: the rest through the page cache
    }
    if (w == 0) return ENOSPC;
    done += static_cast<size_t>(w);
    if (done % kBlock != 0) break;  // a short write left us unaligned
  }
  return PwriteAll(buffered_fd_, p.buffer + done, length - done, p.offset + done);
}

void DirectAppender::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left
    const Piece piece = queue_.front();
    queue_.pop_front();
    busy_ = true;
    const bool skip = error_ != 0 || stop_;
    lock.unlock();
    const int rc = skip ? 0 : WritePiece(piece, kBuffer);
    lock.lock();
    busy_ = false;
    if (rc != 0 && error_ == 0) error_ = rc;
    Release(piece.buffer);
    cv_.notify_all();
  }
}

int DirectAppender::Flush() {
  {
    std::unique_lock lock(mu_);
    if (thread_.joinable()) {
      cv_.wait(lock, [this] { return (queue_.empty() && !busy_) || error_ != 0; });
    }
    // Parked pieces may still be hashed: writing them below must not recycle
    // a buffer the hashing thread reads, and the tail is hashed after them.
    WaitForHashing(lock);
    // Without a thread, full buffers wait here (at most one, or the queue of
    // a thread that could not start): written now, in order.
    while (error_ == 0 && !queue_.empty()) {
      const Piece piece = queue_.front();
      queue_.pop_front();
      lock.unlock();
      const int rc = WritePiece(piece, kBuffer);
      lock.lock();
      if (rc != 0) error_ = rc;
      Release(piece.buffer);
    }
    if (error_ != 0) return error_;
  }
  if (digester_) {
    digester_->Update(current_ + hashed_, filled_ - hashed_);
    hashed_ = filled_;
  }
  const size_t aligned = filled_ & ~static_cast<size_t>(kBlock - 1);
  if (aligned > 0) {
    if (int rc = WritePiece({current_, current_offset_}, aligned); rc != 0) {
      std::lock_guard lock(mu_);
      error_ = rc;
      return rc;
    }
  }
  const size_t tail = filled_ - aligned;
  if (tail > 0) {
    if (int rc = PwriteAll(buffered_fd_, current_ + aligned, tail, current_offset_ + aligned);
        rc != 0) {
      std::lock_guard lock(mu_);
      error_ = rc;
      return rc;
    }
  }
  // The tail stays at the front of the buffer: the next aligned write covers
  // its block again, this time with O_DIRECT.
  std::memmove(current_, current_ + aligned, tail);
  current_offset_ += aligned;
  filled_ = tail;
  hashed_ = tail;  // every staged byte is hashed by now, when hashing
  return 0;
}

}  // namespace quay::storage
