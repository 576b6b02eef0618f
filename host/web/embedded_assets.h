// The web UI's assets, compiled into quayd by host/web/embed_assets.py
// (a Meson custom target over host/web/assets/). Immutable data: safe to read
// from any thread.
#pragma once

#include <span>
#include <string_view>

namespace quayd {

struct EmbeddedAsset {
  std::string_view name;          // file name in host/web/assets, e.g. "app.js"
  std::string_view hashed_name;   // "app.1a2b3c4d5e.js"; "index.html" for the page itself
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view digest;        // hex prefix of the SHA-256 of `identity`
  std::string_view identity;      // the bytes as served without Content-Encoding
  std::string_view gzip;          // the same bytes gzip-compressed (deterministic)
};

// Every embedded asset, sorted by name.
std::span<const EmbeddedAsset> EmbeddedAssets();

}  // namespace quayd
