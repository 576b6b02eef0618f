#include "db/postgres_connection.h"

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "db/postgres_sql.h"

namespace quay::db {
namespace {

// Type OIDs (pg_type.h is a server header; these values are fixed).
constexpr Oid kUnknownOid = 0;
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

[[noreturn]] void ThrowResult(PGresult* res, pg_conn* conn) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  if (message.empty()) message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  std::string sqlstate = state != nullptr ? state : "";
  if (sqlstate.empty() && PQstatus(conn) == CONNECTION_BAD) sqlstate = "08006";
  if (res != nullptr) PQclear(res);
  throw PostgresError(std::move(sqlstate), message);
}

void CheckCommand(PGresult* res, pg_conn* conn) {
  const ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) ThrowResult(res, conn);
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

// bytea's text output ("\x" then two hex digits per byte).
std::string DecodeBytea(const char* v, int len) {
  std::string out;
  if (len >= 2 && v[0] == '\\' && v[1] == 'x') {
    out.reserve(static_cast<size_t>(len - 2) / 2);
    for (int i = 2; i + 1 < len; i += 2) {
      out.push_back(static_cast<char>(Hex(v[i]) << 4 | Hex(v[i + 1])));
    }
  } else {
    out.assign(v, static_cast<size_t>(len));
  }
  return out;
}

// The N of the first "$N" in a server message; 0 if there is none.
size_t NamedParameter(const char* message) {
  const char* dollar = message != nullptr ? std::strchr(message, '$') : nullptr;
  return dollar != nullptr ? static_cast<size_t>(std::strtoul(dollar + 1, nullptr, 10)) : 0;
}

class PostgresStatement final : public Statement {
 public:
  PostgresStatement(PostgresConnection& c, PostgresSql sql)
      : c_(c), sql_(std::move(sql)), params_(static_cast<size_t>(sql_.parameters)) {}
  ~PostgresStatement() override { Clear(); }

  void bind(int i, int32_t v) override { SetInt(i, v); }
  void bind(int i, uint32_t v) override { SetInt(i, v); }
  void bind(int i, int64_t v) override { SetInt(i, v); }
  void bind(int i, const std::string& v) override { Set(i, std::string(v), kUnknownOid, 0); }
  void bind(int i, const char* v) override { Set(i, std::string(v), kUnknownOid, 0); }
  void bind(int i, const void* blob, int size) override {
    Set(i, std::string(static_cast<const char*>(blob), static_cast<size_t>(size)), kByteaOid, 1);
  }
  void bind(int i) override { At(i) = Param{}; }
  void bindNullInt64(int i) override {
    At(i) = Param{};
    At(i).type = kInt8Oid;
  }
  // libpq copies the values while sending; a copy here costs one memcpy.
  void bindNoCopy(int i, const std::string& v) override { bind(i, v); }
  void bindNoCopy(int i, const void* blob, int size) override { bind(i, blob, size); }

  int getIndex(const char* name) override {
    for (size_t i = 0; i < sql_.names.size(); ++i) {
      if (sql_.names[i] == name) return static_cast<int>(i) + 1;
    }
    return 0;
  }
  bool executeStep() override {
    if (res_ == nullptr) Run();
    ++row_;
    decoded_.clear();
    return row_ < PQntuples(res_);
  }
  int exec() override {
    Run();
    const char* n = PQcmdTuples(res_);
    const int changed = (n != nullptr && *n != '\0') ? std::atoi(n) : 0;
    Clear();
    return changed;
  }
  void Reset() noexcept override {
    Clear();
    for (Param& p : params_) p = Param{};
  }

  bool ColumnIsNull(int i) override { return PQgetisnull(res_, row_, Checked(i)) != 0; }
  int64_t ColumnInt64(int i) override {
    const char* v = PQgetvalue(res_, row_, Checked(i));
    if (PQftype(res_, i) == kBoolOid) return v[0] == 't' ? 1 : 0;
    return std::strtoll(v, nullptr, 10);
  }
  std::string ColumnString(int i) override {
    Checked(i);
    if (PQgetisnull(res_, row_, i)) return {};
    const Oid type = PQftype(res_, i);
    if (type == kBoolOid) return PQgetvalue(res_, row_, i)[0] == 't' ? "1" : "0";
    if (type == kByteaOid) return Decoded(i);
    return std::string(PQgetvalue(res_, row_, i), static_cast<size_t>(PQgetlength(res_, row_, i)));
  }
  const void* ColumnBlob(int i) override {
    Checked(i);
    if (PQftype(res_, i) == kByteaOid) return Decoded(i).data();
    return PQgetvalue(res_, row_, i);
  }
  int ColumnBytes(int i) override {
    Checked(i);
    if (PQftype(res_, i) == kByteaOid) return static_cast<int>(Decoded(i).size());
    return PQgetlength(res_, row_, i);
  }

