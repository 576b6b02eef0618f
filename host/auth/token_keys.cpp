#include "host/auth/token_keys.h"

#include <optional>

namespace quayd {
namespace {

using quay::auth::JwtAlgorithm;
using quay::auth::JwtPublicKey;
using quay::auth::JwtSigner;

// Verification cache sizes and lifetimes: a key's entry lives one maintenance
// interval at most; an unknown kid is remembered this long.
constexpr size_t kMaxCachedKeys = 1024;
constexpr std::chrono::seconds kUnknownKidTtl{10};
constexpr std::chrono::seconds kRetireSlack{60};

// Key maintenance is the server's own doing, not a request's.
quay::Actor ServerActor() {
  quay::Actor actor;
  actor.request_id = "quayd-key-maintenance";
  return actor;
}

}  // namespace

TokenKeys::TokenKeys(quay::SigningKeyStore& store, TokenKeysOptions options,
                     std::shared_ptr<quay::Clock> clock, std::shared_ptr<quay::Logger> logger)
    : store_(store),
      options_(std::move(options)),
      clock_(clock ? std::move(clock) : quay::Clock::System()),
      logger_(logger ? std::move(logger) : quay::Logger::Discard()) {}

TokenKeys::~TokenKeys() {
  {
    std::lock_guard<std::mutex> lock(maintenance_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

quay::Result<std::unique_ptr<TokenKeys>> TokenKeys::Open(quay::SigningKeyStore& store,
                                                         TokenKeysOptions options,
                                                         std::shared_ptr<quay::Clock> clock,
                                                         std::shared_ptr<quay::Logger> logger) {
  std::unique_ptr<TokenKeys> keys(
      new TokenKeys(store, std::move(options), std::move(clock), std::move(logger)));
  quay::Result<std::optional<quay::SigningKey>> current = store.Current(keys->options_.service);
  if (!current.ok()) return current.status();
  quay::Status installed = *current ? keys->Install(**current) : keys->GenerateAndStore();
  if (!installed.ok()) return installed;
  return keys;
}

quay::Status TokenKeys::Install(const quay::SigningKey& key) {
  quay::Result<std::shared_ptr<const JwtSigner>> signer =
      JwtSigner::FromPrivatePem(key.private_key_pem, key.kid);
  if (!signer.ok()) {
    return quay::Status::Internal("stored signing key " + key.kid +
                                  " is unusable: " + signer.status().message());
  }
  std::lock_guard<std::mutex> lock(mu_);
  signer_ = std::move(signer).value();
  return quay::Status::Ok();
}

quay::Status TokenKeys::GenerateAndStore() {
  quay::Result<std::shared_ptr<const JwtSigner>> generated =
      JwtSigner::Generate(options_.algorithm);
  if (!generated.ok()) return generated.status();
  const JwtSigner& signer = **generated;
  quay::SigningKey key;
  key.kid = signer.kid();
  key.service = options_.service;
  key.algorithm = std::string(quay::auth::JwtAlgorithmName(signer.algorithm()));
  key.private_key_pem = signer.PrivatePem();
  key.public_key_pem = signer.PublicPem();
  key.created_at = clock_->Now();
  if (quay::Status inserted = store_.Insert(ServerActor(), key); !inserted.ok()) return inserted;
  logger_->Log(quay::LogLevel::kInfo, "auth", "generated token signing key",
               {{"kid", key.kid}, {"algorithm", key.algorithm}});
  std::lock_guard<std::mutex> lock(mu_);
  signer_ = std::move(generated).value();
  return quay::Status::Ok();
}

std::shared_ptr<const JwtSigner> TokenKeys::signer() const {
  std::lock_guard<std::mutex> lock(mu_);
  return signer_;
}

std::shared_ptr<const JwtPublicKey> TokenKeys::Lookup(std::string_view kid) {
  const auto now = clock_->Now();
  std::string key(kid);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && now < it->second.valid_until) {
      const Cached& c = it->second;
      if (c.key_expires_at && now >= *c.key_expires_at) return nullptr;
      return c.key;
    }
  }

  Cached entry;
  entry.valid_until = now + kUnknownKidTtl;
  quay::Result<std::optional<quay::SigningKey>> found = store_.Find(kid);
  if (!found.ok()) {
    // A database hiccup must not be cached as "unknown".
    logger_->Log(quay::LogLevel::kWarn, "auth", "failed to look up token key",
                 {{"error", found.status().ToString()}});
    return nullptr;
  }
  if (*found && (*found)->service == options_.service) {
    quay::Result<std::shared_ptr<const JwtPublicKey>> parsed =
        JwtPublicKey::FromPublicPem((*found)->public_key_pem);
    if (parsed.ok()) {
      entry.key = std::move(parsed).value();
      entry.key_expires_at = (*found)->expires_at;
      entry.valid_until = now + options_.maintenance_interval;
    } else {
      logger_->Log(quay::LogLevel::kWarn, "auth", "failed to parse stored token key",
                   {{"error", parsed.status().ToString()}});
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() >= kMaxCachedKeys) cache_.clear();
  cache_[key] = entry;
  if (entry.key_expires_at && now >= *entry.key_expires_at) return nullptr;
  return entry.key;
}

quay::Status TokenKeys::Maintain() {
  const auto now = clock_->Now();
  quay::Result<std::optional<quay::SigningKey>> current = store_.Current(options_.service);
  if (!current.ok()) return current.status();

  if (!*current) {
    // Ours expired or was retired elsewhere without a successor.
    if (quay::Status s = GenerateAndStore(); !s.ok()) return s;
  } else if (now - (*current)->created_at >= options_.rotation) {
    const std::string old_kid = (*current)->kid;
    if (quay::Status s = GenerateAndStore(); !s.ok()) return s;
    const auto verify_until =
        now + options_.token_lifetime + options_.maintenance_interval + kRetireSlack;
    if (quay::Status s = store_.Retire(ServerActor(), old_kid, verify_until); !s.ok()) return s;
    logger_->Log(quay::LogLevel::kInfo, "auth", "rotated token signing key",
                 {{"retired_kid", old_kid}});
  } else {
    std::string ours;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ours = signer_ ? signer_->kid() : std::string();
    }
    // Another instance rotated: sign with its key from now on.
    if ((*current)->kid != ours) {
      if (quay::Status s = Install(**current); !s.ok()) return s;
    }
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    cache_.clear();
  }
  quay::Result<uint64_t> deleted = store_.DeleteExpired(ServerActor());
  if (!deleted.ok()) return deleted.status();
  return quay::Status::Ok();
}

void TokenKeys::StartMaintenance() {
  if (thread_.joinable() || options_.maintenance_interval.count() <= 0) return;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(maintenance_mu_);
    while (!stopping_) {
      wake_.wait_for(lock, options_.maintenance_interval, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      quay::Status s = Maintain();
      if (!s.ok()) {
        logger_->Log(quay::LogLevel::kError, "auth", "failed to maintain token signing keys",
                     {{"error", s.ToString()}});
      }
      lock.lock();
    }
  });
}

}  // namespace quayd
