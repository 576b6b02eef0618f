#include "host/api/render_memo.h"

#include <cstdint>

namespace quayd {

size_t RenderMemo::KeyHash::operator()(const Key& k) const {
  // Heap addresses share their low bits (alignment); std::hash spreads them
  // no better, so mix.
  uint64_t x = reinterpret_cast<uintptr_t>(k.source) ^ static_cast<uint64_t>(k.view);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return static_cast<size_t>(x);
}

RenderMemo::Shard& RenderMemo::ShardOf(const Key& key) {
  return shards_[(KeyHash{}(key) >> 8) % kShards];
}

std::shared_ptr<const std::string> RenderMemo::Find(const Key& key) {
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.map.find(key);
  if (it == shard.map.end()) return nullptr;
  // The caller holds a live object at this address, so a live entry is
  // about that object; an expired one was about an earlier object.
  if (it->second.source.expired()) {
    shard.cost -= it->second.json->size() + kEntryOverhead;
    shard.map.erase(it);
    return nullptr;
  }
  return it->second.json;
}

void RenderMemo::Keep(const Key& key, std::weak_ptr<const void> source,
                      std::shared_ptr<const std::string> json) {
  const size_t cost = json->size() + kEntryOverhead;
  if (cost > shard_budget_) return;
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  if (shard.cost + cost > shard_budget_) {
    // Pages the library replaced linger here until a shard fills; starting
    // the shard over is cheaper than tracking their age.
    shard.map.clear();
    shard.cost = 0;
  }
  auto [it, inserted] = shard.map.try_emplace(key);
  if (!inserted) shard.cost -= it->second.json->size() + kEntryOverhead;
  it->second = Entry{std::move(source), std::move(json)};
  shard.cost += cost;
}

}  // namespace quayd
