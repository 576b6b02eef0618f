// The router of the Quay surfaces: a segment trie built once from the route
// table's path templates. A lookup walks the request path's segments without
// a regex and without allocating; parameter values are views into the path.
//
// {name} matches one segment; {repository+} matches two or more, tried
// shortest first, so "ns/app" is the repository of
// /api/v1/repository/ns/app/tag/v1 and a longer name is still found when
// nothing after it matches a keyword (extended repository names).
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "host/route/route_table.h"

namespace quayd {

inline constexpr size_t kMaxPathParams = 4;

struct PathParams {
  std::array<std::string_view, kMaxPathParams> names{};
  std::array<std::string_view, kMaxPathParams> values{};
  size_t count = 0;
  // The value of {name}, or empty.
  std::string_view Get(std::string_view name) const;
};

struct TrieMatch {
  // Routes at the matched path, indexed by HttpMethod (null: method not served).
  const std::array<const ApiRoute*, kHttpMethodCount>* routes = nullptr;
  PathParams params;
};

class PathTrie {
 public:
  explicit PathTrie(std::span<const ApiRoute> routes);
  ~PathTrie();
  // Null `routes` when no template matches `path` (404).
  TrieMatch Match(std::string_view path) const;

  struct Node;

 private:
  std::unique_ptr<Node> root_;
};

}  // namespace quayd
