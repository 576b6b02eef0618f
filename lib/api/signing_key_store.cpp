// SigningKeyStore (quay/signing_keys.h) over db::SigningKeyRows.
#include "api/signing_key_store.h"

#include "api/database_secret.h"
#include "core/str_cat.h"
#include "db/connection.h"

namespace quay::api {
namespace {

// What a sealed private key is bound to: its row. A sealed value copied onto
// another kid does not open.
std::string AssociatedData(std::string_view kid) {
  return core::StrCat({"signing_key.private_key:", kid});
}

Status OpenError(auth::FieldCipher::OpenError error, const std::string& kid) {
  const std::string which = "the private key of signing key '" + kid + "'";
  switch (error) {
    case auth::FieldCipher::OpenError::kWrongKey:
      return Status::Internal(which +
                              " was encrypted under a different DATABASE_SECRET_KEY: configure "
                              "the DATABASE_SECRET_KEY (or the <data_dir>/database_secret_key "
                              "file) this database was written with");
    case auth::FieldCipher::OpenError::kCorrupt:
      return Status::Internal(which +
                              " does not decrypt although DATABASE_SECRET_KEY matches: the "
                              "stored value was modified or damaged");
    case auth::FieldCipher::OpenError::kUnknownFormat:
    case auth::FieldCipher::OpenError::kNone:
      break;
  }
  return Status::Internal(which + " is stored in a format this version cannot read");
}

}  // namespace

Result<std::shared_ptr<const auth::FieldCipher>> SigningKeyStoreImpl::Cipher() {
  std::lock_guard<std::mutex> lock(cipher_mu_);
  if (cipher_) return cipher_;
  auto secret = DatabaseSecretFor(state_->options, state_->db->connections(), *state_->logger);
  if (!secret.ok()) return secret.status();
  auto cipher = auth::FieldCipher::FromSecret(*secret);
  if (!cipher.ok()) return cipher.status();
  cipher_ = std::make_shared<const auth::FieldCipher>(std::move(*cipher));
  if (auto sealed = SealPlaintextKeys(*cipher_); !sealed.ok()) {
    state_->logger->Log(LogLevel::kWarn, "identity",
                        "failed to encrypt signing keys stored in plain text; they stay readable",
                        {{"error", sealed.status().ToString()}});
  } else if (*sealed > 0) {
    state_->logger->Log(LogLevel::kInfo, "identity", "encrypted signing keys stored in plain text",
                        {{"count", std::to_string(*sealed)}});
  }
  return cipher_;
}

Result<uint64_t> SigningKeyStoreImpl::SealPlaintextKeys(const auth::FieldCipher& cipher) {
  auto stored = state_->keys.ListPrivateKeys();
  if (!stored.ok()) return stored.status();
  uint64_t sealed = 0;
  for (const auto& [kid, value] : *stored) {
    if (value.empty() || auth::FieldCipher::LooksSealed(value)) continue;
    auto replacement = cipher.Seal(value, AssociatedData(kid));
    if (!replacement.ok()) return replacement.status();
    // Compare-and-set: another process may have sealed or deleted it meanwhile.
    auto replaced = state_->keys.ReplacePrivateKey(kid, value, *replacement);
    if (!replaced.ok()) return replaced.status();
    if (*replaced) ++sealed;
  }
  return sealed;
}

Result<SigningKey> SigningKeyStoreImpl::FromRow(const db::SigningKeyRow& row) {
  SigningKey k;
  k.kid = row.kid;
  k.service = row.service;
  k.algorithm = row.algorithm;
  k.public_key_pem = row.public_key_pem;
  k.created_at = FromMicros(row.created_at);
  if (row.expires_at) k.expires_at = FromMicros(*row.expires_at);
  if (row.rotated_at) k.rotated_at = FromMicros(*row.rotated_at);
  if (row.private_key_pem.empty()) return k;
  // The first call also seals plaintext rows, this one included.
  auto cipher = Cipher();
  if (!auth::FieldCipher::LooksSealed(row.private_key_pem)) {
    // Written by a version that stored PEM as is: readable even when the
    // secret cannot be had (then it stays plain; inserts report the error).
    k.private_key_pem = row.private_key_pem;
    return k;
  }
  if (!cipher.ok()) return cipher.status();
  auto opened = (*cipher)->Open(row.private_key_pem, AssociatedData(row.kid));
  if (opened.error != auth::FieldCipher::OpenError::kNone) return OpenError(opened.error, row.kid);
  k.private_key_pem = std::move(opened.plaintext);
  return k;
}

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
  if (!key.private_key_pem.empty()) {
    auto cipher = Cipher();
    if (!cipher.ok()) return cipher.status();
    auto sealed = (*cipher)->Seal(key.private_key_pem, AssociatedData(key.kid));
    if (!sealed.ok()) return sealed.status();
    row.private_key_pem = std::move(*sealed);
  }
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
  auto key = FromRow(**row);
  if (!key.ok()) return key.status();
  return std::optional<SigningKey>(std::move(*key));
}

Result<std::vector<SigningKey>> SigningKeyStoreImpl::List(std::string_view service,
                                                          bool include_expired) {
  auto rows = state_->keys.List(service, include_expired, state_->NowMicros());
  if (!rows.ok()) return rows.status();
  std::vector<SigningKey> out;
  for (const auto& r : *rows) {
    auto key = FromRow(r);
    if (!key.ok()) return key.status();
    out.push_back(std::move(*key));
  }
  return out;
}

Result<std::optional<SigningKey>> SigningKeyStoreImpl::Current(std::string_view service) {
  auto row = state_->keys.Current(service, state_->NowMicros());
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<SigningKey>();
  auto key = FromRow(**row);
  if (!key.ok()) return key.status();
  return std::optional<SigningKey>(std::move(*key));
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
