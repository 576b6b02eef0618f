// The Registry facade's implementation: validates input, then coordinates the
// blob store (bytes) and the database (what is visible).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>
#include <utility>
#include <vector>

#include "quay/registry.h"
#include "registry/context.h"

namespace quay::registry {

class RegistryImpl final : public Registry {
 public:
  explicit RegistryImpl(std::unique_ptr<Context> ctx) : ctx_(std::move(ctx)) {}

  // Removes what a crash can leave behind: upload areas without a session row
  // and session rows without an upload area.
  Status Reconcile();

  Result<std::unique_ptr<BlobUpload>> StartUpload(std::string_view repository) override;
  Result<std::unique_ptr<BlobUpload>> ResumeUpload(std::string_view repository,
                                                   std::string_view id) override;
  Result<UploadState> GetUpload(std::string_view repository, std::string_view id) override;
  Status CancelUpload(std::string_view repository, std::string_view id) override;

  Result<BlobInfo> StatBlob(std::string_view repository, const Digest& digest) override;
  Result<std::unique_ptr<BlobReader>> OpenBlob(std::string_view repository,
                                               const Digest& digest) override;
  Result<std::string> BlobUrl(std::string_view repository, const Digest& digest,
                              std::chrono::seconds lifetime) override;

  Result<PutManifestResult> PutManifest(std::string_view repository, std::string_view reference,
                                        std::string_view content_type,
                                        std::string_view bytes) override;
  Result<ManifestRecord> GetManifest(std::string_view repository,
                                     std::string_view reference) override;
  Result<bool> RepositoryExists(std::string_view repository) override;

  Result<NamePage> ListTags(std::string_view repository, size_t limit,
                            std::string_view after) override;
  Result<NamePage> ListRepositories(size_t limit, std::string_view after) override;
  Result<std::vector<Descriptor>> ListReferrers(std::string_view repository, const Digest& subject,
                                                std::string_view artifact_type) override;

  Status DeleteManifest(std::string_view repository, const Digest& digest) override;
  Status DeleteTag(std::string_view repository, std::string_view tag) override;
  Status DeleteBlob(std::string_view repository, const Digest& digest) override;
  Result<BlobInfo> MountBlob(std::string_view repository, const Digest& digest,
                             std::string_view from) override;
  Status DeleteRepository(std::string_view repository) override;
  // After the rows of these upload sessions were deleted: forgets them and
  // removes their areas (failures are logged; Reconcile() finishes them).
  void ForgetUploads(const std::vector<std::string>& ids);

  Result<std::vector<TagEvent>> TagHistory(std::string_view repository,
                                           std::string_view tag) override;
  Result<std::vector<TagEvent>> RecentTagChanges(std::string_view repository,
                                                 size_t limit) override;
  Status RestoreTag(std::string_view repository, std::string_view tag,
                    const Digest& manifest) override;

  // In rest_views.cpp.
  Result<std::shared_ptr<const TagListPage>> SharedTagRows(std::string_view repository,
                                                           const TagListQuery& query) override;
  Result<std::optional<Digest>> PutTag(std::string_view repository, std::string_view tag,
                                       const Digest& manifest) override;
  Result<std::optional<Digest>> PutTag(std::string_view repository, std::string_view tag,
                                       const Digest& manifest, const Actor& actor) override;
  Result<ManifestInfo> GetManifestInfo(std::string_view repository, const Digest& digest) override;
  Result<RepositorySummary> RepositoryStats(std::string_view repository) override;
  Result<uint64_t> TotalBlobBytes() override;
  HealthReport CheckHealth() override;
  Result<uint64_t> OpenUploadCount() override;
  DatabaseWait WriterWait() override;
  Result<std::vector<Label>> ListLabels(std::string_view repository, const Digest& manifest,
                                        std::string_view key_prefix) override;
  Result<Label> GetLabel(std::string_view repository, const Digest& manifest,
                         std::string_view label_id) override;
  Result<Label> AddLabel(std::string_view repository, const Digest& manifest, std::string_view key,
                         std::string_view value, std::string_view media_type) override;
  Result<Label> DeleteLabel(std::string_view repository, const Digest& manifest,
                            std::string_view label_id) override;

  Result<GcReport> CollectGarbage(const GcOptions& options) override;

