// JSON the handlers rendered from a shared library page (Registry::
// SharedTagRows, AuditLog::SharedQuery), kept while the library still hands
// out that same page object.
//
// The library's read caches decide whether a page is fresh (their
// generations); while one is, every request for it gets the same immutable
// object, and rendering its rows again would give the same bytes. Rendering
// is most of the CPU a cached page costs (string escaping, dates), so the
// rendered fragment is kept beside the page, keyed by the page's address and
// the view rendered (one page may be rendered two ways: a tag page is both
// the tag listing and the repository view's "tags").
// An entry remembers its page by weak_ptr: a page the library dropped is
// expired, and a new page that happens to reuse the address never matches
// it, since two live objects cannot share one.
//
// Thread safety: all members may be called from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace quayd {

class RenderMemo {
 public:
  // `budget`: bytes of rendered JSON kept at most (default 16 MiB).
  explicit RenderMemo(size_t budget = size_t{16} << 20) : shard_budget_(budget / kShards) {}
  RenderMemo(const RenderMemo&) = delete;
  RenderMemo& operator=(const RenderMemo&) = delete;

  // What a fragment is a rendering of.
  enum class View : unsigned char { kTagList, kRepositoryTags, kAuditLogs, kRepositoryList };

  // The JSON `render(*source)` gave for this very object as `view`,
  // rendering it now if it has not been (or was forgotten).
  template <typename T, typename F>
  std::shared_ptr<const std::string> Render(const std::shared_ptr<const T>& source, View view,
                                            F&& render) {
    const Key key{source.get(), view};
    if (auto hit = Find(key)) return hit;
    auto json = std::make_shared<const std::string>(render(*source));
    Keep(key, std::weak_ptr<const void>(source), json);
    return json;
  }

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kEntryOverhead = 96;

  struct Key {
    const void* source;
    View view;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    std::weak_ptr<const void> source;
    std::shared_ptr<const std::string> json;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<Key, Entry, KeyHash> map;  // guarded by mu
    size_t cost = 0;                              // guarded by mu
  };

  std::shared_ptr<const std::string> Find(const Key& key);
  void Keep(const Key& key, std::weak_ptr<const void> source,
            std::shared_ptr<const std::string> json);
  Shard& ShardOf(const Key& key);

  const size_t shard_budget_;
  Shard shards_[kShards];
};

}  // namespace quayd
