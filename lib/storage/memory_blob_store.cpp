// The memory driver: two maps behind one mutex.
//
// Blobs are immutable std::shared_ptr<const std::string>, so a reader holds its
// own reference and keeps reading after DeleteBlob (the same guarantee an open
// file descriptor gives the filesystem driver). Uploads are growing strings
// owned by the map; a writer finds its upload again under the lock on every
// call, so DeleteUpload (or a delete and re-create under the same id) while a
// writer is alive turns that writer's calls into NotFound instead of silently
// writing to bytes nobody can see.
#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "quay/storage.h"
#include "storage/upload_id_validation.h"

namespace quay {
namespace {

struct Upload {
  std::string bytes;
};

struct MemoryState {
  std::mutex mu;
  std::map<Digest, std::shared_ptr<const std::string>> blobs;
  std::map<std::string, std::shared_ptr<Upload>, std::less<>> uploads;
};

class MemoryBlobReader final : public BlobReader {
 public:
  explicit MemoryBlobReader(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}

  uint64_t size() const override { return bytes_->size(); }

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    if (offset >= bytes_->size()) return size_t{0};
    const size_t count = std::min<uint64_t>(n, bytes_->size() - offset);
    std::memcpy(buf, bytes_->data() + offset, count);
    return count;
  }

 private:
  std::shared_ptr<const std::string> bytes_;
};

class MemoryUploadWriter final : public UploadWriter {
 public:
  MemoryUploadWriter(std::shared_ptr<MemoryState> state, std::string id,
                     std::shared_ptr<Upload> upload)
      : state_(std::move(state)),
        id_(std::move(id)),
        upload_(std::move(upload)),
        size_(upload_->bytes.size()) {}

  uint64_t size() const override { return size_; }

  Status Append(const char* data, size_t n) override {
    std::lock_guard lock(state_->mu);
    if (Status s = CheckOwnedLocked(); !s.ok()) return s;
    upload_->bytes.append(data, n);
    size_ = upload_->bytes.size();
    return Status::Ok();
  }

  Status Commit(const Digest& digest) override {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    std::lock_guard lock(state_->mu);
    if (Status s = CheckOwnedLocked(); !s.ok()) return s;
    if (!state_->blobs.contains(digest)) {
      state_->blobs.emplace(digest, std::make_shared<const std::string>(std::move(upload_->bytes)));
    }
    state_->uploads.erase(id_);
    upload_.reset();
    return Status::Ok();
  }

  // The blob gets a copy; the upload stays until DeleteUpload, as on disk.
  Result<bool> Publish(const Digest& digest) override {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    std::lock_guard lock(state_->mu);
    if (Status s = CheckOwnedLocked(); !s.ok()) return s;
    const bool created =
        state_->blobs.emplace(digest, std::make_shared<const std::string>(upload_->bytes)).second;
    upload_.reset();
    return created;
  }

 private:
  // The upload must still be the one this writer opened: it may have been
  // committed by this writer, deleted, or replaced by another CreateUpload.
  Status CheckOwnedLocked() const {
    if (!upload_) return Status::NotFound(Subject::kUpload, "upload already committed");
    auto it = state_->uploads.find(id_);
    if (it == state_->uploads.end() || it->second != upload_) {
      return Status::NotFound(Subject::kUpload, "upload was removed");
    }
    return Status::Ok();
  }

  std::shared_ptr<MemoryState> state_;
  std::string id_;
  std::shared_ptr<Upload> upload_;  // null once committed
  uint64_t size_;
};

class MemoryBlobStore final : public BlobStore {
 public:
  Result<std::unique_ptr<UploadWriter>> CreateUpload(std::string_view id) override {
    if (Status s = storage::ValidateUploadId(id); !s.ok()) return s;
    auto upload = std::make_shared<Upload>();
    {
      std::lock_guard lock(state_->mu);
      if (!state_->uploads.emplace(std::string(id), upload).second) {
        return Status::Conflict(Subject::kUpload, "upload already exists");
      }
    }
    return std::unique_ptr<UploadWriter>(
        std::make_unique<MemoryUploadWriter>(state_, std::string(id), std::move(upload)));
  }