  // In tag_policies.cpp.
  Result<TagState> GetTagState(std::string_view repository, std::string_view tag) override;
  Result<std::optional<Clock::TimePoint>> SetTagExpiration(
      std::string_view repository, std::string_view tag, std::optional<Clock::TimePoint> expiration,
      const Actor& actor) override;
  Result<bool> SetTagImmutable(std::string_view repository, std::string_view tag, bool immutable,
                               const Actor& actor) override;
  Result<std::vector<ImmutabilityPolicy>> ListImmutabilityPolicies(
      const PolicyScope& scope) override;
  Result<ImmutabilityPolicy> GetImmutabilityPolicy(const PolicyScope& scope,
                                                   std::string_view uuid) override;
  Result<ImmutabilityPolicy> CreateImmutabilityPolicy(const PolicyScope& scope,
                                                      const ImmutabilityPolicy& policy,
                                                      const Actor& actor) override;
  Status UpdateImmutabilityPolicy(const PolicyScope& scope, const ImmutabilityPolicy& policy,
                                  const Actor& actor) override;
  Status DeleteImmutabilityPolicy(const PolicyScope& scope, std::string_view uuid,
                                  const Actor& actor) override;
  Result<std::vector<AutoPrunePolicy>> ListAutoPrunePolicies(const PolicyScope& scope) override;
  Result<AutoPrunePolicy> GetAutoPrunePolicy(const PolicyScope& scope,
                                             std::string_view uuid) override;
  Result<AutoPrunePolicy> CreateAutoPrunePolicy(const PolicyScope& scope,
                                                const AutoPrunePolicy& policy,
                                                const Actor& actor) override;
  Status UpdateAutoPrunePolicy(const PolicyScope& scope, const AutoPrunePolicy& policy,
                               const Actor& actor) override;
  Status DeleteAutoPrunePolicy(const PolicyScope& scope, std::string_view uuid,
                               const Actor& actor) override;
  Result<AutoPruneReport> RunAutoPrune() override;

  // Ends the live tags whose expiration has come, if any has (one atomic
  // load and a clock read when none has). Every call that reads or changes
  // live tags runs it first.
  Status EndExpiredTags();
  // The new row's expiration and immutability for a push of a manifest with
  // `labels` to `tag` (quay.expires-after, quay.immutable, immutability
  // policies).
  Result<std::pair<std::optional<int64_t>, bool>> PushedTagFlags(
      std::string_view repository, std::string_view tag, const std::vector<db::LabelRow>& labels,
      int64_t now);
  // Starts the auto-prune thread (Registry::Open, per Options).
  void StartAutoPrune(std::chrono::seconds interval);
  ~RegistryImpl() override;

  // For IdentityService::Open(options, registry), which shares it.
  std::shared_ptr<db::Database> database() const { return ctx_->db; }
  // For Quotas::Open (registry/quotas.cpp).
  std::shared_ptr<Clock> clock() const { return ctx_->clock; }

 private:
  // The labels of an image manifest's config (config.Labels), as rows of
  // source "manifest", when the config is a Docker or OCI image config of at
  // most 64 KiB that the store holds; none otherwise (rest_views.cpp).
  std::vector<db::LabelRow> ConfigLabels(const Manifest& manifest, int64_t now);

  // The miss of a tag GetManifest did not find: NotFound(kExpiredTag) when
  // its newest history row ended inside the recovery window, else
  // NotFound(kManifest).
  Status TagMiss(std::string_view repository, std::string_view tag);
  // The session row of `id` if it belongs to `repository`.
  Result<db::UploadRow> FindSession(std::string_view repository, std::string_view id);

  // Creates (a new uuid) or updates an immutability policy.
  Status SaveImmutability(const PolicyScope& scope, const ImmutabilityPolicy& policy,
                          const Actor& actor, bool creating);
  // A compiled policy pattern (cached); InvalidArgument(kNone) if it does
  // not compile.
  Result<std::shared_ptr<const std::regex>> Pattern(const std::string& text);
  // Whether policy pattern `pattern` / `matches` selects `tag`.
  bool Selects(const std::optional<std::string>& pattern, bool matches, std::string_view tag);

  std::unique_ptr<Context> ctx_;
  // The auto-prune thread's stop signal (StartAutoPrune).
  std::mutex prune_mutex_;
  std::condition_variable prune_wake_;
  bool prune_stop_ = false;
  std::thread prune_thread_;
};

}  // namespace quay::registry
