// What a store's UploadWriter may offer beyond quay::UploadWriter so that a
// large upload is hashed from the writer's own staging buffers rather than
// from a copy made for a hashing thread (issue 15). Internal to the library,
// like synced_size.h: a writer without it is hashed by the registry as before.
#pragma once

#include <optional>

#include "quay/digest.h"

namespace quay::storage {

class HashingWriter {
 public:
  virtual ~HashingWriter() = default;
  // Takes over `digester` (the state of every byte appended so far) and feeds
  // it every byte appended from now on. False, leaving `digester` alone, if
  // this writer cannot (no staging buffers: the page-cache path).
  virtual bool HashAppends(Digester& digester) = 0;
  // Gives the state back, covering every byte appended; nullopt if the
  // writer is not hashing (never asked, or spent).
  virtual std::optional<Digester> TakeDigester() = 0;
};

}  // namespace quay::storage