 private:
  struct Param {
    bool null = true;
    std::string value;
    Oid type = kUnknownOid;
    int format = 0;  // 0 text, 1 binary
  };

  Param& At(int i) {
    if (i < 1 || static_cast<size_t>(i) > params_.size()) {
      throw PostgresError("08P01", "parameter index " + std::to_string(i) + " out of range");
    }
    return params_[static_cast<size_t>(i) - 1];
  }
  void Set(int i, std::string v, Oid type, int format) {
    Param& p = At(i);
    p.null = false;
    p.value = std::move(v);
    p.type = type;
    p.format = format;
  }
  template <typename T>
  void SetInt(int i, T v) {
    Set(i, std::to_string(v), kInt8Oid, 0);
  }

  int Checked(int i) const {
    if (res_ == nullptr || row_ < 0 || row_ >= PQntuples(res_) || i < 0 || i >= PQnfields(res_)) {
      throw PostgresError("08P01", "column " + std::to_string(i) + " read without a row");
    }
    return i;
  }
  const std::string& Decoded(int i) {
    auto it = decoded_.find(i);
    if (it == decoded_.end()) {
      it = decoded_.emplace(i, DecodeBytea(PQgetvalue(res_, row_, i), PQgetlength(res_, row_, i)))
               .first;
    }
    return it->second;
  }

  void Clear() noexcept {
    if (res_ != nullptr) PQclear(res_);
    res_ = nullptr;
    row_ = -1;
    decoded_.clear();
  }

  // The statement's server-side name for the types bound now. Integers are
  // sent as int8 and blobs as bytea; text goes untyped so that the server
  // reads it as whatever the column is, except where the SQL gives it no
  // type to take (`? IS NULL`): then it is text.
  const std::string& PreparedName() {
    if (prepared_session_ != c_.session()) {
      prepared_.clear();
      prepared_session_ = c_.session();
    }
    std::string signature;
    signature.reserve(params_.size());
    for (const Param& p : params_)
      signature.push_back(static_cast<char>((p.null ? 'A' : 'a') + p.type % 26));
    auto it = prepared_.find(signature);
    if (it != prepared_.end()) return it->second;
    std::vector<Oid> types;
    types.reserve(params_.size());
    for (const Param& p : params_) types.push_back(p.type);
    std::string name = c_.NextStatementName();
    // A failed PREPARE aborts the transaction it runs in; the retries below
    // must not cost the caller's transaction, so inside one they run under
    // a savepoint (once per statement, signature and session).
    const bool in_transaction = PQtransactionStatus(c_.raw()) == PQTRANS_INTRANS;
    if (in_transaction) c_.Exec("SAVEPOINT quay_prepare");
    PGresult* res = PQprepare(c_.raw(), name.c_str(), sql_.text.c_str(),
                              static_cast<int>(types.size()), types.data());
    // Each failure for want of a type names one parameter ("... parameter
    // $N"), which is retried as text; an ambiguous operator names none, and
    // then every untyped parameter becomes text. (Once per statement and
    // signature; nothing is retried more often than there are parameters.)
    for (size_t attempt = 0; PQresultStatus(res) != PGRES_COMMAND_OK; ++attempt) {
      const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
      const std::string_view code = state != nullptr ? state : "";
      // 42P18: a parameter whose type nothing determines; 42P08: one given
      // two types; 42725: an operator an untyped parameter leaves ambiguous.
      if (attempt > types.size() || (code != "42P18" && code != "42P08" && code != "42725")) {
        ThrowResult(res, c_.raw());
      }
      const size_t named = NamedParameter(PQresultErrorMessage(res));
      PQclear(res);
      if (in_transaction) c_.Exec("ROLLBACK TO SAVEPOINT quay_prepare");
      if (named >= 1 && named <= types.size() && types[named - 1] == kUnknownOid) {
        types[named - 1] = kTextOid;
      } else {
        for (Oid& t : types) {
          if (t == kUnknownOid) t = kTextOid;
        }
      }
      res = PQprepare(c_.raw(), name.c_str(), sql_.text.c_str(), static_cast<int>(types.size()),
                      types.data());
    }
    PQclear(res);
    if (in_transaction) c_.Exec("RELEASE SAVEPOINT quay_prepare");
    return prepared_.emplace(std::move(signature), std::move(name)).first->second;
  }

