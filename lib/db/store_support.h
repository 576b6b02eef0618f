// How the identity, audit and signing-key stores run their SQL on the shared
// ConnectionPool: reads on a pooled reader, writes on the writer under its
// lock, exceptions turned into Status values. Internal to lib/db.
#pragma once

#include <exception>
#include <utility>

#include "db/connection.h"
#include "db/sql_support.h"
#include "quay/status.h"

namespace quay::db {

template <typename T, typename F>
Result<T> ReadOn(ConnectionPool& pool, F&& f) {
  try {
    auto lease = pool.AcquireReader();
    return Result<T>(f(*lease));
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

// Whether a write may change what read caches hold. Identity rows do; audit
// rows do not, and must not flush the caches at pull rate (the appender
// passes kNone). Rare writes that change nothing cached (signing keys) keep
// the default: a spare invalidation costs a few cache misses.
enum class CacheEffect : unsigned char { kInvalidates, kNone };

// `f` runs on the writer inside a write transaction that commits when `f`
// returns an OK status (or a value) and rolls back when it returns an error
// or throws.
template <typename T, typename F>
Result<T> WriteOn(ConnectionPool& pool, F&& f, CacheEffect effect = CacheEffect::kInvalidates) {
  try {
    auto lock = pool.LockWriter();
    Connection& c = pool.writer();
    c.SetSynchronous(Connection::Sync::kDurable);
    WriteTransaction txn(c);
    Result<T> out = f(c);
    if (out.ok()) {
      txn.Commit();
      if (effect == CacheEffect::kInvalidates) pool.InvalidateCaches();
    }
    return out;
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

// A Result-less flavour for writes that return only a Status.
template <typename F>
Status WriteStatusOn(ConnectionPool& pool, F&& f, CacheEffect effect = CacheEffect::kInvalidates,
                     Connection::Sync sync = Connection::Sync::kDurable) {
  try {
    auto lock = pool.LockWriter();
    Connection& c = pool.writer();
    c.SetSynchronous(sync);
    WriteTransaction txn(c);
    Status s = f(c);
    if (s.ok()) {
      txn.Commit();
      if (effect == CacheEffect::kInvalidates) pool.InvalidateCaches();
    }
    return s;
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

}  // namespace quay::db
