// SigningKeyStore (quay/signing_keys.h) over db::SigningKeyRows.
#include "api/signing_key_store.h"

namespace quay::api {
namespace {

SigningKey FromRow(const db::SigningKeyRow& row) {
  SigningKey k;
  k.kid = row.kid;
  k.service = row.service;
  k.algorithm = row.algorithm;
  k.private_key_pem = row.private_key_pem;
  k.public_key_pem = row.public_key_pem;
  k.created_at = FromMicros(row.created_at);
  if (row.expires_at) k.expires_at = FromMicros(*row.expires_at);
  if (row.rotated_at) k.rotated_at = FromMicros(*row.rotated_at);
  return k;
}

}  // namespace

Status SigningKeyStoreImpl::Insert(const Actor& actor, const SigningKey& key) {
  if (key.kid.empty() || key.service.empty() || key.algorithm.empty() ||
      key.public_key_pem.empty()) {
    return Status::InvalidArgument(Subject::kNone,
                                   "a signing key needs a kid, service, algorithm and public key");
  }
  db::SigningKeyRow row;
  row.kid = key.kid;
  row.service = key.service;
  row.algorithm = key.algorithm;
  row.private_key_pem = key.private_key_pem;
  row.public_key_pem = key.public_key_pem;
  row.created_at =
      key.created_at == Clock::TimePoint{} ? state_->NowMicros() : ToMicros(key.created_at);
  if (key.expires_at) row.expires_at = ToMicros(*key.expires_at);
  if (key.rotated_at) row.rotated_at = ToMicros(*key.rotated_at);
  auto audit = AuditRowFor(
      *state_, actor, "service_key_create", "", "",
      AuditMetadata({{"kid", key.kid}, {"service", key.service}, {"algorithm", key.algorithm}}));
  return state_->keys.Insert(row, audit);
}

Result<std::optional<SigningKey>> SigningKeyStoreImpl::Find(std::string_view kid) {
  auto row = state_->keys.Find(kid);
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<SigningKey>();
  return std::optional<SigningKey>(FromRow(**row));
}

Result<std::vector<SigningKey>> SigningKeyStoreImpl::List(std::string_view service,
                                                          bool include_expired) {
  auto rows = state_->keys.List(service, include_expired, state_->NowMicros());
  if (!rows.ok()) return rows.status();
  std::vector<SigningKey> out;
  for (const auto& r : *rows) out.push_back(FromRow(r));
  return out;
}

Result<std::optional<SigningKey>> SigningKeyStoreImpl::Current(std::string_view service) {
  auto row = state_->keys.Current(service, state_->NowMicros());
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<SigningKey>();
  return std::optional<SigningKey>(FromRow(**row));
}

Status SigningKeyStoreImpl::Retire(const Actor& actor, std::string_view kid,
                                   std::optional<Clock::TimePoint> expires_at) {
  std::optional<int64_t> expiry;
  if (expires_at) expiry = ToMicros(*expires_at);
  auto audit =
      AuditRowFor(*state_, actor, "service_key_rotate", "", "", AuditMetadata({{"kid", kid}}));
  return state_->keys.Retire(kid, state_->NowMicros(), expiry, audit);
}

Result<uint64_t> SigningKeyStoreImpl::DeleteExpired(const Actor& actor) {
  auto audit = AuditRowFor(*state_, actor, "service_key_delete", "", "", "{}");
  return state_->keys.DeleteExpired(state_->NowMicros(), audit);
}

}  // namespace quay::api
