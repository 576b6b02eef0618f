#include "host/route/path_trie.h"

#include <stdexcept>
#include <string>

namespace quayd {

struct PathTrie::Node {
  std::vector<std::pair<std::string_view, std::unique_ptr<Node>>> literals;
  std::unique_ptr<Node> param;  // {name}
  std::string_view param_name;
  std::unique_ptr<Node> multi;  // {name+}
  std::string_view multi_name;
  std::array<const ApiRoute*, kHttpMethodCount> routes{};
  bool terminal = false;
};

namespace {

using Node = PathTrie::Node;

// The next segment of `path` starting at `pos` (which is just past a '/').
std::string_view SegmentAt(std::string_view path, size_t pos, size_t& next) {
  size_t end = path.find('/', pos);
  if (end == std::string_view::npos) end = path.size();
  next = end + 1;
  return path.substr(pos, end - pos);
}

bool Walk(const Node& node, std::string_view path, size_t pos, PathParams& params,
          const Node*& found) {
  if (pos > path.size()) {  // consumed everything
    if (!node.terminal) return false;
    found = &node;
    return true;
  }
  size_t next = 0;
  std::string_view segment = SegmentAt(path, pos, next);
  for (const auto& [text, child] : node.literals) {
    if (text == segment && Walk(*child, path, next, params, found)) return true;
  }
  if (node.param && !segment.empty() && params.count < kMaxPathParams) {
    params.names[params.count] = node.param_name;
    params.values[params.count++] = segment;
    if (Walk(*node.param, path, next, params, found)) return true;
    --params.count;
  }
  if (node.multi && !segment.empty() && params.count < kMaxPathParams) {
    // Two segments or more, shortest first.
    size_t end = next;
    size_t after = 0;
    if (end > path.size()) return false;
    std::string_view second = SegmentAt(path, end, after);
    if (second.empty()) return false;
    while (true) {
      params.names[params.count] = node.multi_name;
      params.values[params.count++] = path.substr(pos, after - 1 - pos);
      if (Walk(*node.multi, path, after, params, found)) return true;
      --params.count;
      if (after > path.size()) return false;
      size_t following = 0;
      if (SegmentAt(path, after, following).empty()) return false;
      after = following;
    }
  }
  return false;
}

}  // namespace

std::string_view PathParams::Get(std::string_view name) const {
  for (size_t i = 0; i < count; ++i) {
    if (names[i] == name) return values[i];
  }
  return {};
}

PathTrie::PathTrie(std::span<const ApiRoute> routes) : root_(std::make_unique<Node>()) {
  for (const ApiRoute& route : routes) {
    Node* node = root_.get();
    std::string_view path = route.path;
    if (path.empty() || path[0] != '/') throw std::logic_error("route path must start with /");
    size_t pos = 1;
    while (pos <= path.size()) {
      size_t next = 0;
      std::string_view segment = SegmentAt(path, pos, next);
      if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}') {
        std::string_view name = segment.substr(1, segment.size() - 2);
        bool multi = name.back() == '+';
        if (multi) {
          name.remove_suffix(1);
          if (!node->multi) node->multi = std::make_unique<Node>();
          node->multi_name = name;
          node = node->multi.get();
        } else {
          if (!node->param) node->param = std::make_unique<Node>();
          node->param_name = name;
          node = node->param.get();
        }
      } else {
        Node* child = nullptr;
        for (auto& [text, existing] : node->literals) {
          if (text == segment) child = existing.get();
        }
        if (child == nullptr) {
          node->literals.emplace_back(segment, std::make_unique<Node>());
          child = node->literals.back().second.get();
        }
        node = child;
      }
      pos = next;
    }
    node->terminal = true;
    auto& slot = node->routes[static_cast<size_t>(route.method)];
    if (slot != nullptr) throw std::logic_error(std::string("duplicate route ").append(route.path));
    slot = &route;
  }
}

PathTrie::~PathTrie() = default;

TrieMatch PathTrie::Match(std::string_view path) const {
  TrieMatch match;
  if (path.empty() || path[0] != '/') return match;
  const Node* found = nullptr;
  if (Walk(*root_, path, 1, match.params, found)) match.routes = &found->routes;
  return match;
}

}  // namespace quayd
