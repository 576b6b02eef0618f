// Serves the embedded web UI: GET/HEAD of "/", of the UI's own client-side
// routes (answered with index.html: the page's router takes it from there)
// and of /static/ assets. It owns no other path, so it never shadows /v2,
// /api, /oauth, /csrf_token or anything added later outside its prefixes.
//
// Assets go out gzip-compressed when the request accepts gzip, as is
// otherwise; with a strong ETag per encoding (If-None-Match answers 304),
// `immutable` caching under their content-hashed names and revalidation
// under their plain names and for the page. Every answer carries a strict
// Content-Security-Policy (scripts, styles and connections from this origin
// only, no inline script) and X-Content-Type-Options: nosniff.
//
// Stateless after construction; Serve may run on any number of threads.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "host/web/embedded_assets.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace quayd {

class AssetServer {
 public:
  // The assets to serve (the compiled-in ones by default; tests pass others).
  // One of them must be named index.html.
  explicit AssetServer(std::span<const EmbeddedAsset> assets = EmbeddedAssets());

  // True when the request is the UI's: GET or HEAD of "/", of /static/...,
  // or of a path under one of the UI's route prefixes (/signin, /repository,
  // /organization, /user, /superuser, ...).
  static bool Owns(std::string_view method, std::string_view path);

  // Answers a request Owns() accepted: the asset, 304, or 404 for an
  // unknown /static/ name.
  void Serve(const httplib::Request& req, httplib::Response& res) const;

  // The path of an asset under its hashed name ("/static/app.1a2b3c4d5e.css"),
  // or empty when there is no such asset.
  std::string HashedPath(std::string_view name) const;

  // The page's Content-Security-Policy.
  static std::string_view ContentSecurityPolicy();

 private:
  struct Entry {
    const EmbeddedAsset* asset;
    bool immutable;
  };
  std::unordered_map<std::string_view, Entry> by_path_;
  const EmbeddedAsset* index_ = nullptr;
};

// True when an Accept-Encoding header value accepts gzip (a "gzip" or "*"
// coding whose q is not 0, and no "gzip;q=0").
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace quayd