  Result<std::unique_ptr<UploadWriter>> OpenUpload(std::string_view id, uint64_t keep) override {
    if (Status s = storage::ValidateUploadId(id); !s.ok()) return s;
    std::shared_ptr<Upload> upload;
    {
      std::lock_guard lock(state_->mu);
      auto it = state_->uploads.find(id);
      if (it == state_->uploads.end()) return Status::NotFound(Subject::kUpload, "upload unknown");
      if (it->second->bytes.size() < keep) {
        return Status::RangeInvalid(Subject::kUpload, "upload holds fewer bytes than requested");
      }
      it->second->bytes.resize(keep);
      upload = it->second;
    }
    return std::unique_ptr<UploadWriter>(
        std::make_unique<MemoryUploadWriter>(state_, std::string(id), std::move(upload)));
  }

  Result<std::unique_ptr<BlobReader>> ReadUpload(std::string_view id) override {
    if (Status s = storage::ValidateUploadId(id); !s.ok()) return s;
    std::shared_ptr<const std::string> snapshot;
    {
      std::lock_guard lock(state_->mu);
      auto it = state_->uploads.find(id);
      if (it == state_->uploads.end()) return Status::NotFound(Subject::kUpload, "upload unknown");
      // A copy: the upload keeps growing, the reader must not see it move.
      snapshot = std::make_shared<const std::string>(it->second->bytes);
    }
    return std::unique_ptr<BlobReader>(std::make_unique<MemoryBlobReader>(std::move(snapshot)));
  }

  Status DeleteUpload(std::string_view id) override {
    if (Status s = storage::ValidateUploadId(id); !s.ok()) return s;
    std::lock_guard lock(state_->mu);
    if (auto it = state_->uploads.find(id); it != state_->uploads.end()) state_->uploads.erase(it);
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListUploads() override {
    std::vector<std::string> ids;
    std::lock_guard lock(state_->mu);
    ids.reserve(state_->uploads.size());
    for (const auto& [id, upload] : state_->uploads) ids.push_back(id);
    return ids;
  }

  Result<std::unique_ptr<BlobReader>> OpenBlob(const Digest& digest) override {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    std::shared_ptr<const std::string> bytes;
    {
      std::lock_guard lock(state_->mu);
      auto it = state_->blobs.find(digest);
      if (it == state_->blobs.end()) return Status::NotFound(Subject::kBlob, "blob unknown");
      bytes = it->second;
    }
    return std::unique_ptr<BlobReader>(std::make_unique<MemoryBlobReader>(std::move(bytes)));
  }

  Result<uint64_t> BlobSize(const Digest& digest) override {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    std::lock_guard lock(state_->mu);
    auto it = state_->blobs.find(digest);
    if (it == state_->blobs.end()) return Status::NotFound(Subject::kBlob, "blob unknown");
    return uint64_t{it->second->size()};
  }

  Status DeleteBlob(const Digest& digest) override {
    if (digest.empty()) return Status::InvalidArgument(Subject::kDigest, "empty digest");
    std::lock_guard lock(state_->mu);
    state_->blobs.erase(digest);
    return Status::Ok();
  }

  Result<std::vector<Digest>> ListBlobs() override {
    std::vector<Digest> digests;
    std::lock_guard lock(state_->mu);
    digests.reserve(state_->blobs.size());
    for (const auto& [digest, bytes] : state_->blobs) digests.push_back(digest);
    return digests;
  }

 private:
  // Shared with the writers, which may outlive the store object itself.
  std::shared_ptr<MemoryState> state_ = std::make_shared<MemoryState>();
};

}  // namespace

std::shared_ptr<BlobStore> NewMemoryBlobStore() { return std::make_shared<MemoryBlobStore>(); }

}  // namespace quay
