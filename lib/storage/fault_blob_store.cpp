// FaultInjectingBlobStore: every call delegates to the inner store, except that
// the writers it hands out consult the store's countdowns first. An injected
// fault happens *before* delegation, so it performs nothing: the test then
// proves the caller copes with a failure that left the store untouched.
//
// Writers keep a plain pointer to the store (the header gives the store no
// shared ownership of itself), so they must not outlive it; tests own both.
#include "quay/fault_blob_store.h"

#include <utility>

namespace quay {
namespace {

Status InjectedFault() { return Status::Unavailable("injected fault"); }

class FaultInjectingUploadWriter final : public UploadWriter {
 public:
  FaultInjectingUploadWriter(FaultInjectingBlobStore* store, std::unique_ptr<UploadWriter> inner)
      : store_(store), inner_(std::move(inner)) {}

  uint64_t size() const override { return inner_->size(); }

  Status Append(const char* data, size_t n) override {
    if (store_->ShouldFailAppend()) return InjectedFault();
    return inner_->Append(data, n);
  }

  Status Sync() override {
    if (store_->ShouldFailSync()) return InjectedFault();
    return inner_->Sync();
  }

  Status Flush() override { return inner_->Flush(); }

  Status Commit(const Digest& digest) override {
    if (store_->ShouldFailCommit()) return InjectedFault();
    return inner_->Commit(digest);
  }

  Result<bool> Publish(const Digest& digest) override {
    if (store_->ShouldFailCommit()) return InjectedFault();
    return inner_->Publish(digest);
  }

 private:
  FaultInjectingBlobStore* store_;
  std::unique_ptr<UploadWriter> inner_;
};

// Counts one call down; true exactly when this call is the armed n-th one.
// Lock-free so writers on several threads each consume a distinct call.
bool CountDown(std::atomic<int>& countdown) {
  int current = countdown.load();
  while (current > 0) {
    if (countdown.compare_exchange_weak(current, current - 1)) return current == 1;
  }
  return false;
}

}  // namespace

FaultInjectingBlobStore::FaultInjectingBlobStore(std::shared_ptr<BlobStore> inner)
    : inner_(std::move(inner)) {}

void FaultInjectingBlobStore::FailNthAppend(int n) { append_countdown_.store(n > 0 ? n : 0); }
void FaultInjectingBlobStore::FailNthSync(int n) { sync_countdown_.store(n > 0 ? n : 0); }
void FaultInjectingBlobStore::FailNthCommit(int n) { commit_countdown_.store(n > 0 ? n : 0); }

bool FaultInjectingBlobStore::ShouldFailAppend() {
  if (!CountDown(append_countdown_)) return false;
  injected_.fetch_add(1);
  return true;
}

bool FaultInjectingBlobStore::ShouldFailSync() {
  if (!CountDown(sync_countdown_)) return false;
  injected_.fetch_add(1);
  return true;
}

bool FaultInjectingBlobStore::ShouldFailCommit() {
  if (!CountDown(commit_countdown_)) return false;
  injected_.fetch_add(1);
  return true;
}

Result<std::unique_ptr<UploadWriter>> FaultInjectingBlobStore::CreateUpload(std::string_view id) {
  auto writer = inner_->CreateUpload(id);
  if (!writer.ok()) return writer.status();
  return std::unique_ptr<UploadWriter>(
      std::make_unique<FaultInjectingUploadWriter>(this, std::move(writer).value()));
}

Result<std::unique_ptr<UploadWriter>> FaultInjectingBlobStore::OpenUpload(std::string_view id,
                                                                          uint64_t keep) {
  auto writer = inner_->OpenUpload(id, keep);
  if (!writer.ok()) return writer.status();
  return std::unique_ptr<UploadWriter>(
      std::make_unique<FaultInjectingUploadWriter>(this, std::move(writer).value()));
}

Result<std::unique_ptr<BlobReader>> FaultInjectingBlobStore::ReadUpload(std::string_view id) {
  return inner_->ReadUpload(id);
}

Status FaultInjectingBlobStore::DeleteUpload(std::string_view id) {
  return inner_->DeleteUpload(id);
}

Result<std::vector<std::string>> FaultInjectingBlobStore::ListUploads() {
  return inner_->ListUploads();
}

Result<std::unique_ptr<BlobReader>> FaultInjectingBlobStore::OpenBlob(const Digest& digest) {
  return inner_->OpenBlob(digest);
}

Result<uint64_t> FaultInjectingBlobStore::BlobSize(const Digest& digest) {
  return inner_->BlobSize(digest);
}

Status FaultInjectingBlobStore::DeleteBlob(const Digest& digest) {
  return inner_->DeleteBlob(digest);
}

Result<std::vector<Digest>> FaultInjectingBlobStore::ListBlobs() { return inner_->ListBlobs(); }

}  // namespace quay