  void Run() {
    try {
      RunOnce();
    } catch (const PostgresError& e) {
      // QUAY_PG_TRACE_ERRORS=1: each failing statement's text (never its
      // parameters, which may hold secrets) on stderr, for diagnosis.
      static const bool trace = std::getenv("QUAY_PG_TRACE_ERRORS") != nullptr;
      if (trace)
        std::fprintf(stderr, "postgres %s: %s\n  in: %s\n", e.sqlstate().c_str(), e.what(),
                     sql_.text.c_str());
      throw;
    }
  }

  void RunOnce() {
    Clear();
    c_.EnsureSession();
    const std::string& name = PreparedName();
    std::vector<const char*> values(params_.size());
    std::vector<int> lengths(params_.size());
    std::vector<int> formats(params_.size());
    for (size_t i = 0; i < params_.size(); ++i) {
      const Param& p = params_[i];
      values[i] = p.null ? nullptr : p.value.data();
      lengths[i] = static_cast<int>(p.value.size());
      formats[i] = p.format;
    }
    PGresult* res = PQexecPrepared(c_.raw(), name.c_str(), static_cast<int>(params_.size()),
                                   values.data(), lengths.data(), formats.data(), 0);
    CheckCommand(res, c_.raw());
    res_ = res;
  }

  PostgresConnection& c_;
  PostgresSql sql_;
  std::vector<Param> params_;
  std::map<std::string, std::string> prepared_;  // type signature -> name
  uint64_t prepared_session_ = 0;
  PGresult* res_ = nullptr;
  int row_ = -1;
  std::map<int, std::string> decoded_;  // bytea columns of the current row
};

// libpq prints NOTICEs to stderr by default; the library never writes there.
void IgnoreNotice(void*, const char*) {}

}  // namespace

PostgresConnection::PostgresConnection(const std::string& uri, bool read_only, bool durable)
    : read_only_(read_only), durable_(durable) {
  conn_ = PQconnectdb(uri.c_str());
  if (conn_ == nullptr) throw PostgresError("08001", "cannot allocate a PostgreSQL connection");
  if (PQstatus(conn_) != CONNECTION_OK) {
    // libpq's message names the host and the reason, never the password.
    std::string message = PQerrorMessage(conn_);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    PQfinish(conn_);
    conn_ = nullptr;
    throw PostgresError("08001", "cannot connect to PostgreSQL: " + message);
  }
  PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr);
  Configure();
}

PostgresConnection::~PostgresConnection() {
  DropStatements();
  if (conn_ != nullptr) PQfinish(conn_);
}

void PostgresConnection::Configure() {
  std::string sql = "SET client_min_messages = warning; SET lock_timeout = " +
                    std::to_string(busy_timeout_.count()) + "; SET synchronous_commit = ";
  sql += durable_ && sync_ == Sync::kDurable ? "on" : "off";
  if (read_only_) sql += "; SET default_transaction_read_only = on";
  Exec(sql);
}

bool PostgresConnection::EnsureSession() {
  if (PQstatus(conn_) == CONNECTION_OK) return true;
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) return false;
  ++session_;
  PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr);
  Configure();
  return true;
}

void PostgresConnection::Exec(const std::string& sql) {
  PGresult* res = PQexec(conn_, sql.c_str());
  CheckCommand(res, conn_);
  PQclear(res);
}

void PostgresConnection::BeginWrite() {
  EnsureSession();
  // One round trip: BEGIN and the writers' lock.
  Exec("BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kWriterLockKey) + ")");
}

void PostgresConnection::BeginRead() {
  EnsureSession();
  // One snapshot for every statement of the transaction, as SQLite's.
  Exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
}

void PostgresConnection::SetSynchronous(Sync mode) {
  if (mode == sync_ || !durable_) return;
  Exec(mode == Sync::kDurable ? "SET synchronous_commit = on" : "SET synchronous_commit = off");
  sync_ = mode;
}

void PostgresConnection::SetBusyTimeout(std::chrono::milliseconds timeout) {
  busy_timeout_ = timeout;
  Exec("SET lock_timeout = " + std::to_string(timeout.count()));
}

std::unique_ptr<Statement> PostgresConnection::NewStatement(const char* sql, const char* postgres) {
  return std::make_unique<PostgresStatement>(
      *this, postgres != nullptr ? NumberParameters(postgres) : TranslateForPostgres(sql));
}

}  // namespace quay::db
