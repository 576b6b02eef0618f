// libsodium must be initialized once before use (it picks implementations
// and seeds its generator); every caller in lib/auth goes through this.
#pragma once

namespace quay::auth {

// Thread-safe and idempotent. Aborts if libsodium cannot initialize: without
// a working CSPRNG no secret may be issued.
void EnsureSodium();

}  // namespace quay::auth
