// The audit log: who did what to which namespace or repository, when, from
// where. Kinds are Quay's LogEntryKind names ("push_repo", "create_robot",
// ...; reference/quay-api.md Appendix B), so logs read the same as Quay's.
//
// Writing. Every mutating IdentityService call writes its row in the same
// database transaction as the change: if the audit row cannot be written the
// change does not happen (Quay's strict logging). Registry events (push,
// pull, tag changes) are recorded by the host: Record() for strict rows, or an
// AuditAppender for high-volume pull_repo/push_repo rows that must not slow
// the request path.
//
// Reading. Query() pages newest first with an opaque keyset cursor; filters
// combine with AND. Aggregate() counts rows per kind per UTC day.
//
// Thread safety: AuditLog and AuditAppender are safe to use from many threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quay/access.h"
#include "quay/clock.h"
#include "quay/export.h"
#include "quay/status.h"

namespace quay {

// The request a mutation happens in: who, from which address, which request
// id. Every mutating IdentityService call takes one and writes it into the
// audit row.
struct Actor {
  Principal principal;
  std::string ip;          // performer address; empty if unknown
  std::string request_id;  // the host's request id; empty if none
};

struct AuditEvent {
  int64_t id = 0;    // assigned when written; ignored by Record()
  std::string kind;  // Quay LogEntryKind name, e.g. "push_repo"
  // When it happened. Left at the epoch, Record() uses the injected clock.
  Clock::TimePoint time{};
  // The account the event belongs to (Quay's `account`): the repository's
  // namespace, the organization, or the user. Record() derives it from
  // `repository` when empty.
  std::string namespace_name;
  std::string repository;  // full name "ns/repo"; empty when not about one
  // The performer: the principal's kind, its name (the token's user for
  // tokens; empty for anonymous) and, for tokens, the token kind and id.
  Principal::Kind performer_kind = Principal::Kind::kAnonymous;
  std::string performer;
  Principal::TokenKind token_kind = Principal::TokenKind::kNone;
  std::string token_id;
  std::string ip;
  std::string request_id;
  // Kind-specific data as a JSON object text (Quay's metadata_json); "{}"
  // when empty. Record() rejects text that is not a JSON object.
  std::string metadata = "{}";

  // An event performed by `actor`; namespace derived from `repository`.
  static AuditEvent By(const Actor& actor, std::string kind, std::string repository = {},
                       std::string metadata = "{}");
};

// A JSON object of string values, escaped: AuditMetadata({{"tag", "v1"}}).
QUAY_EXPORT std::string AuditMetadata(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields);

// The namespace of a repository name: its first path component ("" when the
// name has no '/').
QUAY_EXPORT std::string_view NamespaceOf(std::string_view repository);

struct AuditQuery {
  std::string repository;                 // non-empty: only this repository's rows
  std::string namespace_name;             // non-empty: only this namespace's rows
  std::string performer;                  // non-empty: only rows performed by this name
  std::optional<Clock::TimePoint> since;  // inclusive
  std::optional<Clock::TimePoint> until;  // exclusive
  std::vector<std::string> kinds;         // non-empty: only these kinds
  size_t limit = 20;                      // rows per page (Quay: 20); 0 = 20
  std::string page;                       // the previous page's next_page; empty = newest first
};

struct AuditPage {
  std::vector<AuditEvent> events;  // newest first (time, then id)
  std::string next_page;           // empty when there are no older rows
};

struct AuditCount {
  std::string kind;
  Clock::TimePoint day;  // midnight UTC starting the day
  uint64_t count = 0;
};

struct AuditAppenderOptions {
  // Events queued and not yet written; Append() drops (and counts) beyond
  // it rather than block a pull. Default: 10000.
  size_t capacity = 10000;
  // Rows written per transaction at most while the writer keeps up. Default:
  // 64: enough to amortize a commit, short enough (~0.6 ms of CPU) that pulls
  // competing for the same cores do not queue behind a long burst. With a
  // backlog of more than 4 batches, transactions take up to 8 batches.
  size_t batch_size = 64;
};

// Asynchronous, batched writer for high-volume events (pull_repo, push_repo).
// A background thread writes whatever has queued while the previous batch
// was being written, so batches grow with load and no timer is involved.
// Destruction flushes everything queued, then stops the thread.
class QUAY_EXPORT AuditAppender {
 public:
  virtual ~AuditAppender() = default;
  // Queues the event (its time is taken now if unset). Never blocks on the
  // database; false when the queue is full and the event was dropped.
  virtual bool Append(AuditEvent event) = 0;
  // Blocks until every event appended before the call has been written or
  // failed. The error of the first failed batch since the last Flush (rows of
  // a failed batch are lost and counted in failed()).
  virtual Status Flush() = 0;
  virtual uint64_t dropped() const = 0;  // rejected by a full queue
  virtual uint64_t failed() const = 0;   // lost in a failed batch write
};

class QUAY_EXPORT AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Writes one row now. InvalidArgument for an empty kind or metadata that is
  // not a JSON object; Unavailable/Internal on database failure.
  virtual Status Record(const AuditEvent& event) = 0;
  // One page of rows matching every filter. InvalidArgument for a malformed
  // page cursor.
  virtual Result<AuditPage> Query(const AuditQuery& query) = 0;
  // Row counts per (kind, UTC day) for the query's filters (limit and page are
  // ignored), ordered by day then kind.
  virtual Result<std::vector<AuditCount>> Aggregate(const AuditQuery& query) = 0;
  // A new asynchronous appender writing to this log's database (which it
  // keeps open; it may outlive the log object).
  virtual std::unique_ptr<AuditAppender> NewAppender(const AuditAppenderOptions& options) = 0;
};

}  // namespace quay
