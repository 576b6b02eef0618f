// Tag policies: what keeps a registry from filling up and what keeps a
// released tag where it is (Quay's tag expiration, immutable tags,
// immutability policies and auto-prune policies). Value types only; the
// Registry (quay/registry.h) stores and enforces them.
//
// - A tag *expiration* is a time at which a live tag ends by itself: it
//   leaves the tag list and /v2 resolution then, stays restorable for the
//   recovery window like a deleted tag, and is collected by GC after it.
// - An *immutable* tag cannot be moved, deleted or given an expiration
//   until it is made mutable again (Quay: admin only).
// - An *immutability policy* makes every tag of a namespace or repository
//   whose name matches (or, with tag_pattern_matches false, does not match)
//   its pattern immutable, on creation and retroactively.
// - An *auto-prune policy* expires tags beyond the newest N, or older than a
//   duration, optionally only those whose name matches a pattern.
//
// Patterns are ECMAScript regular expressions matched against the whole
// tag name (Quay: Python's regex fullmatch), at most 256 bytes.
//
// Thread safety: values; safe to copy and move between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "quay/export.h"

namespace quay {

// Where a policy applies: a namespace (an existing user or organization),
// or one repository ("ns/name") when `repository` is set.
struct PolicyScope {
  std::string namespace_name;
  std::string repository;  // empty: the whole namespace
};

// Quay's NamespaceImmutabilityPolicy / RepositoryImmutabilityPolicy.
struct ImmutabilityPolicy {
  std::string uuid;  // assigned on creation
  std::string tag_pattern;
  bool tag_pattern_matches = true;
};

// Quay's auto-prune methods.
enum class AutoPruneMethod : unsigned char {
  kNumberOfTags,  // keep the `value` newest tags
  kCreationDate,  // keep tags created within `value` (a duration: "7d")
};

// "number_of_tags" / "creation_date".
QUAY_EXPORT std::string_view AutoPruneMethodName(AutoPruneMethod method);

// Quay's NamespaceAutoPrunePolicy / RepositoryAutoPrunePolicy.
struct AutoPrunePolicy {
  std::string uuid;  // assigned on creation
  AutoPruneMethod method = AutoPruneMethod::kNumberOfTags;
  // kNumberOfTags: the count as decimal text ("10"); kCreationDate: a
  // duration in Quay's format ("30m", "12h", "7d", "2w").
  std::string value;
  std::optional<std::string> tag_pattern;  // empty: every tag
  bool tag_pattern_matches = true;
};

// What one auto-prune pass did.
struct AutoPruneReport {
  uint64_t policies = 0;      // policies applied
  uint64_t repositories = 0;  // repositories examined
  uint64_t tags_pruned = 0;   // tags ended (restorable for the recovery window)
};

// Quay's duration strings (util/timedeltastring.py): a positive decimal
// number followed by s, m, h, d, w or y ("2h", "1d", "3w"). Empty for
// anything else (no number, no unit, zero, overflow).
QUAY_EXPORT std::optional<std::chrono::seconds> ParseQuayDuration(std::string_view text);

}  // namespace quay
