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

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
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

struct QUAY_EXPORT AuditEvent {
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

// An event by reference, for the hot path (a pull): AuditAppender::AppendView
// copies the fields once, into its journal buffer, and the metadata fields
// become a JSON object of string values only when the event is indexed, on
// the appender's idle-priority thread. Everything must outlive the call only.
struct AuditEventView {
  std::string_view kind;
  std::string_view repository;           // full name "ns/repo"; may be empty
  std::string_view namespace_name;       // empty: the repository's namespace
  const Principal* performer = nullptr;  // null: anonymous
  std::string_view ip;
  std::string_view request_id;
  Clock::TimePoint time{};  // the epoch: now
  std::span<const std::pair<std::string_view, std::string_view>> metadata;
};

// A manifest pull (pull_repo) or push (push_repo) as Quay writes it
// (track_and_log, reference/quay-api.md Appendix B): the row's repository
// and namespace, the performer, address and request id as columns, and the
// metadata keys repo, namespace, tag (only when the client named a tag, not
// a digest), manifest_digest, mediaType and user-agent (at most 256 bytes).
// Every protocol binding and embedder records these through one type so the
// rows read the same. It holds views only - nothing is allocated or copied -
// so every argument must outlive it; view() is what AuditAppender::AppendView
// takes, ToEvent() an owning AuditEvent for AuditLog::Record or Append.
// Neither copyable nor movable (view() points into the object).
class QUAY_EXPORT ManifestAuditEvent {
 public:
  enum class Kind : unsigned char { kPull, kPush };
  struct Fields {
    const Principal* performer = nullptr;  // null: anonymous
    std::string_view ip;
    std::string_view request_id;
    std::string_view repository;       // full name "ns/repo"
    std::string_view reference;        // the tag or digest the client named
    std::string_view manifest_digest;  // "sha256:..."
    std::string_view media_type;
    std::string_view user_agent;  // cut to 256 bytes
  };
  ManifestAuditEvent(Kind kind, const Fields& fields);
  ManifestAuditEvent(const ManifestAuditEvent&) = delete;
  ManifestAuditEvent& operator=(const ManifestAuditEvent&) = delete;

  // "pull_repo" or "push_repo".
  static std::string_view KindName(Kind kind);

  const AuditEventView& view() const { return view_; }
  AuditEvent ToEvent() const;

 private:
  std::array<std::pair<std::string_view, std::string_view>, 6> metadata_;
  AuditEventView view_;
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
  // Events not yet in the journal; Append() drops (and counts) beyond it
  // rather than block a pull. Default: 10000 (the journal is written every
  // few milliseconds).
  size_t capacity = 10000;
  // Rows indexed per transaction at most while the indexer keeps up (up to 8
  // batches when it is behind). Default: 64.
  size_t batch_size = 64;
  // Journal bytes not yet indexed beyond which indexing stops waiting for
  // idle CPU: the writer thread indexes too, at normal priority, and pulls
  // share the cost again. Default: 64 MiB (about 250,000 pulls).
  uint64_t backlog_bytes = uint64_t{1} << 30;
};

// Asynchronous writer for high-volume events (pull_repo, push_repo, logins).
// Append() copies the event into a buffer; a background thread appends the
// buffer to a journal file next to the database every few milliseconds, and
// a thread of idle priority (SCHED_IDLE) moves journaled events into the
// audit log's database, using CPU time requests leave unused. Queries see an
// event once it is indexed; Flush() indexes everything at once. A crash
// loses at most the last few milliseconds not yet in the journal; a journal
// left behind is indexed by the next appender opened on the same database.
// Destruction writes everything appended to the journal and, unless more
// than 64 MiB of it is still unindexed (a long saturation), indexes it too;
// a larger backlog is left to the next appender on the same database.
class QUAY_EXPORT AuditAppender {
 public:
  virtual ~AuditAppender() = default;
  // Queues the event (its time is taken now if unset). Never blocks on the
  // database or the disk; false when the buffer is full and the event was
  // dropped (counted in dropped()), or its kind is empty, or the journal
  // could not be opened (counted in failed()). Metadata that is not a JSON
  // object is found when the event is indexed: the event is dropped then,
  // logged and counted in failed().
  virtual bool Append(AuditEvent event) = 0;
  // The same for an event by reference (see AuditEventView): no AuditEvent,
  // metadata text or validation on the caller's thread.
  virtual bool AppendView(const AuditEventView& event) = 0;
  // Blocks until every event appended before the call is in the journal and
  // every journaled event is indexed. The first error since the last Flush:
  // a failed journal write (those events are lost and counted in failed()),
  // or a failed index transaction (those events stay in the journal and are
  // indexed again later).
  virtual Status Flush() = 0;
  // Bytes of events accepted and not yet indexed (buffered or in the
  // journal): what a metrics scrape shows as the audit backlog.
  virtual uint64_t backlog_bytes() const = 0;
  virtual uint64_t dropped() const = 0;  // rejected by a full buffer
  virtual uint64_t failed() const = 0;   // invalid, or lost in a failed journal write
};

class QUAY_EXPORT AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Writes one row now. InvalidArgument for an empty kind or metadata that is
  // not a JSON object; Unavailable/Internal on database failure.
  virtual Status Record(const AuditEvent& event) = 0;
  // One page of rows matching every filter. InvalidArgument for a malformed
  // page cursor.
  Result<AuditPage> Query(const AuditQuery& query) {
    auto page = SharedQuery(query);
    if (!page.ok()) return page.status();
    return **page;
  }
  // The same page, shared and immutable. Pages are cached: while no row was
  // written (by this process; another process's rows within a second) and
  // nothing else changed, the same query returns the same object, so a
  // caller may keep what it derives from a page (rendered JSON) keyed by the
  // pointer.
  virtual Result<std::shared_ptr<const AuditPage>> SharedQuery(const AuditQuery& query) = 0;
  // Row counts per (kind, UTC day) for the query's filters (limit and page are
  // ignored), ordered by day then kind.
  virtual Result<std::vector<AuditCount>> Aggregate(const AuditQuery& query) = 0;
  // A new asynchronous appender writing to this log's database (which it
  // keeps open; it may outlive the log object). Its events go to a second
  // database beside the main one (<stem>-audit.db; queries read both), so
  // that indexing them never holds a lock a mutation waits for.
  virtual std::unique_ptr<AuditAppender> NewAppender(const AuditAppenderOptions& options) = 0;
};

}  // namespace quay
