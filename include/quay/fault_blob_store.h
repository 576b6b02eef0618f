// A BlobStore wrapper that fails chosen operations, to prove that a failure at
// any step leaves nothing partial visible (like LevelDB's ErrorEnv).
#pragma once

#include <atomic>
#include <memory>

#include "quay/export.h"
#include "quay/storage.h"

namespace quay {

class QUAY_EXPORT FaultInjectingBlobStore final : public BlobStore {
 public:
  explicit FaultInjectingBlobStore(std::shared_ptr<BlobStore> inner);

  // The n-th (1-based) call from now of Append / Sync / Commit (or Publish) fails with
  // Unavailable; 0 disables. Each counter is one-shot.
  void FailNthAppend(int n);
  void FailNthSync(int n);
  void FailNthCommit(int n);
  int faults_injected() const { return injected_.load(); }

  Result<std::unique_ptr<UploadWriter>> CreateUpload(std::string_view id) override;
  Result<std::unique_ptr<UploadWriter>> OpenUpload(std::string_view id, uint64_t keep) override;
  Result<std::unique_ptr<BlobReader>> ReadUpload(std::string_view id) override;
  Status DeleteUpload(std::string_view id) override;
  Result<std::vector<std::string>> ListUploads() override;
  Result<std::unique_ptr<BlobReader>> OpenBlob(const Digest& digest) override;
  Result<uint64_t> BlobSize(const Digest& digest) override;
  Status DeleteBlob(const Digest& digest) override;
  Result<std::vector<Digest>> ListBlobs() override;

  // Used by the writers it hands out.
  bool ShouldFailAppend();
  bool ShouldFailSync();
  bool ShouldFailCommit();

 private:
  std::shared_ptr<BlobStore> inner_;
  std::atomic<int> append_countdown_{0};
  std::atomic<int> sync_countdown_{0};
  std::atomic<int> commit_countdown_{0};
  std::atomic<int> injected_{0};
};

}  // namespace quay
