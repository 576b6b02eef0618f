#include "registry/digest_locks.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/private_files.h"

namespace quay::registry {

DigestLocks::~DigestLocks() {
  if (fd_ >= 0) ::close(fd_);
}

Status DigestLocks::ShareThroughFile(const std::string& path) {
#ifdef F_OFD_SETLK
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, core::kPrivateFileMode);
  if (fd < 0) {
    return Status::Unavailable("failed to open lock file " + path + ": " + std::strerror(errno));
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
#else
  // Without open-file-description locks (not Linux) only threads of one
  // process are excluded; docs/architecture.md says so.
  (void)path;
#endif
  return Status::Ok();
}

size_t DigestLocks::StripeOf(const Digest& digest) {
  // Digests are uniform: their first hex digits spread evenly.
  const std::string_view hex = digest.hex();
  size_t v = 0;
  for (size_t i = 0; i < hex.size() && i < 6; ++i) {
    const char c = hex[i];
    v = v * 16 + static_cast<size_t>(c >= 'a' ? c - 'a' + 10 : c - '0');
  }
  return v % kStripes;
}

bool DigestLocks::SharedLock(size_t stripe, bool wait, std::string* error) {
  if (advisory_) {
    const int64_t key = db::kDigestStripeKeys + static_cast<int64_t>(stripe);
    if (wait) {
      Status s = advisory_->Lock(key);
      if (!s.ok() && error != nullptr) *error = s.message();
      return s.ok();
    }
    Result<bool> taken = advisory_->TryLock(key);
    return taken.ok() && *taken;
  }
#ifdef F_OFD_SETLK
  if (fd_ < 0) return true;
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(stripe);
  fl.l_len = 1;
  // One open file description for the whole process: the stripe's mutex
  // makes sure only one thread at a time holds (and releases) each byte.
  while (::fcntl(fd_, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) < 0) {
    if (errno != EINTR) {
      if (error != nullptr) *error = std::strerror(errno);
      return false;
    }
  }
#else
  (void)stripe;
  (void)wait;
  (void)error;
#endif
  return true;
}

void DigestLocks::SharedUnlock(size_t stripe) {
  if (advisory_) {
    advisory_->Unlock(db::kDigestStripeKeys + static_cast<int64_t>(stripe));
    return;
  }
#ifdef F_OFD_SETLK
  if (fd_ < 0) return;
  struct flock fl {};
  fl.l_type = F_UNLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(stripe);
  fl.l_len = 1;
  while (::fcntl(fd_, F_OFD_SETLK, &fl) < 0 && errno == EINTR) {
  }
#else
  (void)stripe;
#endif
}

void DigestLocks::Unlock(size_t stripe) {
  SharedUnlock(stripe);
  stripes_[stripe].unlock();
}

Result<DigestLocks::Held> DigestLocks::Lock(const Digest& digest) {
  const size_t stripe = StripeOf(digest);
  stripes_[stripe].lock();
  std::string error;
  if (!SharedLock(stripe, /*wait=*/true, &error)) {
    stripes_[stripe].unlock();
    return Status::Unavailable("failed to lock blob digest: " + error);
  }
  Held held;
  held.owner_ = this;
  held.stripes_.push_back(stripe);
  return held;
}

DigestLocks::Held DigestLocks::TryLock(const std::vector<Digest>& digests,
                                       std::vector<Digest>* locked) {
  std::vector<size_t> wanted;
  wanted.reserve(digests.size());
  for (const auto& d : digests) wanted.push_back(StripeOf(d));
  std::vector<size_t> distinct = wanted;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());

  Held held;
  held.owner_ = this;
  if (advisory_) {
    // The database's half for the whole batch in one round trip.
    std::vector<size_t> mine;
    std::vector<int64_t> keys;
    for (const size_t stripe : distinct) {
      if (!stripes_[stripe].try_lock()) continue;
      mine.push_back(stripe);
      keys.push_back(db::kDigestStripeKeys + static_cast<int64_t>(stripe));
    }
    const std::vector<bool> taken = advisory_->TryLockEach(keys);
    for (size_t i = 0; i < mine.size(); ++i) {
      if (taken[i]) {
        held.stripes_.push_back(mine[i]);
      } else {
        stripes_[mine[i]].unlock();
      }
    }
  } else {
    for (const size_t stripe : distinct) {
      if (!stripes_[stripe].try_lock()) continue;
      if (!SharedLock(stripe, /*wait=*/false, nullptr)) {
        stripes_[stripe].unlock();
        continue;
      }
      held.stripes_.push_back(stripe);
    }
  }
  locked->clear();
  for (size_t i = 0; i < digests.size(); ++i) {
    if (std::binary_search(held.stripes_.begin(), held.stripes_.end(), wanted[i])) {
      locked->push_back(digests[i]);
    }
  }
  return held;
}

DigestLocks::Held::Held(Held&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), stripes_(std::move(other.stripes_)) {}

DigestLocks::Held& DigestLocks::Held::operator=(Held&& other) noexcept {
  if (this != &other) {
    Release();
    owner_ = std::exchange(other.owner_, nullptr);
    stripes_ = std::move(other.stripes_);
  }
  return *this;
}

DigestLocks::Held::~Held() { Release(); }

void DigestLocks::Held::Release() {
  if (owner_ == nullptr) return;
  if (owner_->advisory_ && stripes_.size() > 1) {
    // A batch's database half in one round trip, then the mutexes.
    std::vector<int64_t> keys;
    keys.reserve(stripes_.size());
    for (const size_t stripe : stripes_) {
      keys.push_back(db::kDigestStripeKeys + static_cast<int64_t>(stripe));
    }
    owner_->advisory_->UnlockEach(keys);
    for (const size_t stripe : stripes_) owner_->stripes_[stripe].unlock();
    stripes_.clear();
    owner_ = nullptr;
    return;
  }
  for (const size_t stripe : stripes_) owner_->Unlock(stripe);
  stripes_.clear();
  owner_ = nullptr;
}

}  // namespace quay::registry
