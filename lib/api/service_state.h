// What the identity service, its Authorizer, audit log and signing-key store
// share: options, clock, the database and the stores on it. Held by
// shared_ptr so the Authorizer a host keeps stays valid on its own.
// Internal to lib/api.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "db/audit_store.h"
#include "db/database.h"
#include "db/identity_store.h"
#include "db/signing_key_store.h"
#include "quay/audit.h"
#include "quay/clock.h"
#include "quay/logger.h"
#include "quay/options.h"

namespace quay::api {

struct ServiceState {
  ServiceState(const Options& opts, std::shared_ptr<db::Database> database)
      : options(opts),
        clock(opts.clock ? opts.clock : Clock::System()),
        logger(opts.logger ? opts.logger : Logger::Discard()),
        db(std::move(database)),
        identity(db->connections()),
        audit(db->connections()),
        keys(db->connections()) {}

  int64_t NowMicros() const;

  // The store of the events database (db::OpenAuditEventsDatabase) beside
  // `db`, opened on first use.
  Result<db::AuditStore*> Events();
  // Where appenders keep their journals: beside the database file, or a
  // private temporary folder for an in-memory database.
  Result<std::filesystem::path> JournalRoot();

  Options options;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<Logger> logger;
  std::shared_ptr<db::Database> db;
  db::IdentityStore identity;
  db::AuditStore audit;
  db::SigningKeyRows keys;

 private:
  std::mutex events_mu_;
  std::unique_ptr<db::ConnectionPool> events_pool_;
  std::unique_ptr<db::AuditStore> events_;
  std::filesystem::path temp_journal_root_;  // removed with the state

 public:
  ~ServiceState();
};

int64_t ToMicros(Clock::TimePoint t);
Clock::TimePoint FromMicros(int64_t micros);

// Audit rows from public events and back. `now` fills an unset time.
db::AuditRow ToAuditRow(const AuditEvent& event, int64_t now);
// The same, taking the event's strings instead of copying them.
db::AuditRow ToAuditRow(AuditEvent&& event, int64_t now);
AuditEvent FromAuditRow(db::AuditRow&& row);

// The audit row of a mutation by `actor`: namespace given explicitly (the
// org, user or repository namespace the event belongs to).
db::AuditRow AuditRowFor(const ServiceState& state, const Actor& actor, std::string kind,
                         std::string namespace_name, std::string repository, std::string metadata);

// InvalidArgument unless `metadata` is a JSON object.
Status ValidateMetadata(std::string_view metadata);

}  // namespace quay::api
