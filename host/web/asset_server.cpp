#include "host/web/asset_server.h"

#include <httplib.h>

#include <array>
#include <cctype>

#include "host/net/http_parse.h"

namespace quayd {
namespace {

constexpr std::string_view kStatic = "/static/";

// The first path segment of every page the UI's router knows. Kept apart
// from the protocols' prefixes: /v2, /api, /oauth and /csrf_token are never
// here, so the UI cannot shadow them.
constexpr std::array<std::string_view, 9> kUiPrefixes = {
    "/signin", "/signup", "/setup",     "/repository", "/organization",
    "/user",   "/new",    "/superuser", "/settings",
};

constexpr std::string_view kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// True when an If-None-Match value names `etag` (or is "*").
bool NoneMatch(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view one = Trim(header.substr(0, comma));
    if (one.starts_with("W/")) one.remove_prefix(2);
    if (one == "*" || one == etag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

void CommonHeaders(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Content-Security-Policy", std::string(kCsp));
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "same-origin");
}

}  // namespace

bool AcceptsGzip(std::string_view header) {
  bool gzip = false, star = false, gzip_refused = false;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = Trim(header.substr(0, comma));
    std::string_view coding = item, params;
    if (const size_t semi = item.find(';'); semi != std::string_view::npos) {
      coding = Trim(item.substr(0, semi));
      params = Trim(item.substr(semi + 1));
    }
    bool zero = false;
    if (params.starts_with("q=") || params.starts_with("Q=")) {
      std::string_view q = Trim(params.substr(2));
      zero = !q.empty() && q.find_first_not_of("0.") == std::string_view::npos;
    }
    if (IEquals(coding, "gzip") || IEquals(coding, "x-gzip")) {
      if (zero)
        gzip_refused = true;
      else
        gzip = true;
    } else if (coding == "*" && !zero) {
      star = true;
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return !gzip_refused && (gzip || star);
}

AssetServer::AssetServer(std::span<const EmbeddedAsset> assets) {
  for (const EmbeddedAsset& asset : assets) {
    if (asset.name == "index.html") {
      index_ = &asset;
      continue;
    }
    // Both names are kept: the hashed one for the page's references, the
    // plain one for pages that cannot know the hash (the OAuth consent page).
    by_path_.emplace(asset.name, Entry{&asset, false});
    by_path_.emplace(asset.hashed_name, Entry{&asset, asset.hashed_name != asset.name});
  }
}

bool AssetServer::Owns(std::string_view method, std::string_view path) {
  if (method != "GET" && method != "HEAD") return false;
  if (path == "/" || path == "/index.html" || path.starts_with(kStatic)) return true;
  for (std::string_view prefix : kUiPrefixes) {
    if (path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/'))
      return true;
  }
  return false;
}

std::string AssetServer::HashedPath(std::string_view name) const {
  auto it = by_path_.find(name);
  if (it == by_path_.end()) return {};
  std::string path(kStatic);
  path.append(it->second.asset->hashed_name);
  return path;
}

std::string_view AssetServer::ContentSecurityPolicy() { return kCsp; }

void AssetServer::Serve(const httplib::Request& req, httplib::Response& res) const {
  CommonHeaders(res);
  const EmbeddedAsset* asset = nullptr;
  bool immutable = false;
  if (std::string_view(req.path).starts_with(kStatic)) {
    auto it = by_path_.find(std::string_view(req.path).substr(kStatic.size()));
    if (it != by_path_.end()) {
      asset = it->second.asset;
      immutable = it->second.immutable;
    }
  } else {
    asset = index_;  // the client-side router reads the path
  }
  if (asset == nullptr) {
    res.status = 404;
    res.set_header("Cache-Control", "no-cache");
    res.set_content("not found\n", "text/plain; charset=utf-8");
    return;
  }

  const bool gzip = AcceptsGzip(FindHeader(req, "Accept-Encoding"));
  // One strong ETag per representation, so a cache never mixes them.
  // (Appended, not "literal" + std::string: GCC 12 at -O3 warns on that.)
  std::string etag;
  etag.reserve(asset->digest.size() + 5);
  etag.append("\"").append(asset->digest).append(gzip ? "-gz\"" : "\"");
  res.set_header("ETag", etag);
  res.set_header("Vary", "Accept-Encoding");
  res.set_header("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (NoneMatch(FindHeader(req, "If-None-Match"), etag)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  if (gzip) res.set_header("Content-Encoding", "gzip");
  const std::string_view body = gzip ? asset->gzip : asset->identity;
  res.set_content(body.data(), body.size(), std::string(asset->content_type));
}

}  // namespace quayd
