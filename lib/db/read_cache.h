// A bounded in-memory cache of database reads, kept honest by the pool's
// cache generation (ConnectionPool::CacheGeneration): an entry is served only
// while the generation it was read under is still current.
//
// The hot read paths (manifest GET by tag, blob HEAD, the Authorizer's
// facts) would otherwise cost several SQLite queries per request. Usage:
//
//   const uint64_t gen = pool.CacheGeneration();   // BEFORE reading the rows
//   if (auto hit = cache.Get(key, gen)) return *hit;
//   V value = ...read the database...;
//   cache.Put(key, gen, value, cost);
//
// Taking the generation before the read is what makes it safe: a write that
// commits while the read runs advances the generation, so the entry put under
// the old one is never served.
//
// Memory is bounded by a cost budget (bytes, roughly): a shard that would
// exceed its share is emptied first. Emptying is crude but the working set
// of a registry's hot tags is small, and it keeps the cache O(1) and simple.
//
// Thread safety: all methods may be called from many threads. Internal to
// libquay.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace quay::db {

template <typename V>
class ReadCache {
 public:
  // `budget`: total cost (bytes) the cache may hold.
  explicit ReadCache(size_t budget) : shard_budget_(budget / kShards) {}
  ReadCache(const ReadCache&) = delete;
  ReadCache& operator=(const ReadCache&) = delete;

  std::optional<V> Get(std::string_view key, uint64_t generation) {
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mu);
    auto it = shard.map.find(key);
    if (it == shard.map.end()) return std::nullopt;
    if (it->second.generation != generation) {
      // Stale: drop it. Newer (this caller took its generation before a
      // write that another caller already read past): keep it, just miss.
      if (it->second.generation < generation) {
        shard.cost -= it->second.cost;
        shard.map.erase(it);
      }
      return std::nullopt;
    }
    return it->second.value;
  }

  // `cost`: the value's size in bytes (the key is added). Values costlier
  // than a shard's budget are not kept.
  void Put(std::string_view key, uint64_t generation, V value, size_t cost) {
    cost += key.size() + kEntryOverhead;
    if (cost > shard_budget_) return;
    Shard& shard = ShardOf(key);
    std::lock_guard lock(shard.mu);
    auto it = shard.map.find(key);
    if (it != shard.map.end()) {
      // A newer generation replaces; an older one (a slow reader) never does.
      if (it->second.generation > generation) return;
      shard.cost -= it->second.cost;
      shard.map.erase(it);
    }
    if (shard.cost + cost > shard_budget_) {
      shard.map.clear();
      shard.cost = 0;
    }
    shard.map.emplace(std::string(key), Entry{generation, cost, std::move(value)});
    shard.cost += cost;
  }

 private:
  static constexpr size_t kShards = 16;
  // Node, hash bucket and allocator slack of one entry, roughly.
  static constexpr size_t kEntryOverhead = 96;

  struct Entry {
    uint64_t generation;
    size_t cost;
    V value;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> map;
    size_t cost = 0;
  };

  Shard& ShardOf(std::string_view key) { return shards_[Hash{}(key) % kShards]; }

  const size_t shard_budget_;
  std::array<Shard, kShards> shards_;
};

}  // namespace quay::db
